"""Dotted paths into nested records (``MailAddress.City``): read one, set one, or build a
record from dotted names. Generic: no system's fields are known here, so the client's
field table, the simulator and the tests' inline tables share it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["get_path", "nest", "set_path"]


def get_path(record: Any, path: str) -> tuple[bool, Any]:
    """``(True, value)`` at ``path``, or ``(False, None)`` when any part is absent."""
    node = record
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return False, None
        node = node[part]
    return True, node


def set_path(record: dict[str, Any], path: str, value: Any) -> None:
    """Set ``path`` to ``value``, creating missing parents (and replacing ones that are
    not objects, such as ``null``)."""
    *parents, last = path.split(".")
    node = record
    for part in parents:
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    node[last] = value


def nest(items: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    """A record from ``(dotted name, value)`` pairs: ``("a.b", 1)`` -> ``{"a": {"b": 1}}``."""
    record: dict[str, Any] = {}
    for path, value in items:
        set_path(record, path, value)
    return record
