"""One mismatch finding -> the :class:`Change` that corrects it, or the :class:`Skipped`
row that says why nothing is written.

A row passes these steps in order, and the first that fails names the skip reason: both
records are in the snapshots and hold the values the audit showed; a person's decision
(if any) is for those values; the direction policy picks a side; the field is writable on
the losing side's generation; both record ids are integers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import polars as pl

from audit.core.snapshot import EntityFrame
from audit.core.values import DEFAULT_ZONE, ValueSpec
from audit.flow.paths import resolve_path
from audit.systems.poweroffice import PROFILE
from audit.writeback.decisions import ROW_KEY
from audit.writeback.direction import Decision, decide
from audit.writeback.fields import field_names, finding_text, jsonable, new_value_for, writable_reason
from audit.writeback.json_types import TypeConflict, conflict_text, in_type_of
from audit.writeback.model import Change, RecordRef, Skipped

__all__ = ["SIDES", "RowRules", "Side", "plan_row", "resolutions", "skipped_row"]

SIDES = ("source", "target")
_STAMP = {"v1": "lastChanged", "v2": "LastChangedDateTimeOffset"}
_PARENT = {"v1": "partyId", "v2": "ContactId"}

#: ``(pair, source path, target path) -> (source column, target column)``
Resolved = Mapping[tuple[str, str, str], tuple[str | None, str | None]]


# --------------------------------------------------------------------------- records
@dataclass
class Side:
    """The records of one side of a pair that the mismatches name, by id text."""

    frame: EntityFrame
    rows: dict[str, dict[str, Any]]

    @classmethod
    def load(cls, ef: EntityFrame, keys: set[str]) -> Side:
        idc = ef.id_column
        sub = ef.frame.filter(pl.col(idc).cast(pl.String).is_in(sorted(keys)))
        return cls(ef, {str(r[idc]): r for r in sub.to_dicts()})

    @property
    def generation(self) -> str:
        return self.frame.generation

    def column(self, name: str) -> str | None:
        ef = self.frame
        return resolve_path(name, ef.frame.columns, ef.entity, ef.id_column, profile=PROFILE).column

    def stamps(self, row: dict[str, Any], column: str) -> tuple[str | None, str | None]:
        """``(record stamp, mail address stamp)`` of a record, the latter only for a
        field inside the mail address."""
        record_col = self.column(_STAMP[self.generation])
        record = row.get(record_col) if record_col else None
        address = None
        if "." in column:
            head = column.rsplit(".", 1)[0]
            sub_col = self.column(f"{head}.{_STAMP[self.generation]}")
            if sub_col and sub_col.startswith(head + "."):
                address = row.get(sub_col)
        return (
            jsonable(record) if record is not None else None,
            jsonable(address) if address is not None else None,
        )

    def parent(self, row: dict[str, Any]) -> int | None:
        if self.frame.entity != "contactperson":
            return None
        col = self.column(_PARENT[self.generation])
        value = row.get(col) if col else None
        return int(value) if isinstance(value, int) and not isinstance(value, bool) else None


def resolutions(summary: Mapping[str, Any]) -> dict[tuple[str, str, str], tuple[str | None, str | None]]:
    """``(pair, source path, target path) -> (source column, target column)`` from the
    audit's summary.json."""
    out: dict[tuple[str, str, str], tuple[str | None, str | None]] = {}
    for pair in summary.get("pairs", []):
        for prop in pair.get("properties", []):
            if "source_resolution" in prop:
                out[(pair["pair"], prop["source"], prop["target"])] = (
                    prop["source_resolution"].get("column"),
                    prop["target_resolution"].get("column"),
                )
    return out


def value_specs(summary: Mapping[str, Any]) -> dict[tuple[str, str, str], dict[str, Any]]:
    """``(pair, source path, target path) -> value spec`` (as a dict) from the audit's
    summary.json: each property's data type, date handling and normalizers, and the
    policy's empty-equals-missing and zone, so the guard compares as the audit did."""
    policy = summary.get("policy") or {}
    out: dict[tuple[str, str, str], dict[str, Any]] = {}
    for pair in summary.get("pairs", []):
        for prop in pair.get("properties", []):
            spec = ValueSpec(
                prop.get("datatype"),
                bool(prop.get("date")),
                tuple(prop.get("normalizers") or ()),
                policy.get("empty_equals_missing", True),
                policy.get("zone", DEFAULT_ZONE),
            )
            out[(pair["pair"], prop["source"], prop["target"])] = spec.to_dict()
    return out


# --------------------------------------------------------------------------- one row
@dataclass
class RowRules:
    """What decides every row of one plan; ``used`` collects the decision rows that met
    a finding."""

    policy: str
    same_tenant: bool
    resolved: Resolved
    chosen: Mapping[tuple[str, ...], dict[str, str]]
    used: set[tuple[str, ...]] = field(default_factory=set)
    specs: Mapping[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)

    def spec_for(self, heading: str, f: Mapping[str, Any]) -> dict[str, Any] | None:
        """The value spec of a finding's property, when the summary recorded it."""
        return self.specs.get((heading, f["source_property"], f["target_property"]))

    def unmatched(self) -> list[dict[str, str]]:
        """The decision rows no mismatch met, by their :data:`ROW_KEY` columns."""
        return [dict(zip(ROW_KEY, k, strict=True)) for k in self.chosen if k not in self.used]


class _Skip(Exception):
    """A row ends as a :class:`Skipped` with this reason."""

    def __init__(self, reason: str, side: str | None = None, rule: str | None = None):
        super().__init__(reason)
        self.reason, self.side, self.rule = reason, side, rule


@dataclass
class _Found:
    """One finding's two records as the snapshots hold them, by side."""

    rows: dict[str, dict[str, Any]]
    columns: dict[str, str]
    values: dict[str, Any]
    stamps: dict[str, tuple[str | None, str | None]]


def skipped_row(f: Mapping[str, Any], reason: str, side: str | None = None, rule: str | None = None) -> Skipped:
    """The :class:`Skipped` row of finding ``f``."""
    return Skipped(
        f["pair"],
        f["source_key"],
        f["target_key"],
        f["source_property"],
        f["target_property"],
        f["source_value"],
        f["target_value"],
        reason,
        side,
        rule,
    )


def plan_row(f: Mapping[str, Any], heading: str, sides: Mapping[str, Side], rules: RowRules) -> Change | Skipped:
    """The change a mismatch finding asks for, or why there is none."""
    try:
        found = _found(f, heading, sides, rules.resolved)
        spec = rules.spec_for(heading, f)
        verdict = _verdict(f, found, rules, spec)
        return _change(f, heading, sides, found, verdict, rules.same_tenant, spec)
    except _Skip as skip:
        return skipped_row(f, skip.reason, skip.side, skip.rule)


def _found(f: Mapping[str, Any], heading: str, sides: Mapping[str, Side], resolved: Resolved) -> _Found:
    """Both records, their columns, values and stamps; they must be what the audit saw."""
    rows = {s: sides[s].rows.get(f[f"{s}_key"]) for s in SIDES}
    if rows["source"] is None or rows["target"] is None:
        raise _Skip("snapshot disagrees with the audit: record not in the snapshot")
    known = resolved.get((heading, f["source_property"], f["target_property"]), (None, None))
    columns = {s: known[i] or sides[s].column(f[f"{s}_property"]) for i, s in enumerate(SIDES)}
    if columns["source"] is None or columns["target"] is None:
        raise _Skip("unresolved property")
    values = {s: jsonable(rows[s].get(columns[s])) for s in SIDES}
    if any(finding_text(values[s]) != (f[f"{s}_value"] or "") for s in SIDES):
        raise _Skip("snapshot disagrees with the audit: other values")
    stamps = {s: sides[s].stamps(rows[s], columns[s]) for s in SIDES}
    return _Found(rows, columns, values, stamps)


def _verdict(f: Mapping[str, Any], found: _Found, rules: RowRules, spec: dict[str, Any] | None) -> Decision:
    """The side that wins: a person's decision, else the policy."""
    person = _person(f, rules)
    # the most specific stamp decides: the mail address's own for its fields
    verdict = decide(
        rules.policy,
        found.values["source"],
        found.values["target"],
        found.stamps["source"][1] or found.stamps["source"][0],
        found.stamps["target"][1] or found.stamps["target"][0],
        decision=person["decision"] if person else None,
        spec=ValueSpec.from_dict(spec) if spec is not None else None,
    )
    if verdict.winner is None:
        raise _Skip(verdict.skip or "undecided", rule=verdict.rule)
    return verdict


def _person(f: Mapping[str, Any], rules: RowRules) -> dict[str, str] | None:
    """A person's decision for this row, which must be for the values the audit shows."""
    key = tuple(f[k] or "" for k in ROW_KEY)
    person = rules.chosen.get(key)
    if person is None:
        return None
    rules.used.add(key)
    if (person["source_value"], person["target_value"]) != (f["source_value"] or "", f["target_value"] or ""):
        raise _Skip("decision for other values")
    return person


def _change(
    f: Mapping[str, Any],
    heading: str,
    sides: Mapping[str, Side],
    found: _Found,
    verdict: Decision,
    same_tenant: bool,
    spec: dict[str, Any] | None = None,
) -> Change:
    """The change of the losing side's field to the winner's value."""
    loser, winner = verdict.loser, verdict.winner
    assert loser is not None and winner is not None
    side, column = sides[loser], found.columns[loser]
    entity, gen = side.frame.entity, side.generation
    names = field_names(entity, column, gen)
    name = names[1] if gen == "v2" else names[0]
    reason = writable_reason(entity, gen, name, (column, *names))
    if reason:
        raise _Skip(reason, loser, verdict.rule)
    corrected, counterpart = _refs(f, sides, found, verdict, same_tenant)
    change = Change(
        id=f"{corrected.tenant}:{entity}:{corrected.record_id}:{name}",
        pair=heading,
        source_key=f["source_key"],
        target_key=f["target_key"],
        source_property=f["source_property"],
        target_property=f["target_property"],
        corrected=corrected,
        counterpart=counterpart,
        field=name,
        field_v1=names[0],
        field_v2=names[1],
        old_value=found.values[loser],
        new_value=new_value_for(found.values[winner], names[1], gen),
        last_changed=found.stamps[loser][0],
        address_last_changed=found.stamps[loser][1],
        winner=winner,
        rule=verdict.rule,
        spec=spec,
    )
    return _typed(change, found.values[loser])


def _typed(c: Change, current: Any) -> Change:
    """``c`` with its new value in the JSON type of the field's ``current`` value (the
    number ``1474`` where the field holds numbers); a ``type_conflict`` skip when no
    value of that type is the same value (:mod:`audit.writeback.json_types`)."""
    spec = c.value_spec()
    try:
        value = in_type_of(c.new_value, current, spec)
    except TypeConflict as exc:
        raise _Skip(conflict_text(exc, c.corrected, c.field, spec), c.corrected.side, c.rule) from None
    return c if value is c.new_value else replace(c, new_value=value)


def _refs(
    f: Mapping[str, Any], sides: Mapping[str, Side], found: _Found, verdict: Decision, same_tenant: bool
) -> tuple[RecordRef, RecordRef]:
    """The corrected record and its counterpart (both on tenant ``source`` when a tenant
    syncs with itself)."""
    order = (verdict.loser, verdict.winner)
    try:
        ids = {s: int(f[f"{s}_key"]) for s in order}
    except (TypeError, ValueError):
        raise _Skip("record id is not an integer", verdict.loser, verdict.rule) from None
    corrected, counterpart = (
        RecordRef(
            s,
            "source" if same_tenant else s,
            sides[s].frame.entity,
            ids[s],
            sides[s].generation,
            sides[s].parent(found.rows[s]),
        )
        for s in order
    )
    return corrected, counterpart
