"""Numbers kept exactly as the record writes them.

A JSON reader turns a field into binary floats as soon as one record holds a decimal
(``150`` then reads ``150.0``) or an integer beyond 64 bits (two different ones then read
the same). The value model (:mod:`audit.core.values`) needs the number as written, so such
a field is kept as the numbers' texts: ``150``, ``150.5``, ``123456789012345678901234567890``.
Fields holding only 64-bit integers stay integer columns (the common case costs nothing).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from typing import Any

import polars as pl

__all__ = ["Number", "json_type", "loads", "number_paths", "numbers_as_text", "text_columns"]

_INT64 = (-(2**63), 2**63 - 1)


class Number(str):
    """A JSON number that is not a 64-bit integer, as its text (the readers' JSON type
    checks count it as a number, not a string)."""


def json_type(value: Any) -> str | None:
    """The JSON type of a parsed value: ``string``, ``number`` (an ``int``, ``float``,
    :class:`~decimal.Decimal` or :class:`Number`), ``boolean``, ``array``, ``object``, or
    ``None`` (null)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float, Decimal, Number)):  # before ``str``: a Number is one
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, (list, tuple)) else "object"


def _int(text: str) -> int | Number:
    value = int(text)
    return value if _INT64[0] <= value <= _INT64[1] else Number(text)


def loads(raw: str | bytes) -> Any:
    """``json.loads`` with decimals and long integers as :class:`Number` texts."""
    return json.loads(raw, parse_float=Number, parse_int=_int)


def _walk(node: dict[str, Any], prefix: str) -> Iterator[tuple[str, Any]]:
    for key, value in node.items():
        if isinstance(value, dict):
            yield from _walk(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def number_paths(records: Iterable[dict[str, Any]]) -> set[str]:
    """Dotted paths of the fields holding a :class:`Number` in some record."""
    return {path for record in records for path, value in _walk(record, "") if isinstance(value, Number)}


def _get(record: Any, path: Sequence[str]) -> Any:
    for part in path:
        if not isinstance(record, dict):
            return None
        record = record.get(part)
    return record


def _as_text(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        return value
    return str(value)


def numbers_as_text(records: list[dict[str, Any]], paths: set[str]) -> list[dict[str, Any]]:
    """``records`` with every number at ``paths`` as its text (in place, and returned)."""
    for path in paths:
        *head, last = path.split(".")
        for record in records:
            parent = _get(record, head)
            if isinstance(parent, dict) and last in parent:
                parent[last] = _as_text(parent[last])
    return records


def text_columns(lines: Iterable[bytes], columns: Sequence[str]) -> dict[str, pl.Series]:
    """The flat ``columns`` of JSON Lines, their numbers as written (one value per
    non-blank line)."""
    paths = {c: c.split(".") for c in columns}
    values: dict[str, list[Any]] = {c: [] for c in columns}
    for raw in lines:
        if not raw.strip():
            continue
        record = loads(raw)
        for column, path in paths.items():
            values[column].append(_as_text(_get(record, path)))
    return {c: pl.Series(c, v, dtype=pl.String) for c, v in values.items()}
