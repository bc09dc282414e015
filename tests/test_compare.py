"""Value comparison by the meaning of the declared data type."""

from __future__ import annotations

import polars as pl

from audit.core.compare import PropertyCheck, compare_linked


def _compare(source: list, target: list, **kw) -> pl.DataFrame:
    frame = pl.DataFrame({"s": source, "t": target}, strict=False)
    return compare_linked(frame, [PropertyCheck("p", "s", "t", **kw)])


def _eq(source, target, **kw):
    return _compare(source, target, **kw)["eq__p"].to_list()


def _typeok(source, target, **kw):
    return _compare(source, target, **kw)["typeok__p"].to_list()


def test_v1_midnight_timestamp_equals_v2_date():
    assert _eq(["1985-03-14T00:00:00"], ["1985-03-14"], date=True) == [1]


def test_dates_on_different_days_differ():
    assert _eq(["1985-03-14T00:00:00"], ["1985-03-15"], date=True) == [0]


def test_leading_zero_makes_a_different_zip_code():
    assert _eq(["0150"], ["150"]) == [0]


def test_number_where_string_is_declared_is_not_a_type_violation():
    frame = pl.DataFrame({"s": ["150"], "t": [150]})
    out = compare_linked(frame, [PropertyCheck("p", "s", "t", datatype="string")])
    assert out.row(0, named=True)["eq__p"] == 1 and out.row(0, named=True)["typeok__p"] == 1


def test_text_where_integer_is_declared_is_a_type_violation():
    assert _typeok(["abc"], ["abc"], datatype="integer") == [0]


def test_digits_text_is_an_integer_equal_to_the_number():
    frame = pl.DataFrame({"s": [7], "t": ["007"]})
    out = compare_linked(frame, [PropertyCheck("p", "s", "t", datatype="integer")])
    assert out.row(0, named=True)["eq__p"] == 1 and out.row(0, named=True)["typeok__p"] == 1


def test_bad_typed_target_that_also_differs_is_a_mismatch_too():
    frame = pl.DataFrame({"s": [5], "t": ["abc"]})
    out = compare_linked(frame, [PropertyCheck("p", "s", "t", datatype="integer")])
    assert (out["eq__p"][0], out["typeok__p"][0]) == (0, 0)


def test_empty_string_equals_missing_by_default():
    assert _eq(["", None], [None, ""]) == [1, 1]


def test_empty_string_differs_from_missing_when_the_policy_says_so():
    assert _eq(["", None], [None, ""], empty_equals_missing=False) == [0, 0]


def test_missing_target_value_has_no_type_to_check():
    assert _typeok(["5"], [None], datatype="integer") == [None]


def test_values_differ_in_case_unless_casefolded():
    assert _eq(["Kari@X.no"], ["kari@x.no"]) == [0]
    assert _eq(["Kari@X.no"], ["kari@x.no"], normalizers=("casefold",)) == [1]


def test_trim_ignores_surrounding_whitespace():
    assert _eq([" Oslo "], ["Oslo"]) == [0]
    assert _eq([" Oslo "], ["Oslo"], normalizers=("trim",)) == [1]


def test_decimals_compare_as_numbers():
    assert _eq(["10.50"], ["10.5"], datatype="decimal") == [1]


def test_boolean_text_compares_with_booleans():
    frame = pl.DataFrame({"s": [True, False], "t": ["TRUE", "yes"]})
    out = compare_linked(frame, [PropertyCheck("p", "s", "t", datatype="boolean")])
    assert out["eq__p"].to_list() == [1, 0] and out["typeok__p"].to_list() == [1, 0]


def test_condition_limits_the_check_to_matching_records():
    frame = pl.DataFrame({"s": ["a", "a"], "t": ["b", "b"], "c": ["wd:Q20", "wd:Q34"]})
    out = compare_linked(frame, [PropertyCheck("p", "s", "t", condition=(("c", ("wd:Q20",)),))])
    assert out["eq__p"].to_list() == [0, None]


def test_unevaluable_condition_checks_no_record():
    out = _compare(["a"], ["b"], condition_evaluable=False)
    assert out["eq__p"].to_list() == [None]


def test_unresolved_property_adds_no_compact_columns():
    frame = pl.DataFrame({"s": ["a"]})
    out = compare_linked(frame, [PropertyCheck("p", "s", None)])
    assert out.columns == ["s"]


def test_every_spelling_of_midnight_in_any_offset_is_the_date_and_other_times_are_not():
    midnight = ["1985-03-14T00:00:00", "1985-03-14 00:00:00", "1985-03-14T00:00:00.000", "1985-03-14T00:00:00Z",
                "1985-03-14T00:00:00+00:00", "1985-03-14T00:00:00-0000", " 1985-03-14 ",
                "1985-03-14T00:00:00+01:00", "1985-03-14T00:00"]  # fmt: skip
    assert _eq(midnight, ["1985-03-14"] * len(midnight), date=True) == [1] * len(midnight)
    other = ["1985-03-14T10:00:00", "14.03.1985", "1985-03-14T00:00:00.5+01:00"]
    assert _eq(other, ["1985-03-14"] * len(other), date=True) == [0] * len(other)


def test_a_norwegian_midnight_with_its_offset_is_the_date():
    assert _eq(["1985-03-14T00:00:00+01:00"], ["1985-03-14"], date=True) == [1]


def test_a_utc_stamp_of_norwegian_midnight_is_the_date_in_the_configured_zone():
    assert _eq(["1985-03-13T23:00:00Z", "1985-07-13T22:00:00Z"], ["1985-03-14", "1985-07-14"], date=True) == [1, 1]
    assert _eq(["1985-03-13T23:00:00Z"], ["1985-03-14"], date=True, zone="UTC") == [0]


def test_decimal_where_string_is_declared_stays_as_written():
    assert _eq(["150", "150.0"], ["150", "150"]) == [1, 0]


def test_150_equals_150_0_where_the_type_is_numeric():
    assert _eq(["150", "0150.50", "-0"], ["150.0", "150.5", "0.00"], datatype="decimal") == [1, 1, 1]
    assert _eq(["150"], ["150.0"], datatype="integer") == [1]


def test_integers_beyond_int64_are_compared_exactly():
    big = "123456789012345678901234567890"
    assert _eq([big, big], [big, big[:-1] + "1"], datatype="integer") == [1, 0]


def test_condition_values_follow_the_property_normalizers():
    frame = pl.DataFrame({"s": ["a", "a"], "t": ["b", "b"], "c": ["Person", "PERSON"]})
    check = PropertyCheck("p", "s", "t", normalizers=("casefold",), condition=(("c", ("person",)),))
    assert compare_linked(frame, [check])["eq__p"].to_list() == [0, 0]
    exact = PropertyCheck("p", "s", "t", condition=(("c", ("Person",)),))
    assert compare_linked(frame, [exact])["eq__p"].to_list() == [0, None]


def test_the_compared_frame_gains_only_the_compact_columns():
    frame = _compare(["a"], ["a"], date=True)
    assert frame.columns == ["s", "t", "eq__p", "typeok__p"]
