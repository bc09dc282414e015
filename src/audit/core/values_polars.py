"""The value model of :mod:`audit.core.values` as polars expressions over whole columns.

The audit compares a million linked records per property in a few vectorised passes; these
builders give, per column, the canonical text and the type verdict that
:func:`audit.core.values.normalise` and :func:`audit.core.values.type_ok` give per value
(``tests/test_values_props.py`` checks that they agree).
"""

from __future__ import annotations

import polars as pl

from audit.core.values import (
    BOOL_VALUES,
    DATE_RE,
    DEC_RE,
    EXP_RE,
    INT_RE,
    STAMP_OFFSET_RE,
    WHITESPACE,
    WS_RUN,
    ValueSpec,
)

__all__ = ["text_expr", "canonical_expr", "date_from_stamp_expr"]


def text_expr(expr: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """``expr`` (of ``dtype``) as text, as :func:`text_of` writes each value."""
    if dtype == pl.String:
        return expr
    if dtype == pl.Boolean:
        return pl.when(expr.is_null()).then(None).when(expr).then(pl.lit("true")).otherwise(pl.lit("false"))
    if dtype == pl.Date:
        return expr.dt.strftime("%Y-%m-%d")
    if isinstance(dtype, pl.Datetime):
        return expr.dt.strftime("%Y-%m-%dT%H:%M:%S%.f" + ("%:z" if dtype.time_zone else ""))
    if isinstance(dtype, (pl.List, pl.Array, pl.Struct)):
        encoded = pl.struct(expr.alias("v")).struct.json_encode().str.slice(5).str.strip_suffix("}")
        return pl.when(expr.is_null()).then(None).otherwise(encoded)
    return expr.cast(pl.String)


def _normalised_text_expr(expr: pl.Expr, dtype: pl.DataType, spec: ValueSpec) -> pl.Expr:
    text = text_expr(expr, dtype)
    for name in spec.normalizers:
        if name == "trim":
            text = text.str.strip_chars(WHITESPACE)
        elif name == "casefold":
            text = text.str.to_lowercase()
        elif name == "collapse_whitespace":
            text = text.str.replace_all(WS_RUN, " ")
        else:
            raise ValueError(f"unknown normalizer {name!r}")
    if spec.empty_equals_missing:
        text = pl.when(text == "").then(None).otherwise(text)
    return text


def _decimal_expr(t: pl.Expr) -> pl.Expr:
    """:func:`canonical_decimal` of texts already known to match :data:`DEC_RE`."""
    body = t.str.strip_chars_start("+-")
    whole = body.str.extract(r"^([0-9]*)").str.strip_chars_start("0")
    whole = pl.when(whole == "").then(pl.lit("0")).otherwise(whole)
    fraction = body.str.extract(r"\.([0-9]*)$").str.strip_chars_end("0").fill_null("")
    out = pl.when(fraction == "").then(whole).otherwise(pl.concat_str([whole, pl.lit("."), fraction]))
    return pl.when(t.str.starts_with("-") & (out != "0")).then(pl.concat_str([pl.lit("-"), out])).otherwise(out)


def _expanded_expr(t: pl.Expr) -> pl.Expr:
    """:func:`expand_exponent` of texts: decimals in exponent form written out, others as
    they are."""
    parts = t.str.extract_groups(EXP_RE)
    sign, mantissa, exponent = (parts.struct.field(str(i)) for i in (1, 2, 3))
    whole = mantissa.str.extract(r"^([0-9]*)")
    digits = mantissa.str.replace(".", "", literal=True)
    n = digits.str.len_chars().cast(pl.Int64)
    point = whole.str.len_chars().cast(pl.Int64) + exponent.cast(pl.Int64)
    ahead = pl.concat_str([pl.lit("0."), pl.lit("").str.pad_start((-point).clip(0), "0"), digits])
    behind = pl.concat_str([digits, pl.lit("").str.pad_end((point - n).clip(0), "0")])
    inside = pl.concat_str([digits.str.slice(0, point.clip(0)), pl.lit("."), digits.str.slice(point.clip(0))])
    body = pl.when(point <= 0).then(ahead).when(point >= n).then(behind).otherwise(inside)
    return pl.when(exponent.is_not_null()).then(pl.concat_str([sign, body])).otherwise(t)


def date_from_stamp_expr(t: pl.Expr, zone: str) -> pl.Expr:
    """The date of stamps with an offset that are midnight in ``zone`` (else null); the
    costly part of :func:`as_date`, run only where a value may need it."""
    parts = [t.str.extract(STAMP_OFFSET_RE, i) for i in range(1, 6)]
    day, minutes, seconds, fraction, offset = parts
    offset = pl.when(offset.str.to_uppercase() == "Z").then(pl.lit("+00:00")).otherwise(offset)
    offset = (
        pl.when(offset.str.len_chars() == 5)
        .then(pl.concat_str([offset.str.slice(0, 3), pl.lit(":"), offset.str.slice(3)]))
        .otherwise(offset)
    )
    iso = pl.concat_str([day, pl.lit("T"), minutes, pl.lit(":"), seconds.fill_null("00"), offset])
    moment = iso.str.strptime(pl.Datetime("us", "UTC"), "%Y-%m-%dT%H:%M:%S%:z", strict=False)
    local = moment.dt.convert_time_zone(zone)
    midnight = (local.dt.hour() == 0) & (local.dt.minute() == 0) & (local.dt.second() == 0)
    whole = ~fraction.fill_null("").str.contains("[1-9]")
    return pl.when(midnight & whole).then(local.dt.strftime("%Y-%m-%d"))


def canonical_expr(expr: pl.Expr, dtype: pl.DataType, spec: ValueSpec, stamps: bool = True) -> tuple[pl.Expr, pl.Expr]:
    """``(canonical text, has the declared type)`` of a column, as :func:`normalise` and
    :func:`type_ok` give them per value.

    ``stamps=False`` leaves out the dates of non-midnight stamps with an offset
    (:func:`date_from_stamp_expr`): the audit adds them only when a value may need it.
    """
    s = _normalised_text_expr(expr, dtype, spec)
    kind = spec.kind
    if kind == "text":
        return s, pl.lit(True)
    if kind == "list":
        return s, pl.lit(isinstance(dtype, (pl.List, pl.Array)))
    if kind == "date":
        t = s.str.strip_chars(WHITESPACE)
        canon = pl.when(t.str.contains(DATE_RE)).then(t.str.slice(0, 10))
        if stamps:
            stamp_date = date_from_stamp_expr(t, spec.zone)
            canon = canon.when(stamp_date.is_not_null()).then(stamp_date)
        return canon.otherwise(s), pl.lit(True)
    if kind in ("integer", "decimal") and dtype.is_integer():
        return s, pl.lit(True)
    t = s.str.strip_chars(WHITESPACE)
    if kind == "boolean":
        low = t.str.to_lowercase()
        ok = low.is_in(BOOL_VALUES)
        return pl.when(ok).then(low).otherwise(s), ok | s.is_null()
    t = _expanded_expr(t)
    ok = t.str.contains(INT_RE if kind == "integer" else DEC_RE)
    return pl.when(ok).then(_decimal_expr(t)).otherwise(s), ok | s.is_null()
