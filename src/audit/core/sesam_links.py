"""A Sesam dataset export -> the links of a pair (frames out).

Sesam records which records it merged in its global datasets (``global-person``, ...):
each entity's ``$ids`` lists namespaced identifiers ``~:<dataset>:<record id>``, one per
record merged into it, and two records whose identifiers sit in one entity are linked
(Sesam docs, datanav/docs ``hub/documentation/data-management/data-management.rst``,
"$ids"). An export is what the Service API's ``GET /api/datasets/<id>/entities`` answers
(datanav/docs ``hub/api.rst``): a JSON array of entities (``.json``), or the same entities
one per line (``.jsonl``).

What is read, and what is left out:

- an entity with ``"_deleted": true`` links nothing (Sesam keeps deleted entities in a
  dataset's log; they are no longer merged records);
- an identifier of a dataset neither side of a pair reads (another system's record) is
  ignored for that pair;
- an identifier that is not of the form ``~:<dataset>:<id>`` is ignored and counted.

An export is read by DuckDB's JSON reader (native and parallel: a two-million-entity
export in about two seconds); when DuckDB cannot read it, or an entity has a shape refused
below, the strict Python reader reads it again and names the file and the entity or line.

Per pair, every record identifier of the source dataset is linked to every one of the
target dataset in the same entity; the audit then drops rows naming a record the
snapshots do not hold and finds one-to-one links and ambiguous groups exactly as for
merge rules (:func:`audit.core.links.resolve_links`).
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import polars as pl

from audit.errors import SnapshotError
from audit.flow.model import entity_file_stem
from audit.flow.profile import system_key

__all__ = ["EXPORT_SUFFIXES", "SesamExport", "dataset_name", "is_export", "read_export"]

#: File suffixes of a Sesam dataset export.
EXPORT_SUFFIXES = (".json", ".jsonl")


def dataset_name(system: str | None, entity: str) -> str:
    """The default Sesam dataset of a system's entity: ``<system>-<entity>`` in lower
    case (``PowerOfficeGo``, ``Contactperson`` -> ``powerofficego-contactperson``)."""
    return f"{system_key(system or '')}-{entity_file_stem(entity)}"


def is_export(path: str | Path) -> bool:
    """True when ``path`` names a file with a Sesam export suffix (``.json``, ``.jsonl``)."""
    return Path(path).suffix.lower() in EXPORT_SUFFIXES


@dataclass(frozen=True)
class SesamExport:
    """The identifiers of a dataset export's live entities.

    Attributes
    ----------
    file : str
        Where the export was read from.
    identifiers : pl.DataFrame
        ``entity`` (position of the entity in the file), ``dataset`` and ``record_id``
        (text): one row per namespaced identifier of a live entity.
    stats : dict
        ``entities``, ``deleted_entities`` and ``unreadable_identifiers`` counts.
    """

    file: str
    identifiers: pl.DataFrame
    stats: dict[str, int] = field(default_factory=dict)

    def links_between(self, source_dataset: str, target_dataset: str, distinct: bool = True) -> pl.DataFrame:
        """``source_id, target_id`` (text): every source-dataset record of an entity with
        every target-dataset record of the same entity (the ids of other datasets left out).

        Each pair once, in the export's order; with ``distinct`` false, once per entity
        that links them, in no set order (cheaper: the audit makes its candidate links
        distinct itself, :func:`audit.core.links.match_links_file`)."""
        ids = self.identifiers
        s = ids.filter(pl.col("dataset") == source_dataset).select("entity", pl.col("record_id").alias("source_id"))
        t = ids.filter(pl.col("dataset") == target_dataset).select("entity", pl.col("record_id").alias("target_id"))
        pairs = s.join(t, on="entity", how="inner").select("source_id", "target_id")
        return pairs.unique(maintain_order=True) if distinct else pairs

    @cached_property
    def datasets(self) -> tuple[str, ...]:
        """The datasets the export's live entities name, sorted."""
        return tuple(sorted(self.identifiers.get_column("dataset").unique().to_list()))


def _json_entities(path: Path) -> Iterator[tuple[str, Any]]:
    """``(where, entity)`` of a ``.json`` export (one JSON array)."""
    raw = path.read_bytes()
    skip = len(codecs.BOM_UTF8) if raw.startswith(codecs.BOM_UTF8) else 0  # a byte-order mark, as DuckDB reads it
    try:
        data = json.loads(raw[skip:].decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise SnapshotError(f"{path}: bytes that are not UTF-8 (offset {exc.start + skip})") from None
    except json.JSONDecodeError as exc:
        raise SnapshotError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg})") from None
    if not isinstance(data, list):
        raise SnapshotError(f"{path}: a Sesam dataset export must be a JSON array of entities")
    for number, entity in enumerate(data, start=1):
        yield f"{path}: entity {number}", entity


def _jsonl_entities(path: Path) -> Iterator[tuple[str, Any]]:
    """``(where, entity)`` of a ``.jsonl`` export (one entity a line)."""
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if number == 1 and raw.startswith(codecs.BOM_UTF8):  # a byte-order mark, as DuckDB reads it
                raw = raw[len(codecs.BOM_UTF8) :]
            if not raw.strip():
                continue
            try:
                yield f"{path}:{number}", json.loads(raw.decode("utf-8"))
            except UnicodeDecodeError:
                raise SnapshotError(f"{path}:{number}: bytes that are not UTF-8") from None
            except json.JSONDecodeError as exc:
                raise SnapshotError(f"{path}:{number}: not valid JSON ({exc.msg})") from None


def _live_ids(where: str, entity: Any) -> list[str] | None:
    """The ``$ids`` of one entity, or ``None`` when it is deleted; raise on a bad shape."""
    if not isinstance(entity, dict):
        raise SnapshotError(f"{where}: an entity must be a JSON object")
    deleted = entity.get("_deleted")
    if deleted is None:  # missing or null: not deleted (DuckDB's reader cannot tell the two apart)
        deleted = False
    if not isinstance(deleted, bool):
        raise SnapshotError(f"{where}: _deleted must be true or false, not {deleted!r}")
    ids = entity.get("$ids")
    if ids is None:
        ids = []
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise SnapshotError(f"{where}: $ids must be a list of strings")
    return None if deleted else ids


def _identifiers(entities: Iterable[tuple[str, Any]]) -> tuple[pl.DataFrame, dict[str, int]]:
    """The identifiers of the live entities, and the counts of what was read."""
    positions: list[int] = []
    names: list[str] = []
    total = deleted = 0
    for position, (where, entity) in enumerate(entities):
        total += 1
        ids = _live_ids(where, entity)
        if ids is None:
            deleted += 1
            continue
        positions.extend([position] * len(ids))
        names.extend(ids)
    raw = pl.DataFrame({"entity": positions, "ni": names}, schema={"entity": pl.Int64, "ni": pl.String})
    return _split(raw, total, deleted)


#: The export's entities as DuckDB reads them: position, ``$ids`` and ``_deleted`` as JSON.
_ENTITIES_SQL = """
CREATE TEMP TABLE e AS SELECT row_number() OVER () - 1 AS entity, "$ids" AS ids, "_deleted" AS deleted
FROM read_json(?, format = '{format}', columns = {{'$ids': 'JSON', '_deleted': 'JSON'}})
"""
#: Counts, and the entities of a shape :func:`_live_ids` refuses.
_CHECK_SQL = """
SELECT count(*),
  count(*) FILTER (WHERE json_type(deleted) = 'BOOLEAN' AND deleted::BOOLEAN),
  count(*) FILTER (WHERE NOT ((deleted IS NULL OR json_type(deleted) = 'BOOLEAN')
    AND (ids IS NULL OR json_type(ids) = 'NULL' OR (json_type(ids) = 'ARRAY'
      AND list_bool_and(list_transform(json_type(ids, '$[*]'), lambda t: t = 'VARCHAR')) IS NOT FALSE))))
FROM e
"""
_IDS_SQL = """
SELECT entity, unnest(from_json(ids, '["VARCHAR"]')) AS ni FROM e
WHERE ids IS NOT NULL AND json_type(ids) = 'ARRAY' AND NOT coalesce(deleted::BOOLEAN, false)
"""


#: Characters DuckDB's file readers take as a glob pattern (DuckDB docs, "Multiple Files":
#: ``*``, ``**``, ``?``, ``[abc]``); a path holding one is read by the strict reader.
_GLOB_CHARACTERS = "*?["


def _ends_an_array(path: Path) -> bool:
    """True when the file's last character other than white space is ``]``."""
    with path.open("rb") as handle:
        handle.seek(max(0, path.stat().st_size - 4096))
        return handle.read().rstrip().endswith(b"]")


def _fast_identifiers(path: Path) -> tuple[pl.DataFrame, dict[str, int]] | None:
    """:func:`_identifiers` of an export read by DuckDB's JSON reader (parallel, native),
    or ``None`` when DuckDB cannot read it or an entity has a shape the audit refuses:
    then the Python reader reads it again and names the file and entity or line."""
    import duckdb

    absolute = str(path.resolve())  # what DuckDB is given: a folder above a relative path counts too
    if any(c in absolute for c in _GLOB_CHARACTERS):
        return None  # DuckDB reads a path as a glob: ``export[1].json`` would read ``export1.json``
    fmt = "newline_delimited" if path.suffix.lower() == ".jsonl" else "array"
    if fmt == "array" and not _ends_an_array(path):
        return None  # DuckDB reads ``[{...},`` (a cut-off export) as whole; the strict reader refuses it
    con = duckdb.connect(":memory:")
    try:
        con.execute(_ENTITIES_SQL.format(format=fmt), [absolute])
        ((total, deleted, bad),) = con.execute(_CHECK_SQL).fetchall()
        if bad:
            return None
        raw = con.sql(_IDS_SQL).pl()
    except duckdb.Error:
        return None
    finally:
        con.close()
    return _split(raw.cast({"entity": pl.Int64, "ni": pl.String}), total, deleted)


def _split(raw: pl.DataFrame, total: int, deleted: int) -> tuple[pl.DataFrame, dict[str, int]]:
    """``entity, ni`` -> ``entity, dataset, record_id`` (readable identifiers) and counts."""
    # ``~:<dataset>:<record id>``: ``~``, a dataset without colons, and the rest (a record id
    # may hold colons itself), neither empty (split, at a third of a regular expression's cost)
    split = pl.col("ni").str.splitn(":", 3).struct.rename_fields(["tilde", "dataset", "record_id"])
    fields = raw.select("entity", split.alias("g")).unnest("g")
    readable = (pl.col("tilde") == "~") & (pl.col("dataset") != "") & (pl.col("record_id") != "")
    parts = fields.select("entity", *(pl.when(readable).then(pl.col(c)) for c in ("dataset", "record_id")))
    identifiers = parts.drop_nulls()
    unreadable = parts.height - identifiers.height
    stats = {"entities": total, "deleted_entities": deleted, "unreadable_identifiers": unreadable}
    return identifiers, stats


def read_export(path: str | Path) -> SesamExport:
    """Read a Sesam dataset export (``.json`` array or ``.jsonl``).

    Raises
    ------
    SnapshotError
        A missing file, bytes that are not UTF-8, invalid JSON, or an entity that is not
        an object or whose ``$ids`` is not a list of strings (naming the file and the
        line or entity).
    """
    path = Path(path)
    if not path.is_file():
        raise SnapshotError(f"{path}: Sesam dataset export does not exist")
    read = _fast_identifiers(path)
    if read is None:
        entities = _jsonl_entities(path) if path.suffix.lower() == ".jsonl" else _json_entities(path)
        read = _identifiers(entities)
    return SesamExport(str(path), *read)
