"""Writing the demo: records in the API's shapes, the address entity and the manifest."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import polars as pl

from audit.flow.model import entity_file_stem
from audit.systems.poweroffice.fields import FIELDS

Generation = Literal["v1", "v2"]
Format = Literal["jsonl", "parquet"]


def _neutral_name(v1: str | None, v2: str | None) -> str:
    return v2 or v1 or ""


def _is_date_of_birth(name: str) -> bool:
    """v1 writes dates of birth as midnight timestamps (``1985-03-14T00:00:00``); a date
    planted as a stamp already (``1985-03-14T00:00:00+01:00``) is written as it is."""
    return name.split(".")[-1] == "DateOfBirth" or name == "dateOfBirth"


def shape(entity: str, neutral: pl.DataFrame, generation: Generation) -> pl.DataFrame:
    """Neutral flat frame (v2 dotted names, v1 names for v1-only fields) -> the API's
    nested record shape of one generation."""
    columns: dict[str, pl.Expr] = {}
    for v1, v2 in FIELDS[entity]:
        name = _neutral_name(v1, v2)
        out = v1 if generation == "v1" else v2
        if out is None or name not in neutral.columns:
            continue
        expr = pl.col(name)
        if generation == "v1" and _is_date_of_birth(name):
            expr = pl.when(expr.str.len_chars() == 10).then(expr + "T00:00:00").otherwise(expr)
        columns[out] = expr
        if "." in name and f"{name.split('.')[0]}.__null__" in neutral.columns:
            columns[f"{out.split('.')[0]}.__null__"] = pl.col(f"{name.split('.')[0]}.__null__")
    return _nest(neutral.select(**columns))


def _nest(flat: pl.DataFrame) -> pl.DataFrame:
    """Dotted columns -> one struct per head; ``head.__null__`` makes the struct null."""
    heads: dict[str, list[str]] = {}
    for col in flat.columns:
        head = col.split(".")[0]
        heads.setdefault(head, []).append(col)
    exprs = []
    for head, cols in heads.items():
        if cols == [head]:
            exprs.append(pl.col(head))
            continue
        null_marker = f"{head}.__null__"
        fields = [pl.col(c).alias(c.split(".", 1)[1]) for c in cols if c != null_marker]
        struct = pl.struct(fields)
        if null_marker in flat.columns:
            struct = pl.when(pl.col(null_marker)).then(None).otherwise(struct)
        exprs.append(struct.alias(head))
    return flat.select(exprs)


def _addresses(parties: pl.DataFrame) -> pl.DataFrame:
    """The distinct mail addresses of ``parties`` as address records."""
    cols = [c for c in parties.columns if c.startswith("MailAddress.") and not c.endswith("__null__")]
    frame = parties
    if "MailAddress.__null__" in parties.columns:
        frame = parties.filter(~pl.col("MailAddress.__null__"))
    return (
        frame.select(cols)
        .rename({c: c.split(".", 1)[1] for c in cols})
        .unique(subset="Id", keep="first", maintain_order=True)
    )


def addresses(side: dict[str, pl.DataFrame], distinct: bool) -> pl.DataFrame:
    """The address entity of one side: its customers' and suppliers' mail addresses.

    ``distinct`` keeps the first of addresses that share an id across the two.
    """
    frame = pl.concat([_addresses(side["customer"]), _addresses(side["supplier"])])
    return frame.unique(subset="Id", keep="first", maintain_order=True) if distinct else frame


def _write(frame: pl.DataFrame, path: Path, fmt: Format) -> None:
    if fmt == "parquet":
        frame.write_parquet(path.with_suffix(".parquet"))
    else:
        frame.write_ndjson(path.with_suffix(".jsonl"))


def write_side(directory: Path, frames: dict[str, pl.DataFrame], generation: Generation, fmt: Format) -> dict[str, int]:
    """Write one tenant's entities shaped as ``generation`` and return their record counts."""
    directory.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    for entity, frame in frames.items():
        shaped = shape(entity, frame, generation)
        _write(shaped, directory / entity_file_stem(entity), fmt)
        counts[entity] = shaped.height
    return counts


def write_manifest(path: Path, manifest: dict, expected: pl.DataFrame) -> None:
    """Write ``manifest`` plus the expected findings' totals as JSON to ``path``."""
    manifest = {
        **manifest,
        "expected_findings": expected.height,
        "expected_by_status": dict(sorted(expected.group_by("status").len().iter_rows())),
    }
    path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
