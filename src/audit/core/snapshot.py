"""Snapshot directory -> one polars frame per entity, nested objects flattened.

A snapshot directory holds one file per entity, named by the entity's snapshot stem
(:func:`audit.flow.model.entity_file_stem`): ``customer.jsonl`` (one API record per line),
``customer.json`` (one JSON array) or ``customer.parquet`` (nested structs or dotted
column names). Records are kept exactly as the API returned them; the only change is that
nested objects become dotted columns (``{"MailAddress": {"City": "Oslo"}}`` ->
``MailAddress.City``). Lists stay list columns.

Everything it rejects is a :class:`~audit.errors.SnapshotError` (exit 2) naming the file
and the line or record:

- a snapshot that lacks an entity file the flow needs (or holds two formats of it);
- bytes that are not UTF-8 (file and line);
- a line that is not a JSON object (file and line);
- one field holding values of different JSON types in different records (say a number
  in one record and a string in another; integers and decimals count as one type);
- a file whose records have no id field at all.

Records without an id and ids shared by two records are findings, not errors
(:mod:`audit.core.problems`); an empty (0-byte) entity file is read as no records, with a
warning.

The file formats are read by :mod:`audit.core.reading`; explicit links files, input
files of the same run, by :mod:`audit.core.links_files`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import polars as pl

from audit.core import exact_json
from audit.core.links_files import read_links_dir, read_links_file
from audit.core.partial import check_complete
from audit.core.problems import EntityProblems, entity_problems
from audit.core.reading import ColumnChooser, chosen_columns, find_id_column, read_json, read_jsonl, read_parquet
from audit.errors import SnapshotError
from audit.flow.model import entity_file_stem
from audit.flow.profile import GENERIC, SystemProfile

__all__ = [
    "EntityFrame",
    "Snapshot",
    "read_snapshot",
    "snapshot_stems",
    "entity_file",
    "read_entity_file",
    "frame_from_records",
    "flatten",
    "read_links_dir",
    "read_links_file",
    "find_id_column",
    "ColumnChooser",
    "SUFFIXES",
]

#: Accepted entity file suffixes, in the order they are looked for.
SUFFIXES = (".jsonl", ".json", ".parquet")


def _lacks_entity(where: str | Path, name: str, stem: str) -> SnapshotError:
    """The error for a snapshot without a file of entity ``name`` (snapshot stem ``stem``)."""
    return SnapshotError(
        f"{where}: snapshot lacks an entity file for {name!r} "
        f"(expected {stem}.jsonl, {stem}.json or {stem}.parquet)"
    )


@dataclass(frozen=True)
class EntityFrame:
    """The records of one entity as a flat polars frame.

    Attributes
    ----------
    entity : str
        Snapshot stem of the entity (``customer``).
    frame : pl.DataFrame
        One row per record, nested objects flattened to dotted columns.
    id_column : str
        The column holding the record id (``id`` on v1, ``Id`` on v2).
    file : str
        Where the records came from (a path, or ``<records:NAME>`` for inline records).
    profile : SystemProfile
        What is known of the system the records come from (its field names on each API
        generation); set by the audit from the flow's system names.
    problems : EntityProblems
        Records without an id, ids shared by different records, exact copies dropped,
        warnings (:mod:`audit.core.problems`).
    """

    entity: str
    frame: pl.DataFrame
    id_column: str
    file: str
    profile: SystemProfile = GENERIC
    problems: EntityProblems = field(default_factory=EntityProblems)

    @property
    def height(self) -> int:
        return self.frame.height

    def of_system(self, profile: SystemProfile) -> EntityFrame:
        """The same records, known to come from the system of ``profile``."""
        return replace(self, profile=profile)

    @property
    def generation(self) -> str:
        """``"v2"`` when the id column is PascalCase (``Id``), else ``"v1"``."""
        return "v2" if self.id_column[:1].isupper() else "v1"


@dataclass(frozen=True)
class Snapshot:
    """The entity frames of one tenant, keyed by entity stem."""

    entities: Mapping[str, EntityFrame]
    directory: str | None = None
    files: Mapping[str, str] = field(default_factory=dict)

    def entity(self, name: str) -> EntityFrame:
        """The frame of entity ``name`` (a flow entity name or its stem)."""
        stem = entity_file_stem(name)
        try:
            return self.entities[stem]
        except KeyError:
            raise _lacks_entity(self.directory or "<records>", name, stem) from None

    @classmethod
    def from_records(cls, records: Mapping[str, Iterable[Mapping[str, Any]]]) -> Snapshot:
        """A snapshot from in-memory records, ``{"customer": [{...}, ...]}``; read with the
        same rules as files (used by tests and notebooks)."""
        entities = {}
        for name, recs in records.items():
            stem = entity_file_stem(name)
            entities[stem] = frame_from_records(list(recs), stem)
        return cls(entities=entities, directory=None)


# --------------------------------------------------------------------------- flatten
def flatten(frame: pl.DataFrame, sep: str = ".") -> pl.DataFrame:
    """Nested struct columns become dotted columns, recursively; other columns stay.

    A struct with no fields (every record held ``{}``) is dropped: it carries no value.
    """
    while any(isinstance(dt, pl.Struct) for dt in frame.dtypes):
        exprs: list[pl.Expr] = []
        for name, dtype in frame.schema.items():
            if isinstance(dtype, pl.Struct):
                for fld in dtype.fields:
                    exprs.append(pl.col(name).struct.field(fld.name).alias(f"{name}{sep}{fld.name}"))
            else:
                exprs.append(pl.col(name))
        frame = frame.select(exprs)
    return frame


# --------------------------------------------------------------------------- entity files
def _entity_frame(frame: pl.DataFrame, entity: str, file: str, data: bytes | Path | None) -> EntityFrame:
    """Flatten and check ids: records without an id and records sharing one are data
    problems (:mod:`audit.core.problems`), kept with the frame for the findings."""
    frame = flatten(frame)
    id_column = find_id_column(frame.columns)
    if frame.height == 0:
        if id_column is None:
            frame = frame.with_columns(pl.Series("id", [], dtype=pl.String))
            id_column = "id"
        return EntityFrame(entity, frame, id_column, file)
    if id_column is None:
        raise SnapshotError(f"{file}: records have no 'id' field")
    ids = frame.get_column(id_column)
    if isinstance(ids.dtype, (pl.List, pl.Struct, pl.Array)):
        raise SnapshotError(f"{file}: the id field {id_column!r} is not a scalar")
    frame, problems = entity_problems(frame, id_column, file, data)
    return EntityFrame(entity, frame, id_column, file, problems=problems)


def read_entity_file(
    path: str | Path,
    entity: str | None = None,
    columns: ColumnChooser | None = None,
    parsing: AbstractContextManager[Any] | None = None,
) -> EntityFrame:
    """Read one entity file (``.jsonl``, ``.json`` or ``.parquet``).

    Parameters
    ----------
    path : str or Path
        The file.
    entity : str, optional
        Entity stem; defaults to the file stem.
    columns : callable, optional
        Given the file's flat column names, returns those to keep (the id column is kept
        anyway). Every record is still read and checked as without it; only the other
        columns' values are dropped, before they are converted (which saves time and
        memory on wide records).
    parsing : context manager, optional
        Held while the file is parsed, not while its ids are checked: a loader reading
        files on two threads lets one file parse while the ids of the one before are
        checked (:class:`audit.core.loader.SnapshotLoader`).

    Raises
    ------
    SnapshotError
        When the file cannot be used (see the module docstring).
    """
    path = Path(path)
    file = str(path)
    entity = entity_file_stem(entity or path.stem)
    parsing = parsing or nullcontext()
    if path.suffix == ".parquet":
        with parsing:
            frame = read_parquet(path, file)
        return _choose(_entity_frame(frame, entity, file, None), columns)
    try:
        if path.suffix == ".jsonl":  # parsed from the file; bytes read only to name a bad line
            if path.stat().st_size == 0:
                return _empty_file(entity, file)
            with parsing:
                frame = read_jsonl(path, file, columns)
            ef = _entity_frame(frame, entity, file, path)
            if columns is not None and ef.problems.copies:  # copies are judged on every value
                with parsing:
                    frame = read_jsonl(path, file)
                ef = _choose(_entity_frame(frame, entity, file, path), columns)
            return ef
        data = path.read_bytes()
    except OSError as exc:
        raise SnapshotError(f"{file}: cannot read ({exc.strerror})") from None
    if path.suffix == ".json":
        with parsing:
            frame = read_json(data, file)
        return _choose(_entity_frame(frame, entity, file, None), columns)
    raise SnapshotError(f"{file}: unknown snapshot file type (expected {', '.join(SUFFIXES)})")


def _empty_file(entity: str, file: str) -> EntityFrame:
    """An empty (0-byte) entity file: no records, and a warning (every counterpart of its
    records will be missing, which is rarely what a snapshot means)."""
    ef = _entity_frame(pl.DataFrame(), entity, file, None)
    warning = f"{file}: the entity file is empty (0 bytes): read as no records"
    return replace(ef, problems=EntityProblems(warnings=(warning,)))


def _choose(ef: EntityFrame, columns: ColumnChooser | None) -> EntityFrame:
    """``ef`` cut to the columns ``columns`` keeps (files read whole, then cut)."""
    names = chosen_columns(ef.frame.columns, columns)
    return ef if len(names) == ef.frame.width else replace(ef, frame=ef.frame.select(names))


def frame_from_records(records: list[Mapping[str, Any]], entity: str) -> EntityFrame:
    """Records in memory, read by exactly the rules of a ``.jsonl`` file."""
    data = "".join(exact_json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode("utf-8")
    file = f"<records:{entity}>"
    return _entity_frame(read_jsonl(data, file), entity_file_stem(entity), file, data)


def snapshot_stems(directory: str | Path, entities: Iterable[str] | None = None) -> list[str]:
    """The entity stems :func:`read_snapshot` reads, in its order (no file is opened).

    Raises
    ------
    SnapshotError
        A missing directory.
    """
    root = Path(directory)
    if not root.is_dir():
        raise SnapshotError(f"{root}: snapshot directory does not exist")
    if entities is None:
        return sorted({p.stem for p in root.iterdir() if p.suffix in SUFFIXES and p.is_file()})
    return list(dict.fromkeys(entity_file_stem(e) for e in entities))


def entity_file(directory: str | Path, stem: str) -> Path:
    """The one file of entity ``stem`` in a snapshot directory.

    Raises
    ------
    SnapshotError
        No file, or more than one format of it.
    """
    root = Path(directory)
    check_complete(root)
    found = [root / f"{stem}{suffix}" for suffix in SUFFIXES if (root / f"{stem}{suffix}").is_file()]
    if not found:
        raise _lacks_entity(root, stem, stem)
    if len(found) > 1:
        raise SnapshotError(f"{root}: entity {stem!r} has more than one file: {', '.join(p.name for p in found)}")
    return found[0]


def read_snapshot(
    directory: str | Path,
    entities: Iterable[str] | None = None,
    read: Callable[[Path, str], EntityFrame] | None = None,
) -> Snapshot:
    """Read the entity files of a snapshot directory.

    Parameters
    ----------
    directory : str or Path
        The snapshot directory.
    entities : iterable of str, optional
        Entity names (flow names or stems) to read; each must have a file. Default: every
        entity file in the directory.
    read : callable, optional
        ``read(path, stem)`` -> EntityFrame for one file; default :func:`read_entity_file`
        (the engine passes one that hands over files already read in the background).

    Raises
    ------
    SnapshotError
        A missing directory, a missing or doubled entity file, or a bad file.
    """
    root = Path(directory)
    read = read or read_entity_file
    frames: dict[str, EntityFrame] = {}
    files: dict[str, str] = {}
    for stem in snapshot_stems(root, entities):
        path = entity_file(root, stem)
        frames[stem] = read(path, stem)
        files[stem] = str(path)
    return Snapshot(entities=frames, directory=str(root), files=files)
