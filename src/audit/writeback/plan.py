"""Findings -> a write-back plan. Pure: frames and dicts in, a :class:`Plan` out.

For each ``mismatch`` finding the two linked records are looked up in the snapshots the
audit read, the direction policy (:mod:`audit.writeback.direction`) picks the side that
keeps its value, and the other side becomes a :class:`Change` naming the record, its API
generation, the field on that generation, the old and the new value, the record's
last-changed stamp(s) as the audit read them, and the rule. A mismatch that cannot or
must not be written becomes a :class:`Skipped` row with its reason:

``read-only``                   ids and system stamps (:func:`audit.systems.poweroffice.fields.is_read_only`)
``not writable on vN``          a field or entity the bound generation cannot write
                                (the derived address entity, v2 contact
                                ``dateOfBirth``, v1 contact ``title``)
``undecided``                   the policy cannot tell (equal stamps; an empty winner)
``decision: skip``              a person said so in the decisions CSV
``decision for other values``   the CSV row was decided on values the audit no longer shows
``snapshot disagrees with the audit``  the snapshot given is not the one audited
``conflicting corrections``     two findings want different values in one field

Nothing here reads files or touches the network (the command line does the reading).
The steps of one finding are :mod:`audit.writeback.plan_rows`; field names, writability
and value formats (the only use of the PowerOffice field tables) are
:mod:`audit.writeback.fields`; the decisions CSV is :mod:`audit.writeback.decisions`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import polars as pl

from audit.core.snapshot import Snapshot
from audit.errors import ConfigError
from audit.flow.model import entity_file_stem
from audit.writeback.decisions import DECISION_COLUMNS, check_decisions, decisions_by_row, read_decisions
from audit.writeback.direction import POLICIES
from audit.writeback.fields import new_value_for, writable_reason
from audit.writeback.model import Change, Plan, Skipped
from audit.writeback.plan_rows import RowRules, Side, plan_row, resolutions, skipped_row, value_specs

__all__ = [
    "DECISION_COLUMNS",
    "build_plan",
    "check_decisions",
    "new_value_for",
    "read_decisions",
    "writable_reason",
]


def build_plan(
    findings: pl.DataFrame,
    source: Snapshot,
    target: Snapshot,
    *,
    summary: Mapping[str, Any] | None = None,
    policy: str = "latest",
    decisions: pl.DataFrame | None = None,
    same_tenant: bool = False,
    header: Mapping[str, Any] | None = None,
    created_at: str | None = None,
) -> Plan:
    """Build the change plan of an audit's mismatches.

    Parameters
    ----------
    findings : pl.DataFrame
        The audit's findings (contract columns); only ``mismatch`` rows are planned.
    source, target : Snapshot
        The snapshots the audit read.
    summary : mapping, optional
        The audit's ``summary.json``: its path resolutions are reused; without it paths
        are resolved again against the frames.
    policy : str
        ``latest`` (default), ``source`` or ``target``.
    decisions : pl.DataFrame, optional
        A person's decisions (:data:`DECISION_COLUMNS`); they override the policy row by row.
    same_tenant : bool
        Source and target are one tenant: changes to both sides go to one API.
    header : mapping, optional
        Extra header entries (audit dir, flow, ...).
    created_at : str, optional
        ISO timestamp; now when omitted.

    Returns
    -------
    Plan

    Raises
    ------
    ConfigError
        An unknown policy or a bad decisions table.
    """
    if policy not in POLICIES:
        raise ConfigError(f"--policy {policy!r}: use one of {', '.join(POLICIES)}")
    mism = findings.filter(pl.col("status") == "mismatch")
    rules = RowRules(
        policy, same_tenant, resolutions(summary or {}), decisions_by_row(decisions), specs=value_specs(summary or {})
    )
    planned, skipped = _plan_rows(mism, source, target, rules)
    counts = _counts(mism, planned, skipped)
    head = _header(header or {}, created_at, rules, generations=_generations(mism, source, target), counts=counts)
    return Plan(header=head, changes=planned, skipped=skipped)


def _header(
    header: Mapping[str, Any],
    created_at: str | None,
    rules: RowRules,
    *,
    generations: dict[str, list[str]],
    counts: dict[str, Any],
) -> dict[str, Any]:
    """The plan header: the caller's entries, then how the plan was made."""
    head = {
        **dict(header),
        "created_at": created_at or datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "policy": rules.policy,
        "decisions": header.get("decisions"),
        "same_tenant": rules.same_tenant,
        "generations": generations,
        "counts": counts,
    }
    unmatched = rules.unmatched()
    if unmatched:
        head["unmatched_decisions"] = unmatched
    return head


def _plan_rows(
    mism: pl.DataFrame, source: Snapshot, target: Snapshot, rules: RowRules
) -> tuple[list[Change], list[Skipped]]:
    """The changes and skipped rows of the mismatch findings, pair by pair."""
    collected = _Collected()
    for (heading, s_entity, t_entity), group in mism.group_by(
        ["pair", "source_entity", "target_entity"], maintain_order=True
    ):
        sides = {
            "source": Side.load(source.entity(s_entity), set(group["source_key"].drop_nulls())),
            "target": Side.load(target.entity(t_entity), set(group["target_key"].drop_nulls())),
        }
        for f in group.iter_rows(named=True):
            collected.add(f, plan_row(f, heading, sides, rules))
    return collected.finish()


@dataclass
class _Collected:
    """Changes by id, and skipped rows; two findings wanting different values in one
    field both end skipped (``clashes``)."""

    changes: dict[str, Change] = field(default_factory=dict)
    skipped: list[Skipped] = field(default_factory=list)
    clashes: set[str] = field(default_factory=set)

    def add(self, f: Mapping[str, Any], row: Change | Skipped) -> None:
        if isinstance(row, Skipped):
            self.skipped.append(row)
            return
        earlier = self.changes.get(row.id)
        if earlier is None:
            self.changes[row.id] = row
            return
        if earlier.new_value != row.new_value:
            self.clashes.add(row.id)
            reason = f"conflicting corrections: {earlier.pair} wants {earlier.new_value!r}"
        else:
            reason = f"same correction as {earlier.pair}"
        self.skipped.append(skipped_row(f, reason, row.corrected.side, row.rule))

    def finish(self) -> tuple[list[Change], list[Skipped]]:
        """The planned changes and the skipped rows, clashing changes moved to the latter."""
        for cid in sorted(self.clashes):
            self.skipped.append(_clash(self.changes.pop(cid)))
        return list(self.changes.values()), self.skipped


def _clash(c: Change) -> Skipped:
    """The skipped row of a change another finding contradicts."""
    return Skipped(
        c.pair,
        c.source_key,
        c.target_key,
        c.source_property,
        c.target_property,
        c.old_value if c.winner == "target" else c.new_value,
        c.new_value if c.winner == "target" else c.old_value,
        "conflicting corrections: another finding wants another value",
        c.corrected.side,
        c.rule,
    )


def _counts(mism: pl.DataFrame, planned: list[Change], skipped: list[Skipped]) -> dict[str, Any]:
    """The plan header's counts: by side, by rule and by skip reason."""
    return {
        "mismatches": mism.height,
        "changes": len(planned),
        "skipped": len(skipped),
        "by_side": dict(Counter(c.corrected.side for c in planned)),
        "by_rule": dict(Counter(c.rule.split(":")[0].split(" (")[0] for c in planned)),
        "by_skip": dict(Counter(s.skipped.split(":")[0] for s in skipped)),
    }


def _generations(mism: pl.DataFrame, source: Snapshot, target: Snapshot) -> dict[str, list[str]]:
    """The API generations of the entities the mismatches name, per side."""
    return {
        "source": sorted({source.entity(e).generation for e in set(mism["source_entity"].to_list())}),
        "target": sorted({target.entity(e).generation for e in set(mism["target_entity"].to_list())}),
    }


def entity_stems(findings: pl.DataFrame) -> tuple[list[str], list[str]]:
    """The source and target entity stems the mismatch rows name."""
    mism = findings.filter(pl.col("status") == "mismatch")
    return (
        sorted({entity_file_stem(e) for e in mism["source_entity"].to_list()}),
        sorted({entity_file_stem(e) for e in mism["target_entity"].to_list()}),
    )
