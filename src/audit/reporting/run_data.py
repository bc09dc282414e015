"""The typed, read-only data of one ``audit run`` output directory.

:mod:`audit.reporting.rundir` reads the files into these objects; the report and the
history build on them. Nothing here knows the engine's key names or file layout.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any


def _rate(part: int, whole: int) -> float | None:
    """``part / whole``, or ``None`` when ``whole`` is 0."""
    return part / whole if whole else None


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def fields_of(obj: Any, *names: str) -> dict[str, Any]:
    """``{name: obj.name}`` for ``names``, in that order (the plain part of a ``to_dict``)."""
    return {name: getattr(obj, name) for name in names}


@dataclass(frozen=True)
class Resolution:
    """How a mapped property path resolved on one side: the path, the column it bound to
    and the rule that bound it (``exact``, ``alias``, ...); ``column`` is ``None`` when the
    path did not resolve."""

    path: str | None
    column: str | None
    via: str | None

    @property
    def resolved(self) -> bool:
        return self.column is not None

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "column": self.column, "via": self.via, "resolved": self.resolved}


class _MismatchRate:
    """``mismatch_rate`` of anything with ``checked`` and ``failing`` record counts."""

    @property
    def mismatch_rate(self) -> float | None:
        """Failing / checked, or ``None`` when nothing was checked."""
        return _rate(self.failing, self.checked)


@dataclass(frozen=True)
class PropertyCheck(_MismatchRate):
    """One mapped property of a pair: how many linked records were checked and failed."""

    source: str
    target: str
    policy: str | None
    checked: int
    failing: int
    source_resolution: Resolution
    target_resolution: Resolution

    def to_dict(self) -> dict[str, Any]:
        return {
            **fields_of(self, "source", "target", "policy", "checked", "failing"),
            "mismatch_rate": _round(self.mismatch_rate),
            "source_resolution": self.source_resolution.to_dict(),
            "target_resolution": self.target_resolution.to_dict(),
        }


@dataclass(frozen=True)
class PairSummary(_MismatchRate):
    """Counts of one entity pair of the flow, as the engine reported them; ``checked``,
    ``failing`` and ``mismatch_rate`` are over all its properties."""

    pair: str
    source_entity: str | None
    target_entity: str | None
    source_records: int
    target_records: int
    linked: int
    link_method: str | None
    missing_in_target: int
    missing_in_source: int
    ambiguous: int
    properties: tuple[PropertyCheck, ...]
    #: Set when the pair links under half of its source records (names the link method).
    link_warning: str | None = None

    @property
    def link_coverage(self) -> float | None:
        """Share of source records linked to a target record (``None`` with no source records)."""
        return _rate(self.linked, self.source_records)

    @property
    def checked(self) -> int:
        return sum(p.checked for p in self.properties)

    @property
    def failing(self) -> int:
        return sum(p.failing for p in self.properties)

    def to_dict(self) -> dict[str, Any]:
        return {
            **fields_of(self, "pair", "source_entity", "target_entity", "source_records", "target_records"),
            **fields_of(self, "linked", "link_method", "missing_in_target", "missing_in_source", "ambiguous"),
            "link_coverage": _round(self.link_coverage),
            "checked": self.checked,
            "failing": self.failing,
            "mismatch_rate": _round(self.mismatch_rate),
            "properties": [p.to_dict() for p in self.properties],
            "link_warning": self.link_warning,
        }


#: What fails an audit by default (the default policy), for a summary that does not say.
DEFAULT_FAILING = ("mismatch", "missing_in_target", "ambiguous_link", "type_violation", "unresolved_property")


@dataclass(frozen=True)
class RunSummary:
    """The headline of one ``audit run``: outcome, flow, tenants, times and pairs."""

    success: bool
    flow: str | None
    flow_title: str | None
    source: str | None
    target: str | None
    started_at: str | None
    finished_at: str | None
    pairs: tuple[PairSummary, ...]
    #: The tenants' stable labels (:mod:`audit.core.tenant_label`): the history's identity.
    source_label: str | None = None
    target_label: str | None = None
    #: The statuses that fail the audit under the run's policy.
    failing_statuses: tuple[str, ...] = DEFAULT_FAILING
    #: The run's data warnings (an empty entity file, exact copies of records dropped).
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            **fields_of(self, "success", "flow", "flow_title", "source", "target", "started_at", "finished_at"),
            **fields_of(self, "source_label", "target_label"),
            "failing_statuses": list(self.failing_statuses),
            "pairs": [p.to_dict() for p in self.pairs],
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True)
class GxResult:
    """One stored Great Expectations validation result (``gx/<slug>.json``)."""

    file: Path
    suite_name: str
    success: bool
    evaluated: int
    successful: int
    raw: dict[str, Any]

    @property
    def slug(self) -> str:
        return self.file.stem
