"""``audit links``: where the links of pairs without merge rules can come from.

``audit links suggest`` proposes links for review; they are never used by an audit
until a person passes their directory to ``audit run --links``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from audit.cli import output

app = typer.Typer(help="Links of pairs without merge rules: suggest them for review.", no_args_is_help=True)


@app.command("suggest")
def suggest_command(
    flow: Annotated[Path, typer.Option("--flow", help="Dataflow document (.rst)", show_default=False)],
    source: Annotated[Path, typer.Option("--source", help="Source snapshot directory", show_default=False)],
    target: Annotated[Path, typer.Option("--target", help="Target snapshot directory", show_default=False)],
    out: Annotated[
        Path, typer.Option("--out", help="Directory for the <source>-<target>.csv files", show_default=False)
    ],
    threshold: Annotated[
        float, typer.Option("--threshold", min=0.0, max=1.0, help="Least match probability of a suggestion")
    ] = 0.9,
) -> None:
    """Propose links for the pairs without merge rules by matching mapped properties
    (e-mail, name with date of birth, ...), written as links files for review only."""
    from audit.linkage.suggest import suggest_links

    output.link_suggestions(suggest_links(flow, source, target, out, threshold=threshold))
