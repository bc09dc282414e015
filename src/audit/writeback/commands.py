"""``audit writeback apply``, ``rollback`` and ``verify``: one function each.

Each opens the gateways of the tenants it writes to or reads, does its step and closes
them again. What the user should see while a step runs goes to ``report``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from audit.errors import EXIT_EXTERNAL
from audit.flow.bundled import resolve_flow
from audit.flow.parser import parse_file
from audit.writeback import (
    ApplyResult,
    Plan,
    Verification,
    applied_changes,
    apply_plan,
    load_plan,
    reverse_changes,
    verify_changes,
    writeback_summary,
)
from audit.writeback.atomic import v1_warning
from audit.writeback.gateway import RecordGateway
from audit.writeback.journal import fold
from audit.writeback.outcome import Limits
from audit.writeback.sides import find_down
from audit.writeback.tenants import open_gateways
from audit.writeback.verify import VERIFICATION_FILE, WRITEBACK_FILE, write_json

#: ``--api-source`` / ``--api-target``: a generation per tenant, ``None`` for the plan's.
Overrides = Mapping[str, str | None]


class Report(Protocol):
    """Where the steps of an apply are shown as they finish (the CLI passes :mod:`audit.cli.output`)."""

    def writeback_outcomes(self, result: dict[str, Any], title: str) -> None: ...

    def writeback_verification(self, verification: dict[str, Any], path: str) -> None: ...

    def warning(self, message: str) -> None: ...

    def info(self, message: str) -> None: ...


@dataclass
class AppliedPlan:
    """The outcome of applying a plan, and of re-auditing what it wrote (when it did)."""

    result: ApplyResult
    verification: Verification | None = None
    #: Why the re-audit could not run (a tenant it reads did not answer), if so.
    unverifiable: str | None = None

    @property
    def exit_code(self) -> int:
        """The apply's exit code; 1 when it succeeded but a change is not verified, 3 when
        the re-audit could not reach a tenant."""
        code = self.result.exit_code
        if code == 0 and self.unverifiable:
            code = EXIT_EXTERNAL
        if code == 0 and self.verification is not None and self.verification.counts["not_verified"]:
            code = 1
        return code


def _verify(
    plan: Plan, journal: Path, gateways: Mapping[str, RecordGateway], flow_doc: Path | None, report: Report
) -> Verification | None:
    """Re-audit the journal's applied changes against ``flow_doc`` (default: the plan's flow)."""
    flow_path = flow_doc or (Path(plan.header["flow"]) if plan.header.get("flow") else None)
    if flow_path is None or not resolve_flow(flow_path).is_file():
        report.warning("no flow document to re-audit with (--flow); verification skipped")
        return None
    flow = parse_file(flow_path)
    verification = verify_changes(applied_changes(journal), gateways, flow)
    path = write_json(verification.to_dict(), journal.parent / VERIFICATION_FILE)
    report.writeback_verification(verification.to_dict(), str(path))
    return verification


def apply_reviewed_plan(
    plan_path: Path,
    *,
    approve: str | None,
    do_apply: bool,
    journal: Path | None,
    limits: Limits,
    overrides: Overrides,
    audit_dir: Path | None = None,
    flow_doc: Path | None = None,
    report: Report,
    side: str | None = None,
    atomic: bool = False,
) -> AppliedPlan:
    """Apply (or dry-run) the reviewed plan at ``plan_path``, then verify what was written.

    ``journal`` defaults to ``<plan>.journal.jsonl`` beside the plan; with ``audit_dir``
    the write-back summary is written into it as ``writeback.json``; ``side`` limits the
    run to one tenant's changes; ``atomic`` compare-and-sets v2 writes and skips v1
    changes, with one warning (:mod:`audit.writeback.atomic`).
    """
    plan = load_plan(plan_path)
    plan.header["path"] = str(plan_path)
    journal = journal or plan_path.with_name(plan_path.stem + ".journal.jsonl")
    with open_gateways(plan.changes, overrides, counterparts=do_apply) as gateways:
        if atomic and (warning := v1_warning(plan.changes, gateways, side)):
            report.warning(warning)
        result = apply_plan(
            plan,
            gateways,
            journal_path=str(journal),
            dry_run=not do_apply,
            approve=approve,
            limits=limits,
            side=side,
            atomic=atomic,
        )
        report.writeback_outcomes(result.to_dict(), f"apply {plan_path}" + (" (--atomic)" if atomic else ""))
        applied = AppliedPlan(result)
        if do_apply and not result.unreachable:
            down = find_down(gateways, gateways)  # the re-audit reads both tenants
            if down:
                applied.unverifiable = "; ".join(f"{t} tenant unreachable: {why}" for t, why in down.items())
                report.warning(f"verification skipped, {applied.unverifiable}")
            else:
                applied.verification = _verify(plan, journal, gateways, flow_doc, report)
        if audit_dir is not None:
            summary = writeback_summary(result, applied.verification, plan.header, str(plan_path))
            report.info(f"write-back summary: {write_json(summary, audit_dir / WRITEBACK_FILE)}")
    return applied


def rollback_applied(
    journal: Path,
    *,
    do_apply: bool,
    rollback_path: Path | None,
    limits: Limits,
    overrides: Overrides,
    report: Report,
    atomic: bool = False,
) -> ApplyResult:
    """Restore the old values of the journal's applied changes (dry run unless ``do_apply``).

    The rollback keeps its own journal, ``rollback_path`` or ``<journal>.rollback.jsonl``;
    ``atomic`` compare-and-sets its v2 writes and skips v1 changes, as an apply does, with
    one warning; the warning and the outcomes are printed through ``report``.
    """
    changes = reverse_changes(fold(journal))
    plan = Plan(header={"mode": "rollback", "journal": str(journal), "path": str(journal)}, changes=changes)
    target_journal = rollback_path or journal.with_name(journal.stem + ".rollback.jsonl")
    with open_gateways(changes, overrides) as gateways:
        if atomic and (warning := v1_warning(changes, gateways, None, "rollback")):
            report.warning(warning)
        result = apply_plan(
            plan,
            gateways,
            journal_path=str(target_journal),
            dry_run=not do_apply,
            approve=plan.hash,
            limits=limits,
            mode="rollback",
            atomic=atomic,
        )
    report.writeback_outcomes(result.to_dict(), f"rollback {journal}" + (" (--atomic)" if atomic else ""))
    return result


def verify_journal(
    journal: Path, flow_doc: Path, *, out: Path | None, overrides: Overrides
) -> tuple[Verification, Path]:
    """Re-audit the records the journal's applied changes touched; write the verification.

    Returns the verification and where it was written (``out``, default
    ``verification.json`` beside the journal).
    """
    changes = applied_changes(journal)
    flow = parse_file(flow_doc)
    with open_gateways(changes, overrides, counterparts=True) as gateways:
        verification = verify_changes(changes, gateways, flow)
    return verification, write_json(verification.to_dict(), out or journal.parent / VERIFICATION_FILE)
