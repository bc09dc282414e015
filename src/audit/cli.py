"""The ``audit`` command line: a thin layer of load -> work -> emit -> exit code.

Heavy libraries (polars, Great Expectations, the HTTP stack) are imported inside the
commands that need them, so that ``audit spec`` over hundreds of documents starts fast.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from . import output
from .errors import EXIT_INPUT, AuditError

app = typer.Typer(
    name="audit",
    help="Audit whether a Sesam Talk sync holds, record by record.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """Audit whether a Sesam Talk sync holds, record by record."""


@app.command()
def spec(
    docs: Annotated[list[Path], typer.Argument(help="Dataflow documents (.rst)", show_default=False)],
    as_json: Annotated[bool, typer.Option("--json", help="JSON (JSON Lines for several documents)")] = False,
) -> None:
    """Parse Sesam Talk dataflow documents into flow models."""
    from .dataflow import parse_file

    failed = False
    many = len(docs) > 1
    for doc in docs:
        try:
            flow = parse_file(doc)
        except AuditError as exc:
            failed = True
            output.error(str(exc))
            if as_json:
                output.json_line({"file": str(doc), "error": str(exc)}, compact=True)
            continue
        if as_json:
            data = flow.to_dict()
            if many:
                output.json_line({"file": str(doc), **data}, compact=True)
            else:
                output.json_line(data, compact=False)
        else:
            output.flow_summary(flow)
    raise typer.Exit(EXIT_INPUT if failed else 0)


def main(argv: Optional[list[str]] = None) -> int:
    """Entry point of the console script and of ``python -m audit``."""
    try:
        rc = app(args=argv, standalone_mode=False)
    except typer.Exit as exc:
        return exc.exit_code
    except AuditError as exc:
        output.error(str(exc))
        return exc.exit_code
    except KeyboardInterrupt:
        output.error("interrupted")
        return 130
    except Exception as exc:  # click's usage errors and friends
        import click

        if isinstance(exc, click.exceptions.Abort):
            output.error("aborted")
            return 130
        if isinstance(exc, click.ClickException):
            exc.show(file=sys.stderr)
            return EXIT_INPUT
        raise
    return rc if isinstance(rc, int) else 0


# --------------------------------------------------------------------------------------
# audit report: the data-quality report of one run, and the run history
# --------------------------------------------------------------------------------------


@app.command()
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
    from .report import build_report

    path = build_report(out_dir, history=history, max_rows=max_rows, data_docs=data_docs)
    output.line(str(path))
