"""The circuit breaker of a write-back run: it trips once more failures or more conflicts
are recorded than :class:`~audit.writeback.outcome.Limits` allow, and the run then stops
taking new records."""

from __future__ import annotations

import threading

from audit.writeback.outcome import Limits, Outcome

__all__ = ["Breaker"]

_FAILURES = ("failed", "unknown")
_CONFLICTS = ("conflict", "would_conflict")


class Breaker:
    """Counts failures and conflicts across worker threads.

    Attributes
    ----------
    tripped : str or None
        Why the breaker tripped (``None`` while it holds).
    """

    def __init__(self, limits: Limits):
        self.limits = limits
        self.failures = 0
        self.conflicts = 0
        self.tripped: str | None = None
        self.lock = threading.Lock()

    def record(self, outcomes: list[Outcome]) -> None:
        """Count one record's outcomes and trip when a limit is passed."""
        with self.lock:
            for o in outcomes:
                if o.status in _FAILURES:
                    self.failures += 1
                elif o.status in _CONFLICTS:
                    self.conflicts += 1
            if self.tripped is None:
                self.tripped = self._why()

    def _why(self) -> str | None:
        if self.failures > self.limits.max_failures:
            return f"{self.failures} failures (more than --max-failures {self.limits.max_failures})"
        if self.conflicts > self.limits.max_conflicts:
            return f"{self.conflicts} conflicts (more than --max-conflicts {self.limits.max_conflicts})"
        return None
