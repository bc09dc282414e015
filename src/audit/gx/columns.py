"""The names of the validation frame's columns, shared by the suites and the frame.

The suites are declared from the flow alone, so every column name follows from the flow:

- ``link``: each row's link status (``linked``, ``missing_in_target``, ...);
- ``source_key`` / ``target_key``: the ids of the row's records (the unexpected-index
  columns of a user's expectations);
- ``source.<path>`` / ``target.<path>``: a compared property's values on each side, as the
  value model normalises them (``target.mailAddress.city``), null where the property does
  not apply to the row; a path used by two properties gets the property's key appended;
- ``merge rule <source path> = <target path>``: present when the rule's paths resolved;
- ``source record id`` / ``target record id`` with ``source record`` / ``target record``:
  each side's record ids beside the link rows, for the id expectations.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from audit.core.policy import PlannedProperty
    from audit.flow.model import MergeRule

__all__ = [
    "LINK_COLUMN",
    "KEY_COLUMNS",
    "value_columns",
    "rule_column",
    "id_column",
    "record_column",
]

#: Column of the validation frame holding each row's link status.
LINK_COLUMN = "link"
#: The record keys of each row (source, target).
KEY_COLUMNS = ("source_key", "target_key")


def value_columns(planned: Iterable[PlannedProperty]) -> dict[str, tuple[str, str]]:
    """``{property key: (source column, target column)}`` of the compared properties.

    Names are ``source.<source path>`` and ``target.<target path>``; when two properties
    share a path, the later one's name carries its key in brackets.
    """
    taken: set[str] = set()
    out: dict[str, tuple[str, str]] = {}
    for p in planned:
        names = []
        for side, path in (("source", p.prop.source), ("target", p.prop.target)):
            name = f"{side}.{path}"
            if name in taken:
                name = f"{name} [{p.key}]"
            taken.add(name)
            names.append(name)
        out[p.key] = (names[0], names[1])
    return out


def rule_column(rule: MergeRule) -> str:
    """The column present when a merge rule's paths resolved."""
    return f"merge rule {rule.source} = {rule.target}"


def id_column(side: str) -> str:
    """Column holding the ids of one side's records (``source record id``)."""
    return f"{side} record id"


def record_column(side: str) -> str:
    """Column marking (1) the rows that hold a record of one side (``source record``)."""
    return f"{side} record"
