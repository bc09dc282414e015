"""Data problems of an entity file that are findings, not unreadable input.

One duplicate among a million records is a data-quality finding: the audit goes on and
reports it. :func:`entity_problems` looks at the ids of a read entity file:

- records without an id are taken out of the frame (they cannot link) and become
  ``missing_id`` findings naming file and line;
- exact copies of one record (same id, same values, e.g. a page read twice) count once;
  the copies are dropped with a warning;
- records that share an id and differ are kept and become ``duplicate_id`` findings, one
  row per record naming file and line; where they take part in a link, the link is an
  ``ambiguous_link`` (:func:`demote_duplicates`).

The common case (every id present and unique) costs one count of distinct ids.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import polars as pl

from audit.core.links import LinkResult

__all__ = ["EntityProblems", "entity_problems", "demote_duplicates", "LINE_SCHEMA"]

LINE_SCHEMA = {"key": pl.String, "line": pl.String}


@dataclass(frozen=True)
class EntityProblems:
    """What :func:`entity_problems` found in one entity file.

    Attributes
    ----------
    duplicates : pl.DataFrame
        ``key, line`` of every record whose id another, different record shares.
    missing : pl.DataFrame
        ``key`` (null) and ``line`` of every record without an id.
    copies : int
        Exact copies dropped.
    warnings : tuple of str
        Said in the CLI output, summary and report (an empty file, exact copies).
    """

    duplicates: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=LINE_SCHEMA))
    missing: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=LINE_SCHEMA))
    copies: int = 0
    warnings: tuple[str, ...] = ()

    @property
    def duplicate_keys(self) -> pl.Series:
        return self.duplicates.get_column("key").unique()


#: A blank line inside a JSON Lines file (after its trailing whitespace is cut).
_BLANK_LINE = re.compile(rb"\n[ \t\r\x0b\x0c]*\n")
_BLANK_FIRST_LINE = re.compile(rb"[ \t\r\x0b\x0c]*\n")
_TRAILING = frozenset(b" \t\r\n\x0b\x0c")


def _lines(data: bytes | Path | None, rows: list[int]) -> list[str]:
    """``line N`` of each 0-based record index (non-blank JSON lines), else ``record N``."""
    if data is None:
        return [f"record {r + 1}" for r in rows]
    if not rows:
        return []
    if isinstance(data, Path):
        data = data.read_bytes()
    end = len(data)
    while end and data[end - 1] in _TRAILING:  # the trailing whitespace, without copying the data
        end -= 1
    if _BLANK_LINE.search(data, 0, end) is None and _BLANK_FIRST_LINE.match(data, 0, end) is None:
        count = data.count(b"\n", 0, end) + 1 if end else 0  # every line a record: record r on line r + 1
        return [f"line {r + 1}" if r < count else f"record {r + 1}" for r in rows]
    numbers = [n for n, raw in enumerate(data.split(b"\n"), start=1) if raw.strip()]
    return [f"line {numbers[r]}" if r < len(numbers) else f"record {r + 1}" for r in rows]


def _where(file: str, data: bytes | Path | None, rows: list[int]) -> list[str]:
    return [f"{file}:{line.removeprefix('line ')}" for line in _lines(data, rows)]


def entity_problems(
    frame: pl.DataFrame, id_column: str, file: str, data: bytes | Path | None
) -> tuple[pl.DataFrame, EntityProblems]:
    """The frame to audit (records without id and exact copies taken out) and its problems."""
    ids = frame.get_column(id_column)
    if ids.dtype.is_integer():
        missing_mask = ids.is_null()
    else:
        text = ids.cast(pl.String)
        missing_mask = text.is_null() | (text.str.strip_chars() == "")
    n_missing = int(missing_mask.sum())
    if not n_missing and ids.n_unique() == frame.height:
        return frame, EntityProblems()
    index = pl.int_range(pl.len(), dtype=pl.Int64).alias("_row")
    framed = frame.with_columns(index)
    rows = framed.filter(missing_mask).get_column("_row").to_list()
    missing = pl.DataFrame({"key": [None] * len(rows), "line": _where(file, data, rows)}, schema=LINE_SCHEMA)
    framed = framed.filter(~missing_mask)
    values = [c for c in frame.columns]
    copy = framed.select(pl.struct(values).is_first_distinct().not_()).to_series()
    copies = int(copy.sum())
    framed = framed.filter(~copy)
    key = framed.get_column(id_column).cast(pl.String)
    dup = framed.filter(key.is_duplicated())
    dup_rows = dup.get_column("_row").to_list()
    duplicates = pl.DataFrame(
        {"key": dup.get_column(id_column).cast(pl.String), "line": _where(file, data, dup_rows)}, schema=LINE_SCHEMA
    )
    warnings = (f"{file}: {copies} exact copies of records dropped (same id, same values)",) if copies else ()
    return framed.drop("_row"), EntityProblems(duplicates, missing, copies, warnings)


def demote_duplicates(
    link: LinkResult, linked: pl.DataFrame, source_dups: pl.Series, target_dups: pl.Series
) -> tuple[LinkResult, pl.DataFrame]:
    """Links whose source or target id is shared by different records become ambiguous
    (the record compared would be a silent pick); the linked frame loses them too."""
    if not source_dups.len() and not target_dups.len():
        return link, linked
    hit = pl.col("source_key").is_in(source_dups.implode()) | pl.col("target_key").is_in(target_dups.implode())
    demoted = link.linked.filter(hit)
    if not demoted.height:
        return link, linked
    ambiguous = pl.concat(
        [link.ambiguous, demoted.with_columns(pl.lit(None, dtype=pl.Int32).alias("rule"))], how="diagonal_relaxed"
    ).unique(subset=["source_key", "target_key"], keep="first", maintain_order=True)
    stats = dict(link.stats, duplicate_id_links=demoted.height)
    link = replace(link, linked=link.linked.filter(~hit), ambiguous=ambiguous, stats=stats)
    return link, linked.filter(~hit)
