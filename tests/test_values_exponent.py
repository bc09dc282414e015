"""Numbers in exponent form are numbers where the declared type is numeric, in the value
model's per-value form (the write-back) and its column form (the audit) alike."""

from __future__ import annotations

import polars as pl

from audit.core.values import ValueSpec, equal, normalise, type_ok
from audit.core.values_polars import canonical_expr

DECIMAL, INTEGER, TEXT = ValueSpec("decimal"), ValueSpec("integer"), ValueSpec("string")


def _column(values: list[str], spec: ValueSpec) -> list[str | None]:
    frame = pl.DataFrame({"v": values}, schema={"v": pl.String})
    canon, _ = canonical_expr(pl.col("v"), pl.String, spec)
    return frame.select(canon.alias("c"))["c"].to_list()


def test_an_exponent_decimal_is_its_written_out_number():
    assert normalise("1.5E3", DECIMAL) == "1500"


def test_an_exponent_decimal_equals_the_plain_number_where_the_type_is_decimal():
    assert equal("1.5E3", 1500, DECIMAL)


def test_a_negative_exponent_keeps_every_digit():
    assert normalise("-2.50e-3", DECIMAL) == "-0.0025"


def test_an_integral_exponent_number_is_an_integer_where_the_type_is_integer():
    assert equal("1e3", "1000", INTEGER) and type_ok("1E+3", INTEGER)


def test_an_exponent_number_stays_text_where_the_type_is_string():
    assert not equal("1e3", "1000", TEXT)


def test_an_exponent_of_more_than_three_digits_is_no_number():
    assert normalise("1e9999", DECIMAL) == "1e9999" and not type_ok("1e9999", DECIMAL)


def test_the_audit_s_column_form_reads_exponents_as_the_write_back_does():
    values = ["1.5E3", "-2.50e-3", ".5e1", "1e-7", "+7E+2", "0e5", "150.50", "1e9999", "x1e3"]
    assert _column(values, DECIMAL) == [normalise(v, DECIMAL) for v in values]
