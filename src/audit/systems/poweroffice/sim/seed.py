"""Reading a seed snapshot file for the simulator's store (``.jsonl``, ``.json`` or
``.parquet``), and merging a record written through the other API generation."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from audit.core import exact_json
from audit.core.dotted import nest
from audit.errors import SnapshotError

Record = dict[str, Any]


def deep_merge(base: Record, update: Record) -> Record:
    out = copy.deepcopy(base)
    for k, v in update.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def read_snapshot_file(path: Path) -> list[Record]:
    if path.suffix == ".jsonl":
        records = []
        with open(path, "rb") as f:
            for no, raw in enumerate(f, start=1):
                try:
                    line = raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise SnapshotError(f"{path}:{no}: bytes that are not UTF-8 (column {exc.start + 1})") from None
                if not line.strip():
                    continue
                try:
                    rec = exact_json.loads(line)
                except ValueError as exc:
                    raise SnapshotError(f"{path}:{no}: not JSON ({exc})") from None
                if not isinstance(rec, dict):
                    raise SnapshotError(f"{path}:{no}: a JSON {type(rec).__name__}, not an object")
                records.append(rec)
        return records
    if path.suffix == ".json":
        try:
            data = exact_json.loads(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise SnapshotError(f"{path}: not JSON ({exc})") from None
        if not isinstance(data, list):
            raise SnapshotError(f"{path}: expected one JSON array of objects, not a JSON {type(data).__name__}")
        for number, rec in enumerate(data, start=1):
            if not isinstance(rec, dict):
                raise SnapshotError(f"{path}: record {number} is a JSON {type(rec).__name__}, not an object")
        return data
    import polars as pl

    return [nest(row.items()) for row in pl.read_parquet(path, glob=False).to_dicts()]
