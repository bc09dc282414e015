"""``audit report``: the data-quality report of one run, and the run history."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from audit.cli import output


def report(
    out_dir: Annotated[Path, typer.Argument(help="Output directory of `audit run`", show_default=False)],
    history: Annotated[
        Optional[Path],
        typer.Option(
            "--history",
            help="History store (e.g. reports/history): record this run there and show the trend "
            "and what is new or fixed since the previous run",
        ),
    ] = None,
    max_rows: Annotated[
        int, typer.Option("--max-rows", min=0, help="Findings rendered in the HTML table at most")
    ] = 5000,
    data_docs: Annotated[
        bool, typer.Option("--data-docs/--no-data-docs", help="Build Great Expectations Data Docs")
    ] = True,
) -> None:
    """Write OUT_DIR/report.html, one self-contained data-quality report of the run."""
    from audit.reporting.report import build_report

    path = build_report(out_dir, history=history, max_rows=max_rows, data_docs=data_docs)
    output.line(str(path))
