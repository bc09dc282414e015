"""``audit nightly``: run the audit notebook for every job of a nightly file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from audit.cli import output


def nightly_command(
    config: Annotated[Path, typer.Option("--config", "-c", help="Nightly YAML: jobs of flow + tenants")] = Path(
        "nightly.demo.yaml"
    ),
    timeout_minutes: Annotated[
        Optional[float], typer.Option("--timeout-minutes", help="Wall-clock limit per job (overrides the file)")
    ] = None,
) -> None:
    """Run the audit notebook with papermill for every configured flow and tenants."""
    from audit.runs.nightly_file import run_nightly_file

    result = run_nightly_file(config, timeout_minutes)
    output.nightly_summary(result)
    raise typer.Exit(result.exit_code)
