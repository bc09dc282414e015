"""Links, compared frames and unresolved paths -> one findings table.

Every problem the audit finds is one row of one frame with exactly the contract's columns
(all text):

``pair, source_entity, target_entity, source_key, target_key, source_property,
target_property, status, source_value, target_value`` and, beyond the contract's
columns, ``expectation``

Statuses:

- ``mismatch``: linked records disagree on a compared property (values as read);
- ``missing_in_target``: a source record without a linked target (keys, no property);
- ``missing_in_source``: a target record no source record links to;
- ``ambiguous_link``: one row per candidate link inside an ambiguous component; for
  merge rules the properties are the rule's paths (the first matching row) and the values
  the matched value on each side;
- ``type_violation``: a target value that is not of the declared type;
- ``unresolved_property``: a property (or merge rule) path that resolved on neither
  generation of its side; keys and values are empty, the summary says which side;
- ``duplicate_id``: a record whose id a different record of its entity file shares, one
  row per record: the key, the id field as property, ``FILE:LINE`` as value (on the
  record's side);
- ``missing_id``: a record without an id (no key; ``FILE:LINE`` as value);
- ``expectation_failed``: a record failing one of the user's own expectations
  (:mod:`audit.gx.user_suites`): its keys, the expectation's column as property and the
  record's value on that column's side; ``expectation`` names the expectation (its type
  and arguments). Empty for every other status.

Values are null where they do not apply (empty cells in the CSV). Rows are built from the
polars frames, so every failing record is listed, never a sample.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from audit.core.compare import text_expr
from audit.core.problems import EntityProblems

__all__ = [
    "FINDINGS_COLUMNS",
    "FINDINGS_SCHEMA",
    "PairContext",
    "empty_findings",
    "link_findings",
    "property_findings",
    "unresolved_findings",
    "problem_findings",
    "concat_findings",
]

FINDINGS_COLUMNS = (
    "pair",
    "source_entity",
    "target_entity",
    "source_key",
    "target_key",
    "source_property",
    "target_property",
    "status",
    "source_value",
    "target_value",
    "expectation",
)
FINDINGS_SCHEMA = {c: pl.String for c in FINDINGS_COLUMNS}

_STATUS_ORDER = {
    s: i
    for i, s in enumerate(
        (
            "unresolved_property",
            "missing_id",
            "duplicate_id",
            "ambiguous_link",
            "missing_in_target",
            "missing_in_source",
            "mismatch",
            "type_violation",
            "expectation_failed",
        )
    )
}


@dataclass(frozen=True)
class PairContext:
    """The pair-level text every finding row of a pair repeats."""

    pair: str
    source_entity: str
    target_entity: str


def empty_findings() -> pl.DataFrame:
    """A findings frame with no rows."""
    return pl.DataFrame(schema=FINDINGS_SCHEMA)


def _rows(ctx: PairContext, frame: pl.DataFrame, status: str) -> pl.DataFrame:
    """Complete a frame holding some of the columns into the full findings shape."""
    fixed = {
        "pair": ctx.pair,
        "source_entity": ctx.source_entity,
        "target_entity": ctx.target_entity,
        "status": status,
    }
    exprs = []
    for col in FINDINGS_COLUMNS:
        if col in fixed:
            exprs.append(pl.lit(fixed[col], dtype=pl.String).alias(col))
        elif col in frame.columns:
            exprs.append(pl.col(col).cast(pl.String))
        else:
            exprs.append(pl.lit(None, dtype=pl.String).alias(col))
    return frame.select(exprs)


def link_findings(
    ctx: PairContext,
    missing_in_target: pl.DataFrame,
    missing_in_source: pl.DataFrame,
    ambiguous: pl.DataFrame,
) -> pl.DataFrame:
    """Rows for records without counterpart and for ambiguous candidate links.

    ``ambiguous`` has ``source_key, target_key`` and optionally ``source_property,
    target_property, source_value, target_value``.
    """
    return pl.concat(
        [
            _rows(ctx, missing_in_target, "missing_in_target"),
            _rows(ctx, missing_in_source, "missing_in_source"),
            _rows(ctx, ambiguous, "ambiguous_link"),
        ]
    )


def property_findings(
    ctx: PairContext,
    compared: pl.DataFrame,
    key: str,
    source_property: str,
    target_property: str,
    source_column: str,
    target_column: str,
    mismatch: bool,
    type_violation: bool,
) -> pl.DataFrame:
    """``mismatch`` and ``type_violation`` rows of one property from the compared frame.

    Parameters
    ----------
    compared : pl.DataFrame
        Linked frame with ``source_key``, ``target_key``, the value columns and the
        compact ``eq__<key>``/``typeok__<key>`` columns.
    mismatch, type_violation : bool
        Which statuses this property reports (informational properties report neither).
    """
    parts = []
    schema = compared.schema
    values = [
        "source_key",
        "target_key",
        text_expr(pl.col(source_column), schema[source_column]).alias("source_value"),
        text_expr(pl.col(target_column), schema[target_column]).alias("target_value"),
        pl.lit(source_property).alias("source_property"),
        pl.lit(target_property).alias("target_property"),
    ]
    eq, typeok = f"eq__{key}", f"typeok__{key}"
    if mismatch and eq in compared.columns:
        parts.append(_rows(ctx, compared.filter(pl.col(eq) == 0).select(values), "mismatch"))
    if type_violation and typeok in compared.columns:
        parts.append(_rows(ctx, compared.filter(pl.col(typeok) == 0).select(values), "type_violation"))
    return pl.concat(parts) if parts else empty_findings()


def unresolved_findings(ctx: PairContext, paths: Sequence[tuple[str, str]]) -> pl.DataFrame:
    """One ``unresolved_property`` row per ``(source_property, target_property)``."""
    if not paths:
        return empty_findings()
    frame = pl.DataFrame(
        {"source_property": [p[0] for p in paths], "target_property": [p[1] for p in paths]},
        schema={"source_property": pl.String, "target_property": pl.String},
    )
    return _rows(ctx, frame, "unresolved_property")


def problem_findings(ctx: PairContext, side: str, id_column: str, problems: EntityProblems) -> pl.DataFrame:
    """``duplicate_id`` and ``missing_id`` rows of one side's entity file (``side`` is
    ``source`` or ``target``)."""
    parts = []
    for status, frame in (("duplicate_id", problems.duplicates), ("missing_id", problems.missing)):
        if frame.height:
            rows = frame.select(
                pl.col("key").alias(f"{side}_key"),
                pl.lit(id_column).alias(f"{side}_property"),
                pl.col("line").alias(f"{side}_value"),
            )
            parts.append(_rows(ctx, rows, status))
    return pl.concat(parts) if parts else empty_findings()


def concat_findings(parts: Sequence[pl.DataFrame], pair_order: Sequence[str] = ()) -> pl.DataFrame:
    """All rows in one frame, ordered by pair (flow order), status, keys and property."""
    frames = [p for p in parts if p.height]
    if not frames:
        return empty_findings()
    out = pl.concat(frames)
    pair_rank = {p: i for i, p in enumerate(pair_order)}
    return (
        out.with_columns(
            pl.col("pair")
            .replace_strict(pair_rank, default=len(pair_rank), return_dtype=pl.Int32)
            .alias("_p"),
            pl.col("status").replace_strict(_STATUS_ORDER, default=99, return_dtype=pl.Int32).alias("_s"),
        )
        .sort(["_p", "_s", "source_key", "target_key", "source_property", "target_property"], nulls_last=True)
        .drop("_p", "_s")
    )
