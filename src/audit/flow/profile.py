"""What the audit knows of a system's records, behind one small object.

The core and the flow layer know no vendor. What is particular to one system (its field
names on each API generation, its date fields, the fields a write never sets, the stamps
it puts on its own writes) reaches them through a :class:`SystemProfile`, selected by the
system names a flow document gives (``Powerofficego``, ``PowerOfficeGo``).

Systems register their profile under the ``audit.systems`` entry point group, named by
:func:`system_key` of the system (``powerofficego = "audit.systems.poweroffice:PROFILE"``
in ``pyproject.toml``). Another system is a new package under ``audit/systems/`` and one
entry point; nothing here changes. A system without a profile gets :data:`GENERIC`: paths
then resolve by name and case only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib.metadata import entry_points
from typing import NamedTuple

__all__ = [
    "ENTRY_POINT_GROUP",
    "GENERIC",
    "GENERIC_SIDES",
    "SideProfiles",
    "SystemProfile",
    "profile_for",
    "profiles_for",
    "system_key",
]

ENTRY_POINT_GROUP = "audit.systems"

#: One entity's fields, each as its names on the system's API generations (``None`` where
#: a generation lacks the field).
FieldTable = Sequence[tuple[str | None, ...]]


@dataclass(frozen=True)
class SystemProfile:
    """A system's field knowledge, as the core needs it.

    Attributes
    ----------
    name : str
        The profile's key (``powerofficego``; ``generic`` for the fallback).
    fields : mapping of str to field table
        Per entity stem (``customer``), its fields by generation.
    date_fields : frozenset of str
        Leaf field names (lower case) whose values are calendar dates.
    read_only : frozenset of str
        Dotted paths (lower case, any generation) a write never sets.
    stamps : tuple of str
        Paths the system stamps on its own writes (compared as informational by default).
    """

    name: str
    fields: Mapping[str, FieldTable] = field(default_factory=dict)
    date_fields: frozenset[str] = frozenset()
    read_only: frozenset[str] = frozenset()
    stamps: tuple[str, ...] = ()

    def knows(self, entity: str | None) -> bool:
        """True when the profile has a field table for ``entity``."""
        return entity is not None and entity in self.fields

    def names(self, entity: str | None, path: str) -> tuple[str, ...]:
        """Every generation's name of the field ``path`` names (ignoring case), or ``()``."""
        if not self.knows(entity):
            return ()
        low = path.strip().lower()
        for row in self.fields[entity]:
            if any(name and name.lower() == low for name in row):
                return tuple(name for name in row if name)
        return ()

    def is_date(self, entity: str | None, path: str) -> bool:
        """True when the field is a calendar date on some generation."""
        names = self.names(entity, path) or (path.strip(),)
        return any(name.split(".")[-1].lower() in self.date_fields for name in names)

    def is_read_only(self, path: str) -> bool:
        """True for ids and system stamps, which a write never sets."""
        return path.strip().lower() in self.read_only

    def stamp_for(self, entity: str | None, path: str) -> str | None:
        """The stamp entry that names ``path`` (on any generation), or ``None``."""
        names = {n.lower() for n in self.names(entity, path)} | {path.strip().lower()}
        return next((stamp for stamp in self.stamps if stamp.lower() in names), None)


#: The profile of a system nothing is known of.
GENERIC = SystemProfile("generic")


def system_key(system: str) -> str:
    """The registry key of a system name: lower case, letters and digits only."""
    return re.sub(r"[^0-9a-z]", "", system.lower())


@cache
def _registered() -> dict[str, SystemProfile]:
    return {ep.name: ep.load() for ep in entry_points(group=ENTRY_POINT_GROUP)}


def profile_for(system: str | None) -> SystemProfile:
    """The profile registered for a flow's system name, else :data:`GENERIC`."""
    if not system:
        return GENERIC
    return _registered().get(system_key(system), GENERIC)


class SideProfiles(NamedTuple):
    """The profiles of a flow's two sides."""

    source: SystemProfile
    target: SystemProfile


#: Both sides unknown.
GENERIC_SIDES = SideProfiles(GENERIC, GENERIC)


def profiles_for(source_system: str | None, target_system: str | None) -> SideProfiles:
    """The profiles a flow's source and target system names select."""
    return SideProfiles(profile_for(source_system), profile_for(target_system))
