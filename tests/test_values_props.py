"""Property tests of the value model: the audit (polars, whole columns) and the write-back
(plain Python, one value) agree on every generated value; spellings of one value in the
two API generations are equal; normalising twice is normalising once."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from audit.core.compare import PropertyCheck, compare_linked
from audit.core.snapshot import frame_from_records
from audit.core.values import ValueSpec, equal, normalise, type_ok
from audit.core.values_polars import canonical_expr

EXAMPLES = settings(max_examples=500, deadline=None)

_FRAGMENTS = ["0", "00", "7", "150", "150.0", "0150", ".5", "5.", "-0", "+7", "-", "1e3", " ", "\t", "\xa0",
              "true", "TRUE", "False", "x", "Ø", "ß", "1985-03-14", "T00:00:00", "T23:00:00", "T12:30:00",
              "+01:00", "+0200", "Z", " +00:00", ".000", ".5", "1985-03-13"]  # fmt: skip
texts = st.lists(st.sampled_from(_FRAGMENTS) | st.text(max_size=4), max_size=4).map("".join)
dates = st.dates(min_value=date(1971, 1, 1), max_value=date(2037, 12, 31))


@st.composite
def date_texts(draw) -> str:
    """Dates written as the APIs write them, some with an hour off or a time of day."""
    day = draw(dates)
    hour = draw(st.sampled_from([0, 0, 1, 22, 23, 12]))
    offset = draw(st.sampled_from(["", "Z", "+01:00", "+02:00", " +01:00", "-0500", "+0100"]))
    seconds = draw(st.sampled_from([":00", "", ":00.000", ":00.5"]))
    return draw(st.sampled_from([day.isoformat(), f"{day.isoformat()}T{hour:02d}:00{seconds}{offset}"]))


decimal_numbers = st.decimals(allow_nan=False, allow_infinity=False, places=3, min_value=-(10**6), max_value=10**6)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.integers(min_value=-1000, max_value=1000),
    decimal_numbers.map(float),
    texts,
    date_texts(),
    decimal_numbers.map(str),
)
specs = st.builds(
    ValueSpec,
    datatype=st.sampled_from(["string", "integer", "float", "decimal", "boolean", None]),
    date=st.booleans(),
    normalizers=st.lists(st.sampled_from(["trim", "casefold", "collapse_whitespace"]), max_size=3).map(tuple),
    empty_equals_missing=st.booleans(),
    zone=st.sampled_from(["Europe/Oslo", "UTC"]),
)


def _audit(records: list[dict], spec: ValueSpec) -> pl.DataFrame:
    """The audit's verdicts on records read as a snapshot is read."""
    frame = frame_from_records([{"id": i, **r} for i, r in enumerate(records)], "x").frame
    for side in ("s", "t"):
        if side not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias(side))
    check = PropertyCheck("p", "s", "t", spec.datatype, spec.normalizers, spec.date, spec.empty_equals_missing,
                          zone=spec.zone)  # fmt: skip
    return compare_linked(frame, [check])


@EXAMPLES
@given(scalars, scalars, specs)
def test_the_audit_calls_two_values_equal_exactly_when_the_guard_sees_nothing_to_change(a, b, spec):
    out = _audit([{"s": a, "t": b}], spec).row(0, named=True)
    assert out["eq__p"] == int(equal(a, b, spec))
    assert out["typeok__p"] in (None, int(type_ok(b, spec)))
    assert (out["typeok__p"] is None) == (normalise(b, spec) is None)


@EXAMPLES
@given(st.lists(st.tuples(texts | date_texts(), texts | date_texts()), min_size=1, max_size=6), specs)
def test_whole_columns_agree_with_value_by_value(pairs, spec):
    out = _audit([{"s": a, "t": b} for a, b in pairs], spec)
    assert out["eq__p"].to_list() == [int(equal(a, b, spec)) for a, b in pairs]


def _oslo_midnight_utc(day: date) -> str:
    moment = datetime.combine(day, time(0), ZoneInfo("Europe/Oslo")).astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _oslo_offset(day: date) -> str:
    offset = datetime.combine(day, time(0), ZoneInfo("Europe/Oslo")).utcoffset() or timedelta(0)
    return f"+{int(offset.total_seconds()) // 3600:02d}:00"


@EXAMPLES
@given(dates, st.sampled_from(["v1", "v1 offset", "v1 spaced offset", "utc"]))
def test_v1_and_v2_spellings_of_a_date_are_equal(day, how):
    v2 = day.isoformat()
    v1 = {
        "v1": f"{v2}T00:00:00",
        "v1 offset": f"{v2}T00:00:00{_oslo_offset(day)}",
        "v1 spaced offset": f"{v2}T00:00:00 {_oslo_offset(day)}",
        "utc": _oslo_midnight_utc(day),
    }[how]
    spec = ValueSpec(date=True)
    assert equal(v1, v2, spec) and _audit([{"s": v1, "t": v2}], spec)["eq__p"][0] == 1


@EXAMPLES
@given(st.integers(min_value=-(10**30), max_value=10**30), st.integers(min_value=0, max_value=3))
def test_v1_numbers_and_v2_texts_of_one_number_are_equal(n, zeros):
    decimal_spec, text_spec = ValueSpec("decimal"), ValueSpec("string")
    digits = str(abs(n)).rjust(zeros + 1, "0")
    written = ("-" if n < 0 else "") + (f"{digits[:-zeros]}.{digits[-zeros:]}" if zeros else digits)
    padded = "0" + written.lstrip("-") + ("0" * zeros if zeros else ".000")
    padded = ("-" if n < 0 else "") + padded
    assert Decimal(written) == Decimal(padded)
    assert equal(written, padded, decimal_spec)
    assert equal(n, str(n), text_spec) and equal(n, str(n), ValueSpec("integer"))
    out = _audit([{"s": n, "t": str(n)}], text_spec)
    assert out["eq__p"][0] == 1


@EXAMPLES
@given(scalars, specs)
def test_normalising_twice_equals_normalising_once(value, spec):
    once = normalise(value, spec)
    assert normalise(once, spec) == once
    column = pl.DataFrame({"v": [once]}, schema={"v": pl.String})
    again = column.select(canonical_expr(pl.col("v"), pl.String, spec)[0]).item()
    assert again == once


@EXAMPLES
@given(scalars, specs.filter(lambda s: s.kind in ("integer", "decimal", "boolean")))
def test_the_suites_type_expectation_holds_exactly_for_values_of_the_declared_type(value, spec):
    """The GX suites check the target's canonical text (CANONICAL_RE, BOOL_VALUES): a value
    passes exactly when the value model calls it of the declared type."""
    import re

    from audit.core.values import BOOL_VALUES, CANONICAL_RE

    canonical = normalise(value, spec)
    if canonical is None:
        return
    passes = canonical in BOOL_VALUES if spec.kind == "boolean" else re.search(CANONICAL_RE[spec.kind], canonical)
    assert bool(passes) == type_ok(value, spec)
