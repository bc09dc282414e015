"""Which side of a mismatch keeps its value: the direction policy of the write-back.

Pure functions over two values and two last-changed stamps; no frames, no files.

Policies
--------
``latest`` (default)
    Sesam Talk's own conflict rule: a non-empty value beats an empty one; otherwise the
    side changed most recently wins. Equal or missing stamps decide nothing (the
    mismatch is left for a person).
``source`` / ``target``
    That side wins. A winning *empty* value would blank out the other side's value, so
    such a row is left undecided; a person can still choose it in a decisions CSV.
Decisions
    A person's per-row choice (``source``, ``target`` or ``skip``) overrides the policy.

Each answer carries the rule in words, which the plan shows the reviewer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from audit.core import values
from audit.core.values import ValueSpec

__all__ = ["POLICIES", "DECISIONS", "Decision", "decide", "is_empty", "parse_stamp"]

Policy = Literal["latest", "source", "target"]
POLICIES = ("latest", "source", "target")
DECISIONS = ("source", "target", "skip")


@dataclass(frozen=True)
class Decision:
    """The outcome for one mismatch.

    Attributes
    ----------
    winner : str or None
        ``source`` or ``target``; ``None`` when nothing is written.
    rule : str
        Why (shown in the plan).
    skip : str or None
        When ``winner`` is ``None``: the short skip reason (``undecided``, ``decision: skip``).
    """

    winner: str | None
    rule: str
    skip: str | None = None

    @property
    def loser(self) -> str | None:
        """The side that is corrected."""
        if self.winner is None:
            return None
        return "target" if self.winner == "source" else "source"


def is_empty(value: Any, spec: ValueSpec | None = None) -> bool:
    """``None``, an empty list or object, or a value the value model calls missing (an
    empty text after the property's normalizers, when empty equals missing)."""
    if isinstance(value, (list, dict)):
        return len(value) == 0
    return values.is_missing(value, spec or ValueSpec())


def parse_stamp(value: Any, zone: str = values.DEFAULT_ZONE) -> datetime | None:
    """An aware datetime from an API stamp, or ``None``; a stamp without an offset is
    local time in ``zone`` (PowerOffice writes Norwegian local time where it writes none)."""
    return values.parse_instant(value, zone)


def _latest(source_stamp: Any, target_stamp: Any, zone: str) -> Decision:
    s, t = parse_stamp(source_stamp, zone), parse_stamp(target_stamp, zone)
    if s is None or t is None:
        missing = " and ".join(side for side, at in (("source", s), ("target", t)) if at is None)
        return Decision(None, f"latest: no lastChanged on {missing}", skip="undecided")
    if s == t:
        return Decision(None, f"latest: both sides changed at {source_stamp}", skip="undecided")
    if s > t:
        return Decision("source", f"latest: source changed {source_stamp}, after target ({target_stamp})")
    return Decision("target", f"latest: target changed {target_stamp}, after source ({source_stamp})")


def _by_person(decision: str) -> Decision:
    """A person's choice from the decisions CSV (``source``, ``target`` or ``skip``)."""
    choice = decision.strip().lower()
    if choice not in DECISIONS:
        raise ValueError(f"decision {decision!r}: use one of {', '.join(DECISIONS)}")
    if choice == "skip":
        return Decision(None, "decision: skip", skip="decision: skip")
    return Decision(choice, f"decision: {choice} (decisions CSV)")


def decide(
    policy: str,
    source_value: Any,
    target_value: Any,
    source_stamp: Any = None,
    target_stamp: Any = None,
    decision: str | None = None,
    spec: ValueSpec | None = None,
) -> Decision:
    """Decide which side of one mismatch wins.

    Parameters
    ----------
    policy : str
        ``latest``, ``source`` or ``target``.
    source_value, target_value
        The two values.
    source_stamp, target_stamp
        Each record's last-changed stamp (text as the API wrote it); used by ``latest``.
    decision : str, optional
        A person's choice for this row (``source``, ``target``, ``skip``); overrides the
        policy. Empty or ``None``: the policy decides.
    spec : ValueSpec, optional
        How the values are read (what is empty; the zone of stamps without an offset).

    Returns
    -------
    Decision

    Raises
    ------
    ValueError
        An unknown policy or decision.
    """
    if decision:
        return _by_person(decision)
    if policy not in POLICIES:
        raise ValueError(f"policy {policy!r}: use one of {', '.join(POLICIES)}")
    spec = spec or ValueSpec()
    s_empty, t_empty = is_empty(source_value, spec), is_empty(target_value, spec)
    if policy == "latest":
        if s_empty != t_empty:
            winner = "target" if s_empty else "source"
            empty = "source" if s_empty else "target"
            return Decision(winner, f"non-empty beats empty: {empty} is empty")
        return _latest(source_stamp, target_stamp, spec.zone)
    winner = policy
    if (s_empty if winner == "source" else t_empty) and not (t_empty if winner == "source" else s_empty):
        return Decision(
            None,
            f"{winner} wins, but its value is empty and would blank out the other side",
            skip="undecided",
        )
    return Decision(winner, f"{winner} wins (policy)")
