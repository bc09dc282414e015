"""Snapshot directory -> one polars frame per entity, nested objects flattened.

A snapshot directory holds one file per entity, named by the entity's snapshot stem
(:func:`audit.flow.model.entity_file_stem`): ``customer.jsonl`` (one API record per line),
``customer.json`` (one JSON array) or ``customer.parquet`` (nested structs or dotted
column names). Records are kept exactly as the API returned them; the only change is that
nested objects become dotted columns (``{"MailAddress": {"City": "Oslo"}}`` ->
``MailAddress.City``). Lists stay list columns.

This is the one module of the audit that reads record files. Everything it rejects is a
:class:`~audit.errors.SnapshotError` (exit 2) naming the file and the line or record:

- a snapshot that lacks an entity file the flow needs (or holds two formats of it);
- bytes that are not UTF-8 (file and line);
- a line that is not a JSON object (file and line);
- one field holding values of different JSON types in different records (say a number
  in one record and a string in another; integers and decimals count as one type);
- a record without an id, or an id used by two records.

Reading is fast for big files: JSON Lines are parsed once, by pyarrow, which infers the
schema as it goes and refuses a field whose JSON type changes between records (polars
would silently turn numbers into text); only when it objects does a slow line-by-line
scan run to name the exact line and field.

It also reads explicit links files (``<source entity>-<target entity>.csv``), which are
input files of the same run.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import polars as pl

from audit.errors import SnapshotError
from audit.flow.model import entity_file_stem

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
    """

    entity: str
    frame: pl.DataFrame
    id_column: str
    file: str

    @property
    def height(self) -> int:
        return self.frame.height

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
            where = self.directory or "<records>"
            raise SnapshotError(
                f"{where}: snapshot lacks an entity file for {name!r} "
                f"(expected {stem}.jsonl, {stem}.json or {stem}.parquet)"
            ) from None

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


# --------------------------------------------------------------------------- reading
def _kind(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _a(kind: str) -> str:
    return ("an " if kind[0] in "aeiou" else "a ") + kind


def _scan_types(records: Iterable[tuple[int, Any]], file: str, unit: str) -> None:
    """Raise on the first record that is not an object or whose field changes JSON type.

    ``records`` yields ``(number, parsed record)``; ``unit`` is ``line`` or ``record``.
    """
    seen: dict[str, tuple[str, int]] = {}

    def walk(node: dict[str, Any], prefix: str, number: int) -> None:
        for key, value in node.items():
            path = f"{prefix}{key}"
            kind = _kind(value)
            if kind is None:
                continue
            first = seen.get(path)
            if first is None:
                seen[path] = (kind, number)
            elif first[0] != kind:
                raise SnapshotError(
                    f"{file}:{number}: mixed types in field {path!r}: {_a(kind)} here, "
                    f"{_a(first[0])} at {unit} {first[1]}"
                )
            if kind == "object":
                walk(value, path + ".", number)

    for number, record in records:
        if not isinstance(record, dict):
            raise SnapshotError(f"{file}:{number}: {unit} is not a JSON object")
        walk(record, "", number)


def _jsonl_lines(data: bytes, file: str) -> Iterable[tuple[int, Any]]:
    for number, raw in enumerate(data.split(b"\n"), start=1):
        if not raw.strip():
            continue
        try:
            yield number, json.loads(raw)
        except json.JSONDecodeError as exc:
            raise SnapshotError(f"{file}:{number}: not valid JSON ({exc.msg})") from None


def _check_utf8(data: bytes, file: str) -> None:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise SnapshotError(f"{file}:{line}: bytes that are not UTF-8 (offset {exc.start})") from None


#: Bytes read from the head of a JSON Lines file to learn which fields hold timestamps.
_SNIFF_BYTES = 1 << 20
_ARROW_ERRORS: tuple[type[BaseException], ...] = (UnicodeDecodeError,)


def _arrow():
    """pyarrow and its JSON reader, imported on first use (with their error types)."""
    global _ARROW_ERRORS
    import pyarrow as pa
    import pyarrow.json as pj

    _ARROW_ERRORS = (pa.ArrowException, UnicodeDecodeError)
    return pa, pj


def _as_text_type(t):
    """``t`` with every timestamp/date/time part made text, keeping only the parts that
    hold one (``None`` when ``t`` holds none): a partial explicit schema for pyarrow."""
    pa, _ = _arrow()
    if pa.types.is_timestamp(t) or pa.types.is_date(t) or pa.types.is_time(t):
        return pa.string()
    if pa.types.is_struct(t):
        fields = [pa.field(f.name, sub) for f in t if (sub := _as_text_type(f.type)) is not None]
        return pa.struct(fields) if fields else None
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        sub = _as_text_type(t.value_type)
        return pa.list_(sub) if sub is not None else None
    return None


def _merge_types(a, b):
    """Two partial explicit types in one (struct fields united, ``b`` filling gaps)."""
    pa, _ = _arrow()
    if a is None:
        return b
    if b is None:
        return a
    if pa.types.is_struct(a) and pa.types.is_struct(b):
        names = [f.name for f in a] + [f.name for f in b if a.get_field_index(f.name) < 0]
        out = []
        for name in names:
            fa = a.field(name).type if a.get_field_index(name) >= 0 else None
            fb = b.field(name).type if b.get_field_index(name) >= 0 else None
            out.append(pa.field(name, _merge_types(fa, fb)))
        return pa.struct(out)
    if pa.types.is_list(a) and pa.types.is_list(b):
        return pa.list_(_merge_types(a.value_type, b.value_type))
    return a


def _arrow_read(source: bytes | Path, explicit, block_size: int):
    pa, pj = _arrow()
    parse = None
    if explicit is not None:
        parse = pj.ParseOptions(explicit_schema=pa.schema(list(explicit)), unexpected_field_behavior="infer")
    src = pa.BufferReader(source) if isinstance(source, bytes) else str(source)
    return pj.read_json(src, read_options=pj.ReadOptions(block_size=block_size), parse_options=parse)


def _head(source: bytes | Path) -> bytes:
    """The first whole lines of ``source`` (about :data:`_SNIFF_BYTES`)."""
    if isinstance(source, bytes):
        chunk = source[:_SNIFF_BYTES]
    else:
        with source.open("rb") as fh:
            chunk = fh.read(_SNIFF_BYTES)
    cut = chunk.rfind(b"\n")
    return chunk[: cut + 1] if cut >= 0 else b""


#: Target size of pyarrow's JSON Lines blocks. Blocks are parsed in parallel and their
#: inferred schemas united; on the 1M-record demo files any size from 1 to 64 MiB costs
#: the same CPU time (within 3 %), and 16 MiB keeps every core busy on a file of 100 MB.
_BLOCK = 16 << 20
#: Largest single block (pyarrow's block size is a 32-bit count of bytes).
_MAX_BLOCK = 1 << 30


def _block_size(size: int, target: int | None = None) -> int:
    """pyarrow block size for a source of ``size`` bytes: at most about ``target``
    (default :data:`_BLOCK`), the source split evenly.

    Why evenly: when the last block holds only the end of the file's last line (a line
    straddling the last boundary), pyarrow 26 parses that line without its type checks: a
    number there in a text field is silently read as text, and some other changes crash
    the process. Blocks of equal size leave a last block of nearly a whole block, which
    never is that fragment.
    """
    blocks = max(1, -(-size // (target or _BLOCK)))
    return -(-size // blocks) + 1


#: Chooses the columns to keep from an entity file's flat column names (the id column is
#: always kept); see :func:`read_entity_file`.
ColumnChooser = Callable[[list[str]], Iterable[str]]


def _flat_table(table):
    """An arrow table with nested structs as dotted columns (named as :func:`flatten` does)."""
    pa, _ = _arrow()
    while any(pa.types.is_struct(f.type) for f in table.schema):
        table = table.flatten()
    return table


def _chosen(names: list[str], columns: ColumnChooser | None) -> list[str]:
    """``names`` cut to what ``columns`` keeps, plus the id column, in file order (all of
    them without a chooser or an id column: a file without ids is refused later, whole)."""
    id_column = find_id_column(names)
    if columns is None or id_column is None:
        return names
    keep = set(columns(names)) | {id_column}
    return [c for c in names if c in keep]


def _parse_jsonl(
    source: bytes | Path, size: int, block: int, columns: ColumnChooser | None = None
) -> pl.DataFrame:
    """One strict parse of a JSON Lines source with pyarrow, as a flat polars frame.

    Why pyarrow and one pass: pyarrow infers the schema while it parses (polars, asked to
    infer from every record, parses twice) and, unlike polars, refuses a field whose JSON
    type changes between records ("changed from string to number"), which is the
    mixed-types check itself. Its one liberty is reading ISO date-like strings as
    timestamps; the audit must see values exactly as written, so the fields that hold
    such strings are pinned to text: learned from the file's head before the full read,
    and, for a field first seen later, by reading once more with it pinned (rare).

    ``block`` is pyarrow's block size. ``columns`` picks the columns to keep; the others
    are dropped before the records become a polars frame.

    Raises pyarrow's errors (and ``UnicodeDecodeError``) unchanged; the caller names the
    line.
    """
    pa, _ = _arrow()
    head_bytes = _head(source)
    explicit = None
    head = None
    table = None
    if head_bytes.strip():
        head = _arrow_read(head_bytes, None, len(head_bytes) + 1)  # one block
        explicit = _as_text_type(pa.struct(list(head.schema)))
        if len(head_bytes) >= size and explicit is None:
            table = head  # the head is the whole source
    while table is None:
        table = _arrow_read(source, explicit, block)
        more = _as_text_type(pa.struct(list(table.schema)))
        if more is not None:  # timestamps in fields the head did not show
            explicit, table = _merge_types(explicit, more), None
    table.validate(full=True)  # UTF-8 of every string (pyarrow's reader does not check)
    table = _flat_table(table)
    names = table.column_names
    if explicit is not None and head is not None:
        # pinned fields come first in pyarrow's output; restore first-seen order
        seen = _flat_table(head.schema.empty_table()).column_names
        have = set(names)
        first = [c for c in seen if c in have]
        placed = set(first)
        names = first + [c for c in names if c not in placed]
    return pl.from_arrow(table.select(_chosen(names, columns)))


def _read_jsonl(source: bytes | Path, file: str, columns: ColumnChooser | None = None) -> pl.DataFrame:
    """A JSON Lines source (the file's bytes, or its path) as a flat frame.

    The fast path is one pyarrow parse (:func:`_parse_jsonl`) in blocks of about
    :data:`_BLOCK` bytes (:func:`_block_size`). pyarrow infers each block's schema on its
    own and cannot always unite them (a list that is empty in every record of one block
    and holds objects in another), so when it objects the source is parsed again in as few
    blocks as pyarrow takes; only when that objects too is it read line by line to name
    the file, line and field at fault.
    """
    size = len(source) if isinstance(source, bytes) else source.stat().st_size
    if size == 0:
        return pl.DataFrame()
    first = _block_size(size)
    for block in [first] + ([_block_size(size, _MAX_BLOCK)] if first <= size else []):
        try:
            return _parse_jsonl(source, size, block, columns)
        except _ARROW_ERRORS:
            pass
    data = source if isinstance(source, bytes) else source.read_bytes()
    _check_utf8(data, file)
    _scan_types(_jsonl_lines(data, file), file, "line")
    raise SnapshotError(f"{file}: could not be read as JSON Lines") from None


def _read_json(data: bytes, file: str) -> pl.DataFrame:
    _check_utf8(data, file)
    try:
        records = json.loads(data)
    except json.JSONDecodeError as exc:
        raise SnapshotError(f"{file}:{exc.lineno}: not valid JSON ({exc.msg})") from None
    if isinstance(records, dict) and isinstance(records.get("data"), list):
        records = records["data"]  # a v1 response envelope, kept as returned
    if not isinstance(records, list):
        raise SnapshotError(f"{file}: expected a JSON array of records")
    _scan_types(enumerate(records, start=1), file, "record")
    if not records:
        return pl.DataFrame()
    return pl.from_dicts(records, infer_schema_length=None)


def _read_parquet(path: Path, file: str) -> pl.DataFrame:
    try:
        return pl.read_parquet(path)
    except Exception as exc:
        raise SnapshotError(f"{file}: not a readable parquet file ({exc})") from None


def _line_of_record(data: bytes | Path | None, index: int) -> str:
    """``line N`` of the ``index``-th (0-based) non-blank JSON line, or ``record N``.

    ``data`` is the JSON Lines bytes or file (read only here, on the error path)."""
    if data is None:
        return f"record {index + 1}"
    if isinstance(data, Path):
        data = data.read_bytes()
    count = -1
    for number, raw in enumerate(data.split(b"\n"), start=1):
        if raw.strip():
            count += 1
            if count == index:
                return f"line {number}"
    return f"record {index + 1}"


def find_id_column(columns: list[str]) -> str | None:
    """The id column among ``columns``: ``id``, ``Id``, else any spelling of it."""
    for name in ("id", "Id"):
        if name in columns:
            return name
    for name in columns:
        if name.lower() == "id":
            return name
    return None


def _entity_frame(frame: pl.DataFrame, entity: str, file: str, data: bytes | Path | None) -> EntityFrame:
    """Flatten and check ids: every record has one, and no two records share one."""
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
    if ids.dtype.is_integer():  # an integer is never blank, and its text is only needed on errors
        missing = ids.is_null().arg_true()
    else:
        text = ids.cast(pl.String)
        missing = (text.is_null() | (text.str.strip_chars() == "")).arg_true()
    if missing.len():
        where = _line_of_record(data, int(missing[0]))
        raise SnapshotError(
            f"{file}: {where}: record without an id ({missing.len()} such record(s) in the file)"
        )
    # Counting distinct ids is far cheaper than flagging every duplicated row; the rows are
    # looked for only when there are duplicates. (Integer and text ids are distinct exactly
    # when their texts are; other types are compared as text.)
    distinct = ids if ids.dtype == pl.String or ids.dtype.is_integer() else text
    if distinct.n_unique() == frame.height:
        return EntityFrame(entity, frame, id_column, file)
    text = ids.cast(pl.String)
    dup = text.is_duplicated().arg_true()
    if dup.len():
        first = int(dup[0])
        key = text[first]
        rows = text.eq(key).arg_true().to_list()[:3]
        where = ", ".join(_line_of_record(data, r) for r in rows)
        raise SnapshotError(f"{file}: duplicate id {key!r} ({where}; {dup.len()} records share ids)")
    return EntityFrame(entity, frame, id_column, file)


def read_entity_file(
    path: str | Path, entity: str | None = None, columns: ColumnChooser | None = None
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

    Raises
    ------
    SnapshotError
        When the file cannot be used (see the module docstring).
    """
    path = Path(path)
    file = str(path)
    entity = entity_file_stem(entity or path.stem)
    if path.suffix == ".parquet":
        return _choose(_entity_frame(_read_parquet(path, file), entity, file, None), columns)
    try:
        if path.suffix == ".jsonl":  # parsed from the file; bytes read only to name a bad line
            path.stat()
            return _entity_frame(_read_jsonl(path, file, columns), entity, file, path)
        data = path.read_bytes()
    except OSError as exc:
        raise SnapshotError(f"{file}: cannot read ({exc.strerror})") from None
    if path.suffix == ".json":
        return _choose(_entity_frame(_read_json(data, file), entity, file, None), columns)
    raise SnapshotError(f"{file}: unknown snapshot file type (expected {', '.join(SUFFIXES)})")


def _choose(ef: EntityFrame, columns: ColumnChooser | None) -> EntityFrame:
    """``ef`` cut to the columns ``columns`` keeps (files read whole, then cut)."""
    names = _chosen(ef.frame.columns, columns)
    return ef if len(names) == ef.frame.width else replace(ef, frame=ef.frame.select(names))


def frame_from_records(records: list[Mapping[str, Any]], entity: str) -> EntityFrame:
    """Records in memory, read by exactly the rules of a ``.jsonl`` file."""
    data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode("utf-8")
    file = f"<records:{entity}>"
    return _entity_frame(_read_jsonl(data, file), entity_file_stem(entity), file, data)


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
    found = [root / f"{stem}{suffix}" for suffix in SUFFIXES if (root / f"{stem}{suffix}").is_file()]
    if not found:
        raise SnapshotError(
            f"{root}: snapshot lacks an entity file for {stem!r} "
            f"(expected {stem}.jsonl, {stem}.json or {stem}.parquet)"
        )
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


# --------------------------------------------------------------------------- links files
def read_links_file(path: str | Path) -> pl.DataFrame:
    """An explicit links file: CSV with columns ``source_id,target_id``, read as text.

    Returns a frame with String columns ``source_id`` and ``target_id``, blank cells
    dropped, duplicate rows removed.
    """
    path = Path(path)
    try:
        frame = pl.read_csv(path, infer_schema=False)
    except Exception as exc:
        raise SnapshotError(f"{path}: not a readable links CSV ({exc})") from None
    missing = {"source_id", "target_id"} - set(frame.columns)
    if missing:
        raise SnapshotError(f"{path}: links file lacks column(s) {', '.join(sorted(missing))}")
    return (
        frame.select(
            pl.col("source_id").str.strip_chars(),
            pl.col("target_id").str.strip_chars(),
        )
        .filter(
            pl.col("source_id").is_not_null()
            & (pl.col("source_id") != "")
            & pl.col("target_id").is_not_null()
            & (pl.col("target_id") != "")
        )
        .unique(maintain_order=True)
    )


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
