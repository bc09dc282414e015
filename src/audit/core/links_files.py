"""Explicit links files (``<source entity>-<target entity>.csv``): input files of a run
that link records of a pair without merge rules, one ``source_id,target_id`` row each."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import polars as pl

from audit.errors import SnapshotError
from audit.flow.model import entity_file_stem

__all__ = ["read_links_file", "links_file_name", "read_links_dir"]


def read_links_file(path: str | Path) -> pl.DataFrame:
    """An explicit links file: CSV with columns ``source_id,target_id``, read as text.

    Returns a frame with String columns ``source_id`` and ``target_id``, rows blank on both
    sides dropped, duplicate rows removed. A row with only one side filled is an error
    naming its line (a link with one end is a mistake, not a link).
    """
    path = Path(path)
    try:
        frame = pl.read_csv(path, glob=False, infer_schema=False)
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SnapshotError(f"{path}: not a readable links CSV ({first})") from None
    missing = {"source_id", "target_id"} - set(frame.columns)
    if missing:
        raise SnapshotError(f"{path}: links file lacks column(s) {', '.join(sorted(missing))}")
    ids = frame.select(
        [pl.col(c).str.strip_chars().replace("", None).alias(c) for c in ("source_id", "target_id")]
    ).with_row_index("line", offset=2)  # line 1 is the header
    half = ids.filter(pl.col("source_id").is_null() != pl.col("target_id").is_null())
    if half.height:
        row = half.row(0, named=True)
        empty = "target_id" if row["target_id"] is None else "source_id"
        raise SnapshotError(f"{path}:{row['line']}: {empty} is empty ({half.height} such row(s))")
    return ids.drop_nulls().drop("line").unique(maintain_order=True)


def links_file_name(source_entity: str, target_entity: str) -> str:
    """``<source stem>-<target stem>.csv``."""
    return f"{entity_file_stem(source_entity)}-{entity_file_stem(target_entity)}.csv"


def read_links_dir(
    directory: str | Path | None, pairs: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], pl.DataFrame]:
    """The links files present in ``directory`` for the given ``(source, target)`` entity
    pairs, keyed by the pair's entity stems. File names match ignoring case and spaces
    (``Contactperson-Customer.csv`` and ``contactperson-customer.csv`` are the same pair).
    A missing directory is an error, and so are two files naming one pair; a missing file
    just means the pair has no explicit links."""
    if directory is None:
        return {}
    root = Path(directory)
    if root.is_file():
        raise SnapshotError(
            f"{root}: --links takes a Sesam dataset export (.json or .jsonl) or a directory of "
            "<source>-<target>.csv files, not this file"
        )
    if not root.is_dir():
        raise SnapshotError(f"{root}: links directory does not exist")
    by_name: dict[str, list[Path]] = {}
    for path in root.iterdir():
        if path.is_file():
            by_name.setdefault("".join(path.name.lower().split()), []).append(path)
    out: dict[tuple[str, str], pl.DataFrame] = {}
    for source, target in pairs:
        found = by_name.get(links_file_name(source, target), [])
        if len(found) > 1:
            names = ", ".join(sorted(p.name for p in found))
            raise SnapshotError(f"{root}: several links files name one pair ({names})")
        if found:
            out[(entity_file_stem(source), entity_file_stem(target))] = read_links_file(found[0])
    return out
