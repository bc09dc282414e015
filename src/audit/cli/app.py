"""The ``audit`` command line: the typer app, its commands in order, and :func:`main`.

Each command lives in the module of its group (:mod:`~audit.cli.spec`,
:mod:`~audit.cli.data`, :mod:`~audit.cli.links`, :mod:`~audit.cli.report`, :mod:`~audit.cli.run`,
:mod:`~audit.cli.nightly`, :mod:`~audit.cli.writeback`): it parses its options, calls one
library function, prints through :mod:`~audit.cli.output` and exits with a code. Heavy
libraries (polars, Great Expectations, the HTTP stack) are imported inside the commands,
so that ``audit spec`` over hundreds of documents starts fast.
"""

from __future__ import annotations

import sys
from typing import Annotated, Optional

import typer

from audit import __version__
from audit.cli import data, links, nightly, output, report, run, spec, writeback
from audit.errors import EXIT_INPUT, AuditError

app = typer.Typer(
    name="audit",
    help="Audit whether a Sesam Talk sync holds, record by record.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # typer 0.29's rich help panel shows a type for every option, flags too (`--apply <bool>`);
    # its plain formatter, like click's, leaves flags bare.
    rich_markup_mode=None,
)


def _show_version(value: bool) -> None:
    if value:
        output.line(f"audit {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_show_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    """Audit whether a Sesam Talk sync holds, record by record."""


# The order here is the order of ``audit --help``.
app.command()(spec.spec)
app.command("demo-data")(data.demo_data)
app.command()(report.report)
app.command("run")(run.run_command)
app.command("suites")(run.suites_command)
app.command()(data.fetch)
app.command()(data.simulate)
app.command("sesam-links")(data.sesam_links)
app.add_typer(links.app, name="links")
app.command("nightly")(nightly.nightly_command)
app.add_typer(writeback.app, name="writeback")


def _exit_code(exc: Exception) -> int | None:
    """Show an exception a command ended with and return its exit code; ``None`` for others.

    :class:`AuditError` carries its own code; a usage error (typer's own click errors, such as
    an unknown option or a bad value) is shown as typer shows it and is exit 2, as is a file
    the command cannot read or write (an ``--out`` that is a file, a folder without write
    permission): the message names it.
    """
    if isinstance(exc, typer.Exit):
        return exc.exit_code
    if isinstance(exc, AuditError):
        output.error(str(exc))
        return exc.exit_code
    if isinstance(exc, OSError) and exc.filename is not None:
        output.error(f"{exc.filename}: {exc.strerror or exc}")
        return EXIT_INPUT
    if isinstance(exc, typer.Abort):
        output.error("aborted")
        return 130
    if isinstance(exc, typer.TyperException) and hasattr(exc, "show"):
        exc.show(file=sys.stderr)
        return EXIT_INPUT
    return None


def main(argv: Optional[list[str]] = None) -> int:
    """Entry point of the console script and of ``python -m audit``."""
    try:
        rc = app(args=argv, prog_name="audit", standalone_mode=False)
    except KeyboardInterrupt:
        output.error("interrupted")
        return 130
    except Exception as exc:
        code = _exit_code(exc)
        if code is None:
            raise
        return code
    return rc if isinstance(rc, int) else 0
