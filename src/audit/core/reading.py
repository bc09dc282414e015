"""Entity files -> flat polars frames: the JSON Lines, JSON and Parquet readers.

Each reader checks what it reads and raises :class:`~audit.errors.SnapshotError` naming
the file and line (or record): bytes that are not UTF-8, a line that is not a JSON object,
a field holding values of different JSON types in different records (integers and
decimals count as one type). :mod:`audit.core.snapshot` turns the frames into entity
frames and checks their ids.

JSON Lines are parsed once, by pyarrow, which infers the schema as it goes and refuses a
field whose JSON type changes between records (polars would silently turn numbers into
text); only when it objects does a slow line-by-line scan run to name the exact line and
field.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import polars as pl

from audit.core.written import json_type, loads, number_paths, numbers_as_text, text_columns
from audit.errors import SnapshotError

__all__ = ["ColumnChooser", "find_id_column", "chosen_columns", "read_jsonl", "read_json", "read_parquet"]

#: Chooses the columns to keep from an entity file's flat column names (the id column is
#: always kept); see :func:`audit.core.snapshot.read_entity_file`.
ColumnChooser = Callable[[list[str]], Iterable[str]]


def find_id_column(columns: list[str]) -> str | None:
    """The id column among ``columns``: ``id``, ``Id``, else any spelling of it."""
    for name in ("id", "Id"):
        if name in columns:
            return name
    for name in columns:
        if name.lower() == "id":
            return name
    return None


def chosen_columns(names: list[str], columns: ColumnChooser | None) -> list[str]:
    """``names`` cut to what ``columns`` keeps, plus the id column, in file order (all of
    them without a chooser or an id column: a file without ids is refused later, whole)."""
    id_column = find_id_column(names)
    if columns is None or id_column is None:
        return names
    keep = set(columns(names)) | {id_column}
    return [c for c in names if c in keep]


# --------------------------------------------------------------------------- checks
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
            kind = json_type(value)
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
            yield number, loads(raw)
        except json.JSONDecodeError as exc:
            raise SnapshotError(f"{file}:{number}: not valid JSON ({exc.msg} at column {exc.colno})") from None


def _check_utf8(data: bytes, file: str) -> None:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise SnapshotError(f"{file}:{line}: bytes that are not UTF-8 (offset {exc.start})") from None


# --------------------------------------------------------------------------- JSON Lines
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


#: Target size of pyarrow's JSON Lines blocks (blocks are parsed in parallel and their
#: inferred schemas united).
_BLOCK = 16 << 20
#: Largest single block (pyarrow's block size is a 32-bit count of bytes).
_MAX_BLOCK = 1 << 30


def _block_size(size: int, target: int | None = None) -> int:
    """pyarrow block size for a source of ``size`` bytes: at most about ``target``
    (default :data:`_BLOCK`), the source split evenly.

    Evenly, so that the last block is never only the tail of the last line: pyarrow
    parses such a block without its type checks.
    """
    blocks = max(1, -(-size // (target or _BLOCK)))
    return -(-size // blocks) + 1


def _flat_table(table):
    """An arrow table with nested structs as dotted columns (named as
    :func:`audit.core.snapshot.flatten` does)."""
    pa, _ = _arrow()
    while any(pa.types.is_struct(f.type) for f in table.schema):
        table = table.flatten()
    return table


def _pinned_table(source: bytes | Path, size: int, block: int):
    """pyarrow's table of a JSON Lines source, fields holding date-like strings read as text.

    pyarrow reads ISO date-like strings as timestamps, but the audit must see values as
    written, so those fields are pinned to text: learned from the file's head before the
    full read and, for a field first seen later, by reading once more with it pinned.

    Returns the table, the head's table (``None`` for a blank head) and the pinned types
    (``None`` when nothing is pinned).
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
    return table, head, explicit


def _first_seen_order(names: list[str], head) -> list[str]:
    """``names`` with those the head showed first, in the head's order (pyarrow puts
    pinned fields first)."""
    seen = _flat_table(head.schema.empty_table()).column_names
    have = set(names)
    first = [c for c in seen if c in have]
    placed = set(first)
    return first + [c for c in names if c not in placed]


def _parse_jsonl(source: bytes | Path, size: int, block: int, columns: ColumnChooser | None = None) -> pl.DataFrame:
    """One strict parse of a JSON Lines source with pyarrow, as a flat polars frame.

    pyarrow infers the schema while it parses (one pass) and refuses a field whose JSON
    type changes between records, which is the mixed-types check itself. ``block`` is
    pyarrow's block size; ``columns`` picks the columns to keep (the others are dropped
    before the records become a polars frame).

    Raises pyarrow's errors (and ``UnicodeDecodeError``) unchanged; the caller names the
    line.
    """
    table, head, explicit = _pinned_table(source, size, block)
    table.validate(full=True)  # UTF-8 of every string (pyarrow's reader does not check)
    table = _flat_table(table)
    names = table.column_names
    if explicit is not None and head is not None:
        names = _first_seen_order(names, head)
    frame = pl.from_arrow(table.select(chosen_columns(names, columns)))
    return _numbers_as_written(frame, source)


def _numbers_as_written(frame: pl.DataFrame, source: bytes | Path) -> pl.DataFrame:
    """``frame`` with its float columns (a decimal, or an integer beyond 64 bits, in some
    record) as the numbers' texts, read again from the source (:mod:`audit.core.written`)."""
    floats = [name for name, dtype in frame.schema.items() if dtype.is_float()]
    if not floats:
        return frame
    data = source if isinstance(source, bytes) else source.read_bytes()
    return frame.with_columns(**text_columns(data.split(b"\n"), floats))


def read_jsonl(source: bytes | Path, file: str, columns: ColumnChooser | None = None) -> pl.DataFrame:
    """A JSON Lines source (the file's bytes, or its path) as a flat frame.

    The fast path is one pyarrow parse (:func:`_parse_jsonl`) in blocks of about
    :data:`_BLOCK` bytes. pyarrow infers each block's schema on its own and cannot always
    unite them (a list that is empty in every record of one block and holds objects in
    another), so when it objects the source is parsed again in as few blocks as pyarrow
    takes; only when that objects too is it read line by line to name the file, line and
    field at fault.
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


# --------------------------------------------------------------------------- JSON, Parquet
def read_json(data: bytes, file: str) -> pl.DataFrame:
    """A JSON file's bytes (an array of records, or a v1 envelope of one) as a frame."""
    _check_utf8(data, file)
    try:
        records = loads(data)
    except json.JSONDecodeError as exc:
        raise SnapshotError(f"{file}:{exc.lineno}: not valid JSON ({exc.msg} at column {exc.colno})") from None
    if isinstance(records, dict) and isinstance(records.get("data"), list):
        records = records["data"]  # a v1 response envelope, kept as returned
    if not isinstance(records, list):
        raise SnapshotError(f"{file}: expected a JSON array of records")
    _scan_types(enumerate(records, start=1), file, "record")
    if not records:
        return pl.DataFrame()
    return pl.from_dicts(numbers_as_text(records, number_paths(records)), infer_schema_length=None)


def read_parquet(path: Path, file: str) -> pl.DataFrame:
    """A Parquet file as a frame (nested structs kept; the caller flattens them)."""
    try:
        return pl.read_parquet(path, glob=False)
    except Exception as exc:
        raise SnapshotError(f"{file}: not a readable parquet file ({exc})") from None
