"""A pair's flow paths bound to the columns of its two entity frames.

Before any record is compared, each path the pair names (merge rules, properties and their
conditions) is resolved against the columns of its side (:mod:`audit.flow.paths`). What
resolves becomes a column to read; what does not becomes an ``unresolved_property``
finding. The summary entries started here are completed with counts after the comparison
(:mod:`audit.core.summary`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from audit.core.compare import PropertyCheck, eq_column, typeok_column
from audit.core.links import RuleColumns
from audit.core.policy import PlannedProperty, Policy, plan_pair
from audit.core.snapshot import EntityFrame
from audit.core.values import ValueSpec
from audit.errors import SnapshotError
from audit.flow.model import Condition, Pair
from audit.flow.paths import ColumnCollision, Resolution, resolve_path
from audit.flow.profile import SideProfiles

__all__ = ["BoundRules", "CheckPlan", "resolve_on", "bind_rules", "plan_checks"]


def resolve_on(path: str, ef: EntityFrame) -> Resolution:
    """Resolve a flow path against the columns of ``ef`` (and its system's other names).

    Raises
    ------
    SnapshotError
        The path matches two columns that differ only in case (both named).
    """
    try:
        return resolve_path(path, ef.frame.columns, ef.entity, ef.id_column, ef.height > 0, ef.profile)
    except ColumnCollision as exc:
        raise SnapshotError(f"{ef.file}: {exc}") from None


@dataclass(frozen=True)
class BoundRules:
    """The pair's merge rules bound to columns.

    Attributes
    ----------
    columns : list of (int, RuleColumns)
        The rules that resolved on both sides, with their index in the merge table.
    summary : list of dict
        One summary entry per merge rule, resolved or not.
    unresolved : list of (str, str)
        ``(source, target)`` paths of the rules with a path that resolved on neither
        generation of its side.
    """

    columns: list[tuple[int, RuleColumns]]
    summary: list[dict[str, Any]]
    unresolved: list[tuple[str, str]]


def bind_rules(pair: Pair, se: EntityFrame, te: EntityFrame, policy: Policy | None = None) -> BoundRules:
    """Resolve every merge rule of ``pair`` against the source and target frames; with a
    policy, the rules' values are read with the normalizers it sets for their paths."""
    bound = BoundRules([], [], [])
    profiles = SideProfiles(se.profile, te.profile)
    for index, rule in enumerate(pair.merge_rules):
        spec = ValueSpec(None)
        if policy is not None:
            treatment = policy.rule_for(pair.heading, se.entity, rule.source, te.entity, rule.target, profiles)
            spec = policy.value_spec(None, treatment)
        rs, rt = resolve_on(rule.source, se), resolve_on(rule.target, te)
        bound.summary.append(
            {
                "source": rule.source,
                "target": rule.target,
                "source_resolution": rs.to_dict(),
                "target_resolution": rt.to_dict(),
            }
        )
        if rs.unresolved or rt.unresolved:
            bound.unresolved.append((rule.source, rule.target))
        if rs.resolved and rt.resolved:
            bound.columns.append((index, RuleColumns(rule.source, rule.target, rs.column, rt.column, spec)))
    return bound


@dataclass
class CheckPlan:
    """What the comparison of one pair checks, and the columns it reads.

    Attributes
    ----------
    planned : list of PlannedProperty
        The properties checked (not ignored), in document order.
    checks : list of PropertyCheck
        One check per entry of ``planned``.
    summaries : list of dict
        One summary entry per property of the pair, ignored ones too.
    unresolved : list of (str, str)
        ``(source, target)`` paths of properties with a path resolved on neither generation.
    null_columns : list of str
        Compact columns of properties that cannot be compared (an empty entity): all null.
    source_columns, target_columns : dict
        Entity column -> its name in the linked frame (``s::<column>``, ``t::<column>``).
    """

    planned: list[PlannedProperty] = field(default_factory=list)
    checks: list[PropertyCheck] = field(default_factory=list)
    summaries: list[dict[str, Any]] = field(default_factory=list)
    unresolved: list[tuple[str, str]] = field(default_factory=list)
    null_columns: list[str] = field(default_factory=list)
    source_columns: dict[str, str] = field(default_factory=dict)
    target_columns: dict[str, str] = field(default_factory=dict)

    def source_column(self, column: str) -> str:
        """The linked frame's name of source column ``column`` (read once however often named)."""
        return self.source_columns.setdefault(column, f"s::{column}")

    def target_column(self, column: str) -> str:
        """The linked frame's name of target column ``column``."""
        return self.target_columns.setdefault(column, f"t::{column}")


def plan_checks(pair: Pair, policy: Policy, se: EntityFrame, te: EntityFrame) -> CheckPlan:
    """The policy's plan of ``pair`` bound to the columns of the source and target frames."""
    plan = plan_pair(pair, policy, SideProfiles(se.profile, te.profile))
    out = CheckPlan()
    for planned in plan:
        entry = _property_entry(planned)
        out.summaries.append(entry)
        if planned.mode == "ignore":
            entry.update(checked=0, failing=0)
            continue
        out.planned.append(planned)
        out.checks.append(_bind_property(planned, policy, se, te, entry, out))
    return out


def _property_entry(planned: PlannedProperty) -> dict[str, Any]:
    """The summary entry of a property before any data is seen."""
    prop = planned.prop
    return {
        "key": planned.key,
        "source": prop.source,
        "target": prop.target,
        "datatype": prop.datatype,
        "mode": "link_key" if planned.link_key and planned.mode != "ignore" else planned.mode,
        **{k: v for k, v in planned.treatment.to_dict().items() if k != "mode"},
    }


def _bind_property(
    planned: PlannedProperty, policy: Policy, se: EntityFrame, te: EntityFrame, entry: dict[str, Any], out: CheckPlan
) -> PropertyCheck:
    """The check of one property: its paths resolved (recorded in ``entry``), the columns
    it reads added to ``out``."""
    prop = planned.prop
    rs, rt = resolve_on(prop.source, se), resolve_on(prop.target, te)
    entry["source_resolution"] = rs.to_dict()
    entry["target_resolution"] = rt.to_dict()
    if rs.unresolved or rt.unresolved:
        out.unresolved.append((prop.source, prop.target))
    elif not (rs.resolved and rt.resolved):  # an empty entity: nothing to compare
        out.null_columns += [typeok_column(planned.key)] + ([eq_column(planned.key)] if planned.checks_equal else [])
    s_col = out.source_column(rs.column) if rs.resolved else None
    t_col = out.target_column(rt.column) if rt.resolved else None
    condition, evaluable = _bind_conditions(prop.conditions, se, te, entry, out)
    return PropertyCheck(
        key=planned.key,
        source_column=s_col,
        target_column=t_col,
        datatype=prop.datatype,
        normalizers=planned.treatment.normalizers,
        date=planned.treatment.date,
        empty_equals_missing=policy.empty_equals_missing,
        check_equal=planned.checks_equal,
        check_type=True,
        condition=tuple(condition),
        condition_evaluable=evaluable,
        zone=policy.zone,
    )


def _bind_conditions(
    conditions: Sequence[Condition], se: EntityFrame, te: EntityFrame, entry: dict[str, Any], out: CheckPlan
) -> tuple[list[tuple[str, tuple[str, ...]]], bool]:
    """A property's conditions as ``(linked column, accepted values)``, and whether all of
    them can be evaluated. Same path -> any of its values; different paths -> all must hold.
    A path is read on the source side when it resolves there, else on the target side."""
    by_path: dict[str, list[str]] = {}
    for cond in conditions:
        by_path.setdefault(cond.path, []).append(cond.value)
    condition = []
    evaluable = True
    cond_summary = []
    for path, values in by_path.items():
        cs, ct = resolve_on(path, se), resolve_on(path, te)
        if cs.resolved:
            column, side = out.source_column(cs.column), "source"
        elif ct.resolved:
            column, side = out.target_column(ct.column), "target"
        else:
            column, side = None, None
            evaluable = False
        if column:
            condition.append((column, tuple(values)))
        cond_summary.append(
            {
                "path": path,
                "values": values,
                "side": side,
                "column": cs.column if side == "source" else ct.column if side else None,
                "evaluable": column is not None,
            }
        )
    if cond_summary:
        entry["conditions"] = cond_summary
        if not evaluable:
            entry["note"] = "condition path resolves on neither side: property checked on no record"
    return condition, evaluable
