"""The flow model: what a Sesam Talk dataflow document says, as plain typed data.

The parser (:mod:`audit.flow.parser`) builds these objects once; every later step (links,
suites, validation, write-back) works from them and never re-reads the document text.

``to_dict()`` on :class:`Flow` gives exactly the JSON object of the ``audit spec``
contract. Fields that the contract does not name (line numbers, the system labels a
heading used, whether the sync is two-way) stay on the objects for later steps and for
error messages, but are not part of that JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: Data types the documents declare, by their cell text without quotes.
KNOWN_DATATYPES = ("string", "integer", "float", "boolean", "list", "decimal")


def _fields(obj: Any, *names: str) -> dict[str, Any]:
    """``{name: obj.name}`` for ``names``, in that order (the plain part of a ``to_dict``)."""
    return {name: getattr(obj, name) for name in names}


@dataclass(frozen=True)
class Condition:
    """A ``Dependant on having VALUE in PATH`` clause on a property cell."""

    value: str
    path: str

    def to_dict(self) -> dict[str, str]:
        return {"value": self.value, "path": self.path}


@dataclass(frozen=True)
class MergeRule:
    """One row of a merge table: records link when ``source`` equals ``target``.

    Rows of one pair are alternatives (OR). A null or empty value never links.
    """

    source: str
    target: str
    line: int | None = field(default=None, compare=False)

    def to_dict(self) -> dict[str, str]:
        return {"source": self.source, "target": self.target}


@dataclass(frozen=True)
class PropertyMap:
    """One row of a property table: ``source`` on the source entity maps to ``target``.

    ``datatype`` is one of :data:`KNOWN_DATATYPES` or ``None`` (``N/A`` and anything
    unrecognised); ``datatype_raw`` keeps the cell text, stripped.
    """

    source: str
    target: str
    datatype: str | None
    datatype_raw: str
    conditions: tuple[Condition, ...] = ()
    line: int | None = field(default=None, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            **_fields(self, "source", "target", "datatype", "datatype_raw"),
            "conditions": [c.to_dict() for c in self.conditions],
        }


@dataclass(frozen=True)
class Link:
    """How the document says the two entities get linked.

    ``every`` is true for ``Every X will be synchronized with a Y.``; ``condition``
    holds a conditional link sentence; ``create_when`` holds an
    ``A new Y will be created from a X if ...`` sentence.
    """

    every: bool = False
    condition: str | None = None
    create_when: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return _fields(self, "every", "condition", "create_when")


@dataclass(frozen=True)
class Pair:
    """One ``<A> <EntityX> to <B> <EntityY>`` section of a document."""

    heading: str
    source_entity: str
    target_entity: str
    link: Link = field(default_factory=Link)
    merge_rules: tuple[MergeRule, ...] = ()
    properties: tuple[PropertyMap, ...] = ()
    source_label: str = ""
    target_label: str = ""
    two_way: bool = False
    line: int | None = field(default=None, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            **_fields(self, "heading", "source_entity", "target_entity"),
            "link": self.link.to_dict(),
            "merge_rules": [r.to_dict() for r in self.merge_rules],
            "properties": [p.to_dict() for p in self.properties],
        }


@dataclass(frozen=True)
class Flow:
    """A parsed dataflow document."""

    title: str
    source_system: str
    target_system: str
    generated: str | None
    pairs: tuple[Pair, ...] = ()
    warnings: tuple[str, ...] = ()
    file: str | None = field(default=None, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            **_fields(self, "title", "source_system", "target_system", "generated"),
            "pairs": [p.to_dict() for p in self.pairs],
            "warnings": list(self.warnings),
        }

    def entities(self) -> list[str]:
        """Every entity name the flow mentions, source side first, in document order."""
        seen: dict[str, None] = {}
        for pair in self.pairs:
            seen.setdefault(pair.source_entity, None)
        for pair in self.pairs:
            seen.setdefault(pair.target_entity, None)
        return list(seen)

    def pair(self, heading: str) -> Pair:
        """The pair with this heading (exact text)."""
        for p in self.pairs:
            if p.heading == heading:
                return p
        raise KeyError(heading)


def entity_file_stem(entity: str) -> str:
    """Snapshot file stem of an entity: lower case, spaces removed (``Contactperson`` ->
    ``contactperson``)."""
    return "".join(entity.lower().split())
