"""``audit spec``: parse dataflow documents and show their flow models."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from audit.cli import output
from audit.errors import EXIT_INPUT, AuditError


def spec(
    docs: Annotated[list[Path], typer.Argument(help="Dataflow documents (.rst)", show_default=False)],
    as_json: Annotated[bool, typer.Option("--json", help="JSON (JSON Lines for several documents)")] = False,
) -> None:
    """Parse Sesam Talk dataflow documents into flow models."""
    from audit.flow.parser import parse_many

    failed = False
    for doc, flow in parse_many(docs):
        failed = failed or isinstance(flow, AuditError)
        output.parsed_document(doc, flow, as_json=as_json, many=len(docs) > 1)
    raise typer.Exit(EXIT_INPUT if failed else 0)
