"""Linked records -> per-property agreement, by the meaning of the declared data type.

Input is the linked frame (one row per linked record pair, source value columns and
target value columns side by side); output is the same frame with two compact ``Int8``
columns per checked property:

- ``eq__<key>``: 1 when the normalised values agree, 0 when they differ, null when the
  property does not apply to the row (a condition not met, or not checked);
- ``typeok__<key>``: 1 when the target value has the declared type, 0 when it does not,
  null when there is no target value or no type to check.

How values are normalised before they are compared:

- Values are first made text exactly as they read (a number ``150`` is ``"150"``; a string
  stays the string, so ``"0150"`` and ``"150"`` stay different zip codes), then the
  property's normalizers run (``trim``, ``casefold``, ``collapse_whitespace``).
- With ``empty_equals_missing`` an empty string counts as missing; two missing values
  agree, one missing value and one present value differ.
- Date properties (``date``): a midnight timestamp is the date
  (``1985-03-14T00:00:00`` equals ``1985-03-14``; other times stay different).
- ``string`` or no declared type: the normalised texts must be equal. A number is a
  fine string.
- ``integer``: integral numbers and texts of digits (``"007"`` equals ``7``); anything else
  in the target is a type violation.
- ``float``/``decimal``: numbers and numeric texts, compared as numbers.
- ``boolean``: booleans and the texts ``true``/``false`` (any case).
- ``list``: lists, compared as their JSON text.

When a value is not of the declared type the pair is compared as normalised text, so a
bad target value gives a ``type_violation`` and, if the texts differ too, a ``mismatch``.

Nothing here reads files; everything is polars expressions over the frame.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

__all__ = ["PropertyCheck", "as_text", "text_expr", "compare_linked", "eq_column", "typeok_column"]

#: A date, or a midnight timestamp of one (whose first 10 characters are the date).
_DATE_RE = r"^\d{4}-\d{2}-\d{2}(?:[T ]00:00:00(?:\.0+)?(?:Z|[+-]00:?00)?)?$"
_INT_RE = r"^[+-]?\d+$"
_NESTED = (pl.List, pl.Array, pl.Struct)


def eq_column(key: str) -> str:
    """Name of the agreement column of property ``key``."""
    return f"eq__{key}"


def typeok_column(key: str) -> str:
    """Name of the type column of property ``key``."""
    return f"typeok__{key}"


def text_expr(expr: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """``expr`` (of ``dtype``) as text, the way the value reads in the record.

    Booleans become ``true``/``false``, dates ISO text, lists and objects their JSON.
    """
    if dtype == pl.String:
        return expr
    if dtype == pl.Boolean:
        return pl.when(expr.is_null()).then(None).when(expr).then(pl.lit("true")).otherwise(pl.lit("false"))
    if dtype == pl.Date:
        return expr.dt.strftime("%Y-%m-%d")
    if isinstance(dtype, pl.Datetime):
        return expr.dt.strftime("%Y-%m-%dT%H:%M:%S")
    if isinstance(dtype, _NESTED):
        encoded = pl.struct(expr.alias("v")).struct.json_encode().str.slice(5).str.strip_suffix("}")
        return pl.when(expr.is_null()).then(None).otherwise(encoded)
    if dtype == pl.Null:
        return expr.cast(pl.String)
    return expr.cast(pl.String)


def as_text(values: pl.Expr | pl.Series, dtype: pl.DataType | None = None) -> pl.Expr | pl.Series:
    """Text of a Series (dtype known) or of an expression (``dtype`` given, else cast)."""
    if isinstance(values, pl.Series):
        return pl.select(text_expr(pl.lit(values), values.dtype)).to_series().alias(values.name)
    if dtype is None:
        return values.cast(pl.String)
    return text_expr(values, dtype)


@dataclass(frozen=True)
class PropertyCheck:
    """How one property is compared on the linked frame.

    Attributes
    ----------
    key : str
        Suffix of the compact columns (``eq__<key>``, ``typeok__<key>``).
    source_column, target_column : str or None
        Value columns in the linked frame; ``None`` when the path did not resolve (then no
        compact columns are made).
    datatype : str or None
        The declared data type.
    normalizers : tuple of str
        ``trim``, ``casefold``, ``collapse_whitespace``, applied in order.
    date : bool
        Compare as calendar dates.
    empty_equals_missing : bool
        An empty string counts as missing.
    check_equal : bool
        Make ``eq__<key>`` (false for the link key).
    check_type : bool
        Make ``typeok__<key>``.
    condition : tuple of (column, values)
        The property applies to a row only when every listed column's text is one of its
        values (an empty value stands for missing). Empty: always applies.
    condition_evaluable : bool
        False when a condition path did not resolve: the property is then checked on no
        row (the summary says why).
    """

    key: str
    source_column: str | None
    target_column: str | None
    datatype: str | None = "string"
    normalizers: tuple[str, ...] = ()
    date: bool = False
    empty_equals_missing: bool = True
    check_equal: bool = True
    check_type: bool = True
    condition: tuple[tuple[str, tuple[str, ...]], ...] = ()
    condition_evaluable: bool = True

    @property
    def resolved(self) -> bool:
        return self.source_column is not None and self.target_column is not None


def _normalised_text(expr: pl.Expr, dtype: pl.DataType, check: PropertyCheck) -> pl.Expr:
    text = text_expr(expr, dtype)
    for name in check.normalizers:
        if name == "trim":
            text = text.str.strip_chars()
        elif name == "casefold":
            text = text.str.to_lowercase()
        elif name == "collapse_whitespace":
            text = text.str.replace_all(r"\s+", " ")
        else:  # the policy model only admits the names above
            raise ValueError(f"unknown normalizer {name!r}")
    if check.date:
        # a match test and a slice cost about half of a replace with a capture group
        text = text.str.strip_chars()
        text = pl.when(text.str.contains(_DATE_RE)).then(text.str.slice(0, 10)).otherwise(text)
    if check.empty_equals_missing:
        text = pl.when(text == "").then(None).otherwise(text)
    return text


def _typed(expr: pl.Expr, dtype: pl.DataType, datatype: str | None) -> tuple[pl.Expr, pl.Expr] | None:
    """``(canonical value, is of the type)`` for a declared type, or ``None`` when the
    type is compared as text (``string``, unknown)."""
    is_str = dtype == pl.String
    if datatype == "integer":
        if dtype.is_integer():
            return expr.cast(pl.Int64, strict=False), pl.lit(True)
        if dtype.is_float():
            ok = expr.is_finite() & (expr.floor() == expr)
            return pl.when(ok).then(expr.cast(pl.Int64, strict=False)), ok
        if is_str:
            s = expr.str.strip_chars()
            ok = s.str.contains(_INT_RE)
            return pl.when(ok).then(s.str.strip_prefix("+").cast(pl.Int64, strict=False)), ok
        return pl.lit(None, dtype=pl.Int64), pl.lit(False)
    if datatype in ("float", "decimal"):
        if dtype.is_numeric():
            return expr.cast(pl.Float64), pl.lit(True)
        if is_str:
            value = expr.str.strip_chars().cast(pl.Float64, strict=False)
            return value, value.is_not_null()
        return pl.lit(None, dtype=pl.Float64), pl.lit(False)
    if datatype == "boolean":
        if dtype == pl.Boolean:
            return expr, pl.lit(True)
        if is_str:
            low = expr.str.strip_chars().str.to_lowercase()
            ok = low.is_in(["true", "false"])
            return pl.when(ok).then(low == "true"), ok
        return pl.lit(None, dtype=pl.Boolean), pl.lit(False)
    if datatype == "list":
        ok = pl.lit(isinstance(dtype, (pl.List, pl.Array)))
        return text_expr(expr, dtype), ok
    return None


def _condition_expr(check: PropertyCheck, schema: pl.Schema) -> pl.Expr:
    if not check.condition_evaluable:
        return pl.lit(False)
    applies = pl.lit(True)
    for column, values in check.condition:
        text = text_expr(pl.col(column), schema[column]).str.strip_chars()
        wanted = [v for v in values if v != ""]
        hit = text.is_in(wanted) if wanted else pl.lit(False)
        if "" in values:
            hit = hit | text.is_null() | (text == "")
        applies = applies & hit.fill_null(False)
    return applies


def _text_columns(check: PropertyCheck) -> tuple[str, str]:
    """Names of the temporary columns holding a check's normalised source and target texts."""
    return f"_s_text__{check.key}", f"_t_text__{check.key}"


def _texts(check: PropertyCheck, schema: pl.Schema) -> dict[str, pl.Expr]:
    """The normalised source and target texts of a resolved check, by temporary column
    name; computed once and read by both compact columns (text normalisation is the
    costly part of a comparison)."""
    s_name, t_name = _text_columns(check)
    return {
        s_name: _normalised_text(pl.col(check.source_column), schema[check.source_column], check),
        t_name: _normalised_text(pl.col(check.target_column), schema[check.target_column], check),
    }


def _checks_exprs(check: PropertyCheck, schema: pl.Schema) -> list[pl.Expr]:
    """The compact columns of a resolved check, over the columns :func:`_texts` adds."""
    if not check.resolved:
        return []
    s_col, t_col = pl.col(check.source_column), pl.col(check.target_column)
    s_dt, t_dt = schema[check.source_column], schema[check.target_column]
    applies = _condition_expr(check, schema)
    s_text, t_text = (pl.col(name) for name in _text_columns(check))
    s_typed = _typed(s_col, s_dt, check.datatype) if not check.date else None
    t_typed = _typed(t_col, t_dt, check.datatype) if not check.date else None
    out: list[pl.Expr] = []
    if check.check_equal:
        text_equal = s_text.eq_missing(t_text)
        if s_typed is not None and t_typed is not None:
            both_typed = s_typed[1] & t_typed[1] & s_text.is_not_null() & t_text.is_not_null()
            equal = pl.when(both_typed).then(s_typed[0].eq_missing(t_typed[0])).otherwise(text_equal)
        else:
            equal = text_equal
        out.append(pl.when(applies).then(equal.cast(pl.Int8)).alias(eq_column(check.key)))
    if check.check_type:
        if t_typed is None:
            ok = pl.lit(True)
        else:
            ok = t_typed[1]
        present = t_text.is_not_null()
        out.append(
            pl.when(applies & present).then(ok.fill_null(False).cast(pl.Int8)).alias(typeok_column(check.key))
        )
    return out


def compare_linked(linked: pl.DataFrame, checks: Sequence[PropertyCheck]) -> pl.DataFrame:
    """Add ``eq__<key>``/``typeok__<key>`` columns for every resolved check.

    Parameters
    ----------
    linked : pl.DataFrame
        The linked frame, holding every column the checks name.
    checks : sequence of PropertyCheck

    Returns
    -------
    pl.DataFrame
        ``linked`` with the compact columns added (unresolved checks add none).
    """
    resolved = [check for check in checks if check.resolved]
    if not resolved:
        return linked
    texts = {name: expr for check in resolved for name, expr in _texts(check, linked.schema).items()}
    exprs = [e for check in resolved for e in _checks_exprs(check, linked.schema)]
    return linked.with_columns(**texts).with_columns(exprs).drop(list(texts))
