"""``audit writeback``: plan, apply, roll back and verify corrections to the drifted side."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from audit.cli import output

app = typer.Typer(
    help="Push corrected values to the system that drifted: plan, review, apply, roll back.",
    no_args_is_help=True,
)

_API_HELP = "API generation of the {} tenant (default: the plan's)"

# Options several write-back commands share.
ApiSource = Annotated[Optional[str], typer.Option("--api-source", help=_API_HELP.format("source"))]
ApiTarget = Annotated[Optional[str], typer.Option("--api-target", help=_API_HELP.format("target"))]
DoApply = Annotated[bool, typer.Option("--apply", help="Really write (default: dry run)")]
MaxFailures = Annotated[int, typer.Option("--max-failures", help="Stop after more failures than this")]
MaxConflicts = Annotated[int, typer.Option("--max-conflicts", help="Stop after more conflicts than this")]
Workers = Annotated[int, typer.Option("--workers", help="Records handled at once")]
Atomic = Annotated[
    bool,
    typer.Option(
        "--atomic",
        help="Compare-and-set: v2 writes test the old values first (JSON Patch test); v1 changes are skipped",
    ),
]


@app.command("plan")
def writeback_plan_command(
    audit_dir: Annotated[
        Path, typer.Option("--audit", help="The audit's OUT_DIR (findings, summary.json)", show_default=False)
    ],
    out: Annotated[Path, typer.Option("--out", help="The plan file to write (JSON)", show_default=False)],
    flow_doc: Annotated[
        Optional[Path], typer.Option("--flow", help="The dataflow document audited (default: the audit's)")
    ] = None,
    source: Annotated[
        Optional[Path], typer.Option("--source", help="The source snapshot the audit read (default: the audit's)")
    ] = None,
    target: Annotated[
        Optional[Path], typer.Option("--target", help="The target snapshot the audit read (default: the audit's)")
    ] = None,
    policy: Annotated[str, typer.Option("--policy", help="latest (Sesam Talk's rule), source or target")] = "latest",
    decisions: Annotated[
        Optional[Path], typer.Option("--decisions", help="Decisions CSV (source|target|skip per row)")
    ] = None,
    max_changes: Annotated[
        Optional[int], typer.Option("--max-changes", help="Refuse a plan with more changes than this")
    ] = None,
) -> None:
    """Build a change plan from an audit's mismatches; print it and its hash."""
    from audit.writeback.from_audit import plan_from_audit

    plan = plan_from_audit(
        audit_dir, flow_doc, source, target, out, policy=policy, decisions=decisions, max_changes=max_changes
    )
    output.writeback_plan(plan.to_dict(), str(out))


@app.command("apply")
def writeback_apply_command(
    plan_path: Annotated[Path, typer.Argument(help="The reviewed plan file", show_default=False)],
    approve: Annotated[Optional[str], typer.Option("--approve", help="The plan hash you reviewed")] = None,
    do_apply: DoApply = False,
    journal: Annotated[Optional[Path], typer.Option("--journal", help="Journal (default: next to the plan)")] = None,
    max_failures: MaxFailures = 5,
    max_conflicts: MaxConflicts = 20,
    max_changes: Annotated[int, typer.Option("--max-changes", help="Refuse a plan with more changes than this")] = 1000,
    api_source: ApiSource = None,
    api_target: ApiTarget = None,
    audit_dir: Annotated[
        Optional[Path], typer.Option("--audit", help="Write writeback.json into this audit OUT_DIR")
    ] = None,
    flow_doc: Annotated[
        Optional[Path], typer.Option("--flow", help="Flow for the re-audit (default: the plan's)")
    ] = None,
    workers: Workers = 4,
    side: Annotated[
        Optional[str], typer.Option("--side", help="Handle only this tenant's changes: source or target")
    ] = None,
    atomic: Atomic = False,
) -> None:
    """Write a reviewed plan (dry run unless --apply), guarded, journaled and resumable."""
    from audit.writeback.commands import apply_reviewed_plan
    from audit.writeback.tenants import checked_limits

    limits = checked_limits(max_failures, max_conflicts, max_changes, workers)
    output.setup_logging()
    applied = apply_reviewed_plan(
        plan_path,
        approve=approve,
        do_apply=do_apply,
        journal=journal,
        limits=limits,
        overrides={"source": api_source, "target": api_target},
        audit_dir=audit_dir,
        flow_doc=flow_doc,
        report=output,
        side=side,
        atomic=atomic,
    )
    raise typer.Exit(applied.exit_code)


@app.command("rollback")
def writeback_rollback_command(
    journal: Annotated[Path, typer.Argument(help="The journal of the apply to undo", show_default=False)],
    do_apply: DoApply = False,
    rollback_journal: Annotated[
        Optional[Path], typer.Option("--journal", help="Rollback journal (default: JOURNAL.rollback.jsonl)")
    ] = None,
    max_failures: MaxFailures = 5,
    max_conflicts: MaxConflicts = 20,
    api_source: ApiSource = None,
    api_target: ApiTarget = None,
    workers: Workers = 4,
    atomic: Atomic = False,
) -> None:
    """Restore the old values of a journal's applied changes (guarded; dry run unless --apply)."""
    from audit.writeback.commands import rollback_applied
    from audit.writeback.tenants import checked_limits

    limits = checked_limits(max_failures, max_conflicts, None, workers)
    output.setup_logging()
    overrides = {"source": api_source, "target": api_target}
    result = rollback_applied(
        journal,
        do_apply=do_apply,
        rollback_path=rollback_journal,
        limits=limits,
        overrides=overrides,
        atomic=atomic,
        report=output,
    )
    raise typer.Exit(result.exit_code)


@app.command("verify")
def writeback_verify_command(
    journal: Annotated[Path, typer.Argument(help="The journal of the apply to check", show_default=False)],
    flow_doc: Annotated[Path, typer.Option("--flow", help="The dataflow document", show_default=False)],
    out: Annotated[
        Optional[Path], typer.Option("--out", help="verification.json (default: next to the journal)")
    ] = None,
    api_source: ApiSource = None,
    api_target: ApiTarget = None,
) -> None:
    """Re-audit the records a journal's applied changes touched; write verification.json."""
    from audit.writeback.commands import verify_journal

    output.setup_logging()
    overrides = {"source": api_source, "target": api_target}
    verification, path = verify_journal(journal, flow_doc, out=out, overrides=overrides)
    output.writeback_verification(verification.to_dict(), str(path))
    raise typer.Exit(1 if verification.counts["not_verified"] else 0)
