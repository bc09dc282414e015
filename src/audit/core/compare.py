"""Linked records -> per-property agreement, by the meaning of the declared data type.

Input is the linked frame (one row per linked record pair, source value columns and
target value columns side by side); output is the same frame with two compact ``Int8``
columns per checked property:

- ``eq__<key>``: 1 when the normalised values agree, 0 when they differ, null when the
  property does not apply to the row (a condition not met, or not checked);
- ``typeok__<key>``: 1 when the target value has the declared type, 0 when it does not,
  null when there is no target value or no type to check.

How values are normalised and when two agree is decided by the value model
(:mod:`audit.core.values`, here in its polars form :mod:`audit.core.values_polars`): by the
declared data type, the policy's normalizers, ``empty_equals_missing`` and, for dates, the
zone of stamps without an offset. In short: texts as written (``"0150"`` and ``150`` are
different zip codes, a number is a fine string), integers and decimals exactly (``150``
equals ``150.0`` only where the type is numeric), booleans, and dates
(``1985-03-14T00:00:00+01:00`` is the date ``1985-03-14``). A value not of the declared
type keeps its normalised text, so a bad target value gives a ``type_violation`` and, if
the texts differ too, a ``mismatch``.

Nothing here reads files; everything is polars expressions over the frame.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from audit.core.values import DEFAULT_ZONE, ValueSpec, normalise
from audit.core.values_polars import canonical_expr, text_expr

__all__ = [
    "PropertyCheck",
    "as_text",
    "text_expr",
    "compare_linked",
    "eq_column",
    "typeok_column",
    "canonical_column",
]


def eq_column(key: str) -> str:
    """Name of the agreement column of property ``key``."""
    return f"eq__{key}"


def typeok_column(key: str) -> str:
    """Name of the type column of property ``key``."""
    return f"typeok__{key}"


def canonical_column(side: str, key: str) -> str:
    """Name of the column holding property ``key``'s canonical text on one side (``source``
    or ``target``), null where the property does not apply to the row; kept by
    :func:`compare_linked` with ``keep_texts`` for the GX validation."""
    return f"canon__{side}__{key}"


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
    zone : str
        Zone of stamps without an offset (policy ``zone``).
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
    zone: str = DEFAULT_ZONE

    @property
    def resolved(self) -> bool:
        return self.source_column is not None and self.target_column is not None

    @property
    def spec(self) -> ValueSpec:
        """The value model's reading of this property's values."""
        return ValueSpec(self.datatype, self.date, self.normalizers, self.empty_equals_missing, self.zone)

    @property
    def condition_spec(self) -> ValueSpec:
        """How condition values are read: as text, trimmed, with the property's normalizers."""
        return ValueSpec("string", False, ("trim", *self.normalizers), True, self.zone)


def _condition_expr(check: PropertyCheck, schema: pl.Schema) -> pl.Expr:
    if not check.condition_evaluable:
        return pl.lit(False)
    spec = check.condition_spec
    applies = pl.lit(True)
    for column, values in check.condition:
        text = canonical_expr(pl.col(column), schema[column], spec)[0]
        wanted = sorted({v for v in (normalise(value, spec) for value in values) if v is not None})
        hit = text.is_in(wanted) if wanted else pl.lit(False)
        if any(normalise(value, spec) is None for value in values):
            hit = hit | text.is_null()
        applies = applies & hit.fill_null(False)
    return applies


def _text_columns(check: PropertyCheck) -> tuple[str, str, str]:
    """Names of the temporary columns holding a check's canonical source and target
    texts and whether the target value has the declared type."""
    return f"_s_text__{check.key}", f"_t_text__{check.key}", f"_t_ok__{check.key}"


def _texts(check: PropertyCheck, schema: pl.Schema, stamps: bool = False) -> dict[str, pl.Expr]:
    """The canonical texts of a resolved check (and the target's type verdict), by
    temporary column name; computed once and read by both compact columns (normalising
    is the costly part of a comparison). Dates of stamps that are not midnight as written
    are added only with ``stamps`` (see :func:`_stamp_dates`)."""
    s_name, t_name, ok_name = _text_columns(check)
    spec = check.spec
    s_canon = canonical_expr(pl.col(check.source_column), schema[check.source_column], spec, stamps)[0]
    t_canon, t_ok = canonical_expr(pl.col(check.target_column), schema[check.target_column], spec, stamps)
    return {s_name: s_canon, t_name: t_canon, ok_name: t_ok}


def _stamp_dates(frame: pl.DataFrame, checks: Sequence[PropertyCheck], schema: pl.Schema) -> pl.DataFrame:
    """Date checks again with the dates of stamps with an offset, where a value may be one
    (a canonical text longer than a date): the zone conversion runs only when needed."""
    redo: dict[str, pl.Expr] = {}
    for check in checks:
        if not check.date:
            continue
        for name, column in zip(_text_columns(check)[:2], (check.source_column, check.target_column), strict=True):
            longest = frame.get_column(name).str.len_bytes().max()
            if longest is not None and longest > 10:
                redo[name] = canonical_expr(pl.col(column), schema[column], check.spec, stamps=True)[0]
    return frame.with_columns(**redo) if redo else frame


def _checks_exprs(check: PropertyCheck, schema: pl.Schema, keep_texts: bool = False) -> list[pl.Expr]:
    """The compact columns of a resolved check, over the columns :func:`_texts` adds (and
    with ``keep_texts`` its canonical texts where the property applies)."""
    if not check.resolved:
        return []
    applies = _condition_expr(check, schema)
    s_text, t_text, t_ok = (pl.col(name) for name in _text_columns(check))
    out: list[pl.Expr] = []
    if check.check_equal:
        equal = s_text.eq_missing(t_text)
        out.append(pl.when(applies).then(equal.cast(pl.Int8)).alias(eq_column(check.key)))
    if check.check_type:
        present = t_text.is_not_null()
        out.append(pl.when(applies & present).then(t_ok.fill_null(False).cast(pl.Int8)).alias(typeok_column(check.key)))
    if keep_texts:
        unconditional = check.condition_evaluable and not check.condition
        out += [
            (text if unconditional else pl.when(applies).then(text)).alias(canonical_column(side, check.key))
            for side, text in (("source", s_text), ("target", t_text))
        ]
    return out


def compare_linked(linked: pl.DataFrame, checks: Sequence[PropertyCheck], keep_texts: bool = False) -> pl.DataFrame:
    """Add ``eq__<key>``/``typeok__<key>`` columns for every resolved check.

    Parameters
    ----------
    linked : pl.DataFrame
        The linked frame, holding every column the checks name.
    checks : sequence of PropertyCheck
    keep_texts : bool
        Also keep each side's canonical text (:func:`canonical_column`), null where the
        property does not apply: the values the GX suite compares.

    Returns
    -------
    pl.DataFrame
        ``linked`` with the compact columns added (unresolved checks add none).
    """
    resolved = [check for check in checks if check.resolved]
    if not resolved:
        return linked
    schema = linked.schema
    texts = {name: expr for check in resolved for name, expr in _texts(check, schema).items()}
    exprs = [e for check in resolved for e in _checks_exprs(check, schema, keep_texts)]
    frame = _stamp_dates(linked.with_columns(**texts), resolved, schema)
    return frame.with_columns(exprs).drop(list(texts))
