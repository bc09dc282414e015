"""``audit writeback plan``: a change plan from an audit's output directory."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl

from audit.core.snapshot import read_snapshot
from audit.errors import ConfigError
from audit.flow.model import Flow
from audit.flow.parser import parse_file
from audit.writeback import Plan, build_plan, write_plan
from audit.writeback.audit_inputs import audit_inputs, check_snapshot
from audit.writeback.plan import entity_stems, read_decisions


def read_findings(audit_dir: Path) -> pl.DataFrame:
    """The findings of ``audit run`` in ``audit_dir`` (parquet, else CSV read as text)."""
    parquet, csv = audit_dir / "findings.parquet", audit_dir / "findings.csv"
    if parquet.is_file():
        return pl.read_parquet(parquet, glob=False)
    if csv.is_file():
        return pl.read_csv(csv, glob=False, infer_schema_length=0)
    raise ConfigError(f"--audit {audit_dir}: no findings.parquet or findings.csv (run `audit run` first)")


def read_summary(audit_dir: Path) -> dict[str, Any]:
    """``summary.json`` of the audit, or ``{}`` when there is none."""
    path = audit_dir / "summary.json"
    try:
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    except ValueError as exc:
        raise ConfigError(f"{path}: not JSON ({exc})") from None


def _check_pairs(findings: pl.DataFrame, flow: Flow, flow_doc: Path) -> None:
    """Refuse a flow that lacks a pair the audit found mismatches in."""
    headings = {p.heading for p in flow.pairs}
    foreign = sorted(set(findings.filter(pl.col("status") == "mismatch")["pair"].to_list()) - headings)
    if foreign:
        raise ConfigError(f"--flow {flow_doc}: the audit's pair {foreign[0]!r} is not in this flow")


def plan_from_audit(
    audit_dir: Path,
    flow_doc: Path | None,
    source: Path | None,
    target: Path | None,
    out: Path,
    *,
    policy: str = "latest",
    decisions: Path | None = None,
    max_changes: int | None = None,
) -> Plan:
    """Build the plan that corrects the audit's mismatches and write it to ``out``.

    ``flow_doc``, ``source`` and ``target`` default to those the audit's ``summary.json``
    names (:mod:`audit.writeback.audit_inputs`).

    Raises
    ------
    ConfigError
        No findings in ``audit_dir``, a flow other than the audited one, snapshots other
        than those the audit read, or a plan with more than ``max_changes`` changes (then
        nothing is written).
    """
    findings = read_findings(audit_dir)
    summary = read_summary(audit_dir)
    given = audit_inputs(audit_dir, summary, {"flow": flow_doc, "source": source, "target": target})
    flow_doc, source, target = given["flow"], given["source"], given["target"]
    flow = parse_file(flow_doc)
    _check_pairs(findings, flow, flow_doc)
    decided = read_decisions(decisions) if decisions is not None else None
    s_stems, t_stems = entity_stems(findings)
    header = {
        "audit_dir": str(audit_dir),
        "flow": str(flow_doc),
        "flow_title": flow.title,
        "source": str(source),
        "target": str(target),
        "decisions": str(decisions) if decisions else None,
    }
    snapshots = {"source": read_snapshot(source, s_stems), "target": read_snapshot(target, t_stems)}
    for side, path in (("source", source), ("target", target)):
        check_snapshot(summary, side, path, snapshots[side])
    plan = build_plan(
        findings,
        snapshots["source"],
        snapshots["target"],
        summary=summary,
        policy=policy,
        decisions=decided,
        same_tenant=source.resolve() == target.resolve(),
        header=header,
    )
    if max_changes is not None and len(plan.changes) > max_changes:
        raise ConfigError(
            f"the plan holds {len(plan.changes)} changes, more than --max-changes {max_changes}; not written"
        )
    write_plan(plan, out)
    return plan
