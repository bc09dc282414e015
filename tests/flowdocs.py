"""Small dataflow documents for tests, written the way Sesam Talk generates them.

``document(...)`` renders a title, an introduction and pair sections; ``section(...)``
renders one pair. Tests pass the pieces that matter to them and nothing else.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

INTRO_OLD = "Introduction.\n------------\n"
INTRO_NEW = "Introduction\n------------\n"


def title_block(source: str, target: str) -> str:
    title = f"{source} to {target} Dataflow"
    bar = "=" * len(title)
    return f"{bar}\n{title}\n{bar}\n"


def table(rows: Sequence[Sequence[str]], header: Sequence[str]) -> str:
    lines = [".. list-table::", "   :header-rows: 1", ""]
    for row in [header, *rows]:
        for i, cell in enumerate(row):
            lines.append(("   * - " if i == 0 else "     - ") + cell)
    return "\n".join(lines) + "\n"


def section(
    heading: str,
    a: str,
    x: str,
    b: str,
    y: str,
    *,
    every: bool = True,
    condition: str | None = None,
    create_when: str | None = None,
    merge: Iterable[tuple[str, str]] | None = None,
    properties: Iterable[tuple[str, str, str]] = (),
) -> str:
    sx, sy = f"{a} {x}".strip(), f"{b} {y}".strip()
    parts = [f"{heading}\n{'-' * len(heading)}\n"]
    if merge is not None:
        parts.append(
            f"Before any synchronization can take place, a link between a {sx} and a {sy} must be established.\n"
        )
    if every:
        parts.append(f"Every {sx} will be synchronized with a {sy}.\n")
    if condition:
        parts.append(condition + "\n")
    if create_when:
        parts.append(create_when + "\n")
    if merge is not None:
        parts.append(f"A {sx} will merge with a {sy} if one of the following property combinations match:\n")
        parts.append(table(list(merge), [f"{sx} Property", f"{sy} Property"]))
    parts.append(
        f"Once a link between a {sx} and a {sy} is established, it will keep in sync between "
        "the two systems, regardless of where it is edited.\n"
    )
    parts.append(f"The following properties are synchronized between a {sx} and a {sy}:\n")
    parts.append(table(list(properties), [f"{sx} Property", f"{sy} Property", f"{b} Data Type"]))
    return "\n".join(parts) + "\n"


def document(
    source: str = "Alpha",
    target: str = "Beta",
    sections: Sequence[str] = (),
    *,
    generated: str = "2024-11-13 00:00:00",
    intro: str = INTRO_NEW,
) -> str:
    head = title_block(source, target)
    body = (
        f"{head}\nGenerated: {generated}\n\n{intro}\n"
        "This technical document provides a detailed overview of the Sesam Talk data flow "
        f"from {source} to {target}.\n\n"
    )
    return body + "\n".join(sections)
