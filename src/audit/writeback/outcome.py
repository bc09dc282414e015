"""What a write-back run reports: its limits, each change's outcome, and the comparisons
the guard makes.

Statuses of a change in one run:

=================  =====================================================================
``applied``        written in this run (or found written after a lost answer / a crash)
``already_done``   the journal holds it as applied or noop from an earlier run
``noop``           the field already held the new value; nothing was written
``conflict``       the record or field changed since the audit read it; not written
``failed``         the API refused the write, or gave no answer after every attempt
``unknown``        sent, and reading it back failed too (the next run re-checks it)
``not_attempted``  the circuit breaker stopped the run first
``type_conflict``  the field's JSON type cannot hold the new value (``"0150"`` into a
                   field the API answers as a number); not written, in a dry run too
``would_*``        a dry run's ``write``, ``conflict`` or ``noop``
=================  =====================================================================
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from audit.core import values
from audit.core.values import ValueSpec
from audit.errors import EXIT_DRIFT, EXIT_EXTERNAL, EXIT_OK
from audit.writeback.model import Change

__all__ = ["Limits", "Outcome", "ApplyResult", "same_value", "same_stamp", "PROBLEM_STATUSES"]

#: Statuses that make a run end with exit code 1.
PROBLEM_STATUSES = frozenset({"conflict", "failed", "unknown", "not_attempted", "would_conflict", "type_conflict"})


@dataclass(frozen=True)
class Limits:
    """The circuit breaker and the pace of a run.

    Attributes
    ----------
    max_failures : int
        Stop once more failures than this are recorded.
    max_conflicts : int
        Stop once more conflicts than this are recorded.
    max_changes : int or None
        Refuse to start a plan holding more changes than this.
    workers : int
        Records handled at once (the rate limiter still paces the requests).
    write_attempts : int
        How often a write whose answer was lost (and that, read back, was not done) is sent.
    """

    max_failures: int = 5
    max_conflicts: int = 20
    max_changes: int | None = 1000
    workers: int = 4
    write_attempts: int = 3


@dataclass
class Outcome:
    """What became of one change in this run."""

    change: Change
    status: str
    detail: str = ""
    before: Any = None
    after: Any = None
    last_changed_before: str | None = None
    last_changed_after: str | None = None
    address_last_changed_after: str | None = None
    http_status: int | None = None

    def to_dict(self) -> dict[str, Any]:
        c = self.change
        return {
            "id": c.id,
            "pair": c.pair,
            "side": c.corrected.side,
            "tenant": c.corrected.tenant,
            "entity": c.corrected.entity,
            "record_id": c.corrected.record_id,
            "generation": c.corrected.generation,
            "field": c.field,
            "old_value": c.old_value,
            "new_value": c.new_value,
            "status": self.status,
            "detail": self.detail,
            "before": self.before,
            "after": self.after,
        }


@dataclass
class ApplyResult:
    """The outcomes of a run, in plan order."""

    outcomes: list[Outcome]
    dry_run: bool
    plan_hash: str
    journal: str | None = None
    tripped: str | None = None
    run_id: str | None = None
    requests: int = 0
    #: True when records were to be handled and the API answered none of the requests,
    #: or a tenant did not answer its token request (:mod:`audit.writeback.sides`).
    unreachable: bool = False
    #: Tenant -> why it could not be reached; its changes were skipped.
    down: dict[str, str] = field(default_factory=dict)

    @property
    def counts(self) -> dict[str, int]:
        return dict(Counter(o.status for o in self.outcomes))

    @property
    def exit_code(self) -> int:
        """0 when every change is done (or would be), 1 when any conflict, failure,
        unknown or unattempted change is recorded, 3 when the API answered nothing."""
        if self.unreachable:
            return EXIT_EXTERNAL
        return EXIT_DRIFT if any(o.status in PROBLEM_STATUSES for o in self.outcomes) else EXIT_OK

    def to_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "plan_hash": self.plan_hash,
            "journal": self.journal,
            "run_id": self.run_id,
            "tripped": self.tripped,
            "unreachable": dict(self.down),
            "counts": self.counts,
            "changes": [o.to_dict() for o in self.outcomes],
        }


# --------------------------------------------------------------------------- comparisons
def same_value(current: Any, planned: Any, spec: ValueSpec) -> bool:
    """True when two field values are the same value by the value model (the audit's
    equality: :func:`audit.core.values.equal`)."""
    return values.equal(current, planned, spec)


def same_stamp(current: Any, planned: Any, zone: str = values.DEFAULT_ZONE) -> bool:
    """True when two last-changed stamps name the same instant (text equal, or equal as
    times, a stamp without an offset read in ``zone``); a missing plan stamp never
    matches a present one."""
    return values.same_instant(current, planned, zone)
