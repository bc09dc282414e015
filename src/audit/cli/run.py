"""``audit run`` (audit two snapshots) and ``audit suites`` (the Great Expectations suites)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from audit.cli import output

#: ``--config``, the audit policy file both commands read.
PolicyFile = Annotated[Optional[Path], typer.Option("--config", help="Audit policy file (YAML)")]

_LABEL_HELP = (
    "Name of the {} tenant in the run history (default: the snapshot manifest's tenant, else the directory)"
)


def run_command(
    flow: Annotated[Path, typer.Option("--flow", help="Dataflow document (.rst)", show_default=False)],
    source: Annotated[Path, typer.Option("--source", help="Source snapshot directory", show_default=False)],
    target: Annotated[Path, typer.Option("--target", help="Target snapshot directory", show_default=False)],
    out: Annotated[Path, typer.Option("--out", help="Output directory", show_default=False)],
    links: Annotated[
        Optional[Path],
        typer.Option(
            "--links",
            help="Links of pairs without merge rules: a Sesam dataset export (.json/.jsonl) "
            "or a directory of <source>-<target>.csv files",
        ),
    ] = None,
    link_by_id: Annotated[
        bool,
        typer.Option(
            "--link-by-id", help="Link id to id the pairs of two entity types that have no links (shared ids only)"
        ),
    ] = False,
    config: PolicyFile = None,
    source_label: Annotated[Optional[str], typer.Option("--source-label", help=_LABEL_HELP.format("source"))] = None,
    target_label: Annotated[Optional[str], typer.Option("--target-label", help=_LABEL_HELP.format("target"))] = None,
    expectations: Annotated[
        Path,
        typer.Option(
            "--expectations",
            help="Directory of your own suites (<flow>/<pair>.user.json); each failing record is an "
            "expectation_failed finding. Ignored when it does not exist",
        ),
    ] = Path("expectations"),
) -> None:
    """Audit two snapshots against a flow; exit 0 in sync, 1 on drift, 2 on bad input."""
    from audit.runs.batch import run_batch

    labels = {"source": source_label, "target": target_label}
    result = run_batch(
        flow,
        source,
        target,
        out,
        links=links,
        link_by_id=link_by_id,
        config=config,
        progress=output.audit_progress,
        labels=labels,
        expectations=expectations,
    )
    output.audit_summary(result.summary, str(out))
    raise typer.Exit(result.exit_code)


def suites_command(
    flow: Annotated[
        Optional[list[Path]],
        typer.Option("--flow", help="Dataflow document(s); default: every bundled flow (data/flows/*.rst)"),
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="Directory of the suites")] = Path("expectations"),
    config: PolicyFile = None,
    check: Annotated[bool, typer.Option("--check", help="Only report stale suites (exit 1 if any)")] = False,
) -> None:
    """Regenerate the Great Expectations suites (one per pair) from flow documents."""
    from audit.gx.refresh import refresh_suites

    stale = False
    for path in refresh_suites(flow, out, config, check=check):
        output.line(f"stale: {path}" if check else str(path))
        stale = check
    raise typer.Exit(1 if stale else 0)
