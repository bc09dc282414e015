"""After a write-back: re-audit the touched records, and summarise the run for the report.

:func:`verify_changes` reads every corrected record and its linked counterpart again from
the API and audits each pair over just those records with the audit's own engine
(:func:`audit.core.pair.prepare_pair`: same linking, same comparison, same policy). A change
is ``verified`` when the corrected field now holds the planned value *and* the re-audit
finds no mismatch left on that property of that record pair.

:func:`writeback_summary` makes the ``writeback.json`` the HTML report can show:
applied / conflicts / failed / verified counts and each change with its outcome.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import polars as pl

from audit.core import exact_json
from audit.core.pair import finish_pair, prepare_pair
from audit.core.policy import Policy, default_policy
from audit.core.snapshot import frame_from_records
from audit.errors import ConfigError, ExternalError
from audit.flow.model import Flow, Pair, entity_file_stem
from audit.systems.poweroffice.transport import HttpStatusError
from audit.writeback.gateway import RecordGateway, get_field
from audit.writeback.journal import fold
from audit.writeback.model import Change, RecordRef
from audit.writeback.outcome import ApplyResult, same_value

__all__ = [
    "Verification",
    "applied_changes",
    "verify_changes",
    "write_json",
    "writeback_summary",
    "WRITEBACK_FILE",
    "VERIFICATION_FILE",
]

WRITEBACK_FILE = "writeback.json"
VERIFICATION_FILE = "verification.json"


@dataclass
class Verification:
    """Per change: verified or not, and why."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    verified_at: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))

    @property
    def counts(self) -> dict[str, int]:
        ok = sum(1 for r in self.rows if r["verified"])
        return {"checked": len(self.rows), "verified": ok, "not_verified": len(self.rows) - ok}

    @property
    def by_id(self) -> dict[str, dict[str, Any]]:
        return {r["id"]: r for r in self.rows}

    def to_dict(self) -> dict[str, Any]:
        return {"verified_at": self.verified_at, "counts": self.counts, "changes": self.rows}


def applied_changes(journal_path: str | Path) -> list[Change]:
    """The changes a journal holds as ``applied`` (the ones to verify or roll back)."""
    return [
        Change.from_dict(e["spec"]) for e in fold(journal_path).values() if e.get("status") == "applied" and "spec" in e
    ]


def _read(gateways: Mapping[str, RecordGateway], ref: RecordRef, cache: dict) -> tuple[dict | None, str]:
    key = (ref.tenant, ref.entity, ref.record_id)
    if key in cache:
        return cache[key]
    gw = gateways.get(ref.tenant)
    if gw is None or ref.entity not in ("customer", "supplier", "contactperson"):
        found: tuple[dict | None, str] = (None, f"{ref.entity} records cannot be read one by one")
    else:
        try:
            found = (gw.read(ref.entity, ref.record_id, ref.parent_id), "")
        except HttpStatusError as exc:
            found = (None, "the record no longer exists" if exc.status == 404 else str(exc))
        except (ExternalError, ConfigError) as exc:
            found = (None, str(exc))
    cache[key] = found
    return found


def verify_changes(
    changes: list[Change],
    gateways: Mapping[str, RecordGateway],
    flow: Flow,
    policy: Policy | None = None,
) -> Verification:
    """Re-audit the records ``changes`` touched.

    Parameters
    ----------
    changes : list of Change
        The applied changes.
    gateways : mapping
        ``{"source": ..., "target": ...}`` record gateways.
    flow : Flow
        The flow the plan came from (its pairs are re-audited).
    policy : Policy, optional
        The audit policy (default: the shipped one).

    Returns
    -------
    Verification
    """
    policy = policy or default_policy()
    pairs = {p.heading: p for p in flow.pairs}
    cache: dict = {}
    rows: list[dict[str, Any]] = []
    for heading, group in _by_pair(changes).items():
        pair = pairs.get(heading)
        if pair is None:
            raise ConfigError(f"the flow {flow.file or flow.title} has no pair {heading!r}")
        records, notes = _read_records(group, gateways, cache)
        mismatched, linked = _reaudit(flow, pair, policy, records, group)
        for c in group:
            agrees = (c.source_key, c.target_key) in linked and (
                c.source_key,
                c.target_key,
                c.source_property,
            ) not in mismatched
            rows.append(_row(c, cache, gateways, notes.get(c.id), agrees))
    return Verification(rows)


def _by_pair(changes: list[Change]) -> dict[str, list[Change]]:
    by_pair: dict[str, list[Change]] = {}
    for c in changes:
        by_pair.setdefault(c.pair, []).append(c)
    return by_pair


def _read_records(
    group: list[Change], gateways: Mapping[str, RecordGateway], cache: dict
) -> tuple[dict[str, dict[int, dict]], dict[str, str]]:
    """The corrected records and their counterparts, by side and id, and per change a
    note when one of its two records could not be read."""
    records: dict[str, dict[int, dict]] = {"source": {}, "target": {}}
    notes: dict[str, str] = {}
    for c in group:
        for ref in (c.corrected, c.counterpart):
            rec, why = _read(gateways, ref, cache)
            if rec is not None:
                records[ref.side][ref.record_id] = rec
            else:
                notes[c.id] = f"{ref.side} record {ref.record_id}: {why}"
    return records, notes


def _reaudit(
    flow: Flow, pair: Pair, policy: Policy, records: dict[str, dict[int, dict]], group: list[Change]
) -> tuple[set[tuple[str, str, str]], set[tuple[str, str]]]:
    """Audit one pair over just the records read: the ``(source key, target key,
    source property)`` still mismatched, and the ``(source key, target key)`` of the
    changes whose records are still linked."""
    if not (records["source"] and records["target"]):
        return set(), set()
    se = frame_from_records(list(records["source"].values()), entity_file_stem(pair.source_entity))
    te = frame_from_records(list(records["target"].values()), entity_file_stem(pair.target_entity))
    # a pair without merge rules is linked as the audit linked it (its link source may be
    # a Sesam export the re-read records alone cannot reproduce)
    links = None if pair.merge_rules else _links_of(group)
    findings = finish_pair(prepare_pair(flow, pair, se, te, policy, links)).findings
    mismatched = {
        (f["source_key"], f["target_key"], f["source_property"])
        for f in findings.filter(findings["status"] == "mismatch").iter_rows(named=True)
    }
    missing = {
        (f["source_key"] or "", f["target_key"] or "")
        for f in findings.iter_rows(named=True)
        if f["status"] in ("missing_in_target", "missing_in_source", "ambiguous_link")
    }
    linked = {
        (c.source_key, c.target_key)
        for c in group
        if (c.source_key, "") not in missing and ("", c.target_key) not in missing
    }
    return mismatched, linked


def _links_of(group: list[Change]) -> pl.DataFrame:
    """The audit's links of the changes' records (``source_id, target_id``)."""
    rows = sorted({(c.source_key, c.target_key) for c in group})
    return pl.DataFrame(rows, schema={"source_id": pl.String, "target_id": pl.String}, orient="row")


def _row(
    c: Change, cache: dict, gateways: Mapping[str, RecordGateway], note: str | None, agrees: bool
) -> dict[str, Any]:
    """One change's verification row: the field holds the new value and the re-audit
    agrees (``agrees``), unless a record could not be read (``note``)."""
    rec, _ = cache.get(c.corrected.key, (None, ""))
    gw = gateways.get(c.corrected.tenant)
    field_name = c.field_on(gw.api) if gw is not None else c.field
    current = get_field(rec, field_name) if rec is not None and field_name else None
    landed = rec is not None and same_value(current, c.new_value, c.value_spec())
    if note is not None:
        detail = note
    elif not landed:
        detail = f"the field holds {current!r}, not the planned {c.new_value!r}"
    elif not agrees:
        detail = "the re-audit still finds a mismatch (or no link) on this property"
    else:
        detail = "the field holds the new value and the re-audit finds the pair in agreement"
    return {
        "id": c.id,
        "pair": c.pair,
        "source_key": c.source_key,
        "target_key": c.target_key,
        "source_property": c.source_property,
        "target_property": c.target_property,
        "field": c.field,
        "new_value": c.new_value,
        "current_value": current,
        "verified": bool(landed and agrees and note is None),
        "detail": detail,
    }


def writeback_summary(
    result: ApplyResult | None,
    verification: Verification | None,
    header: Mapping[str, Any],
    plan_path: str | None = None,
) -> dict[str, Any]:
    """The content of ``writeback.json``: counts and each change with its outcome."""
    changes = [o.to_dict() for o in result.outcomes] if result is not None else []
    checked = verification.by_id if verification is not None else {}
    for row in changes:
        v = checked.get(row["id"])
        row["verified"] = None if v is None else v["verified"]
    counts = dict(result.counts) if result is not None else {}
    return {
        "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "plan": plan_path,
        "plan_hash": result.plan_hash if result is not None else None,
        "journal": result.journal if result is not None else None,
        "dry_run": result.dry_run if result is not None else None,
        "tripped": result.tripped if result is not None else None,
        "policy": header.get("policy"),
        "counts": {
            "planned": len(changes),
            "applied": counts.get("applied", 0) + counts.get("already_done", 0),
            "noop": counts.get("noop", 0),
            "conflicts": counts.get("conflict", 0) + counts.get("would_conflict", 0),
            "failed": counts.get("failed", 0) + counts.get("unknown", 0),
            "not_attempted": counts.get("not_attempted", 0),
            "verified": verification.counts["verified"] if verification is not None else 0,
            "not_verified": verification.counts["not_verified"] if verification is not None else 0,
        },
        "changes": changes,
    }


def write_json(data: Mapping[str, Any], path: str | Path) -> Path:
    """Write indented JSON atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(exact_json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path
