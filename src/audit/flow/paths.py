"""Flow property paths -> frame columns.

A dataflow document names properties the way one API generation spells them
(``mailAddress.city`` in v1, ``MailAddress.City`` in v2), with casing that wanders even
inside one document. A snapshot side is bound to one generation. A path resolves against
the columns of that side's flattened frame in this order:

1. ``exact``: a column of exactly that name;
2. ``case``: a column equal to it ignoring case (``lastName`` -> ``LastName``);
3. ``alias``: the other generation's name of the same field, from the system's profile
   (:meth:`audit.flow.profile.SystemProfile.names`), ignoring case (PowerOffice Go contact
   person ``city`` -> ``MailAddress.City``);
4. ``special``: Sesam's own cells. ``$original_id`` and ``$id`` stand for the record's
   id; any other ``$name`` is tried as ``name`` by the rules above.

A path none of these finds is unresolved (``via`` is ``None``); the audit reports it as
an ``unresolved_property`` finding and never skips it silently. On an entity with no
records there is nothing to resolve against: ``via`` is ``no_records`` and nothing is
reported. Paths into lists (``phone_numbers.number`` where ``phone_numbers`` is a list of
objects) do not name a column and stay unresolved.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from audit.flow.profile import GENERIC, SystemProfile

__all__ = ["Resolution", "resolve_path", "SPECIAL_ID_CELLS"]

#: Special cells that stand for the record's own id.
SPECIAL_ID_CELLS = frozenset({"$original_id", "$id"})


@dataclass(frozen=True)
class Resolution:
    """How one flow path resolved against a frame's columns.

    Attributes
    ----------
    path : str
        The path as the flow document wrote it.
    column : str or None
        The matched column, ``None`` when unresolved.
    via : str or None
        ``exact``, ``case``, ``alias``, ``special``, ``no_records``, or ``None``.
    """

    path: str
    column: str | None
    via: str | None

    @property
    def resolved(self) -> bool:
        """True when a column was found."""
        return self.column is not None

    @property
    def unresolved(self) -> bool:
        """True when the path should be reported as ``unresolved_property``."""
        return self.column is None and self.via != "no_records"

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "column": self.column, "via": self.via}


class ColumnCollision(ValueError):
    """A path matches two columns that differ only in case (``City`` and ``city``): which
    one is meant is a choice the audit does not make silently. Spell the path exactly as
    one column to pick it."""

    def __init__(self, path: str, columns: Sequence[str]):
        self.path, self.columns = path, tuple(columns)
        names = " and ".join(repr(c) for c in columns)
        super().__init__(
            f"path {path!r} matches the columns {names} when case is ignored; spell it exactly as one of them"
        )


def _casefold_index(columns: Sequence[str]) -> dict[str, list[str]]:
    index: dict[str, list[str]] = {}
    for col in columns:
        index.setdefault(col.lower(), []).append(col)
    return index


def _one(path: str, found: list[str]) -> str:
    if len(found) > 1:
        raise ColumnCollision(path, found)
    return found[0]


def resolve_path(
    path: str,
    columns: Sequence[str],
    entity: str | None = None,
    id_column: str | None = None,
    has_records: bool = True,
    profile: SystemProfile = GENERIC,
) -> Resolution:
    """Resolve a flow path against frame columns.

    Parameters
    ----------
    path : str
        The flow path (``mailAddress.city``).
    columns : sequence of str
        Columns of the flattened frame.
    entity : str, optional
        Entity stem, for the alias table (``customer``).
    id_column : str, optional
        The frame's id column, for special id cells.
    has_records : bool
        False when the frame is empty; unresolved paths then resolve as ``no_records``.
    profile : SystemProfile
        The side's system profile, for the other generation's names (``alias``).

    Returns
    -------
    Resolution
    """
    path = path.strip()
    cols = set(columns)
    if path in cols:
        return Resolution(path, path, "exact")
    index = _casefold_index(columns)
    if path.lower() in index:
        return Resolution(path, _one(path, index[path.lower()]), "case")
    for name in profile.names(entity, path):
        if name in cols:
            return Resolution(path, name, "alias")
        if name.lower() in index:
            return Resolution(path, _one(path, index[name.lower()]), "alias")
    if path.startswith("$"):
        if path.lower() in SPECIAL_ID_CELLS:
            column = id_column or (index["id"][0] if "id" in index else None)
            if column is not None:
                return Resolution(path, column, "special")
        else:
            inner = resolve_path(path[1:], columns, entity, id_column, has_records, profile)
            if inner.resolved:
                return Resolution(path, inner.column, "special")
    if not has_records:
        return Resolution(path, None, "no_records")
    return Resolution(path, None, None)
