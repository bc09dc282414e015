"""reStructuredText -> docutils document tree, with ``list-table`` rows kept as text.

The text is read by docutils' own parser. Only the ``list-table`` directive is replaced
(for the duration of one parse) by :class:`FlowTable`, which keeps every row as plain
cell texts with their line numbers instead of insisting on docutils' rules: the
documents carry header-only tables (no properties) that docutils would reject, and a
table with the wrong number of columns must become an error naming the line.
:mod:`audit.flow.parser` reads the tree into a flow.
"""

from __future__ import annotations

import threading

from docutils import nodes
from docutils.frontend import get_default_settings
from docutils.parsers.rst import Directive, Parser, directives
from docutils.utils import new_document

#: ``(level, line, text)`` of one docutils system message.
Message = tuple[int, int | None, str]


class flow_table(nodes.General, nodes.Element):  # noqa: N801 - docutils node naming
    """A list-table kept as raw rows: ``rows`` (cell texts) and ``row_lines``."""


class FlowTable(Directive):
    """``list-table`` that keeps rows as text and never rejects a shape by itself."""

    has_content = True
    optional_arguments = 1
    final_argument_whitespace = True
    option_spec = {
        "header-rows": directives.nonnegative_int,
        "stub-columns": directives.nonnegative_int,
        "widths": directives.unchanged,
        "width": directives.unchanged,
        "class": directives.unchanged,
        "name": directives.unchanged,
        "align": directives.unchanged,
    }

    def run(self) -> list[nodes.Node]:
        node = flow_table()
        node.line = self.lineno
        node["header_rows"] = self.options.get("header-rows", 0)
        rows: list[list[str]] = []
        row_lines: list[int | None] = []
        problem = None
        if self.content:
            holder = nodes.Element()
            self.state.nested_parse(self.content, self.content_offset, holder)
            problem = _read_rows(holder, rows, row_lines)
        node["rows"] = rows
        node["row_lines"] = row_lines
        node["problem"] = problem
        return [node]


def _read_rows(holder: nodes.Element, rows: list[list[str]], row_lines: list[int | None]) -> str | None:
    """Fill ``rows`` and ``row_lines`` from the table's parsed content; the problem, if any."""
    lists = [c for c in holder.children if isinstance(c, nodes.bullet_list)]
    if len(lists) != 1 or len(holder.children) != 1:
        return "table content is not one two-level bullet list"
    for item in lists[0].children:
        inner = [c for c in item.children if isinstance(c, nodes.bullet_list)]
        row_lines.append(item.line)
        if len(inner) != 1:
            return "table row is not a bullet list of cells"
        rows.append([_cell_text(cell) for cell in inner[0].children])
    return None


def raw_text(node: nodes.Node) -> str:
    """The text of a node as written in the document (cells are literal text, so a
    trailing ``_`` or ``*`` is kept rather than read as markup)."""
    raw = getattr(node, "rawsource", "")
    text = raw if isinstance(raw, str) and raw else node.astext()
    return " ".join(line.strip() for line in text.splitlines()).strip()


def _cell_text(cell: nodes.Node) -> str:
    parts = [raw_text(c) for c in cell.children if not isinstance(c, nodes.system_message)]
    return " ".join(p for p in parts if p).strip()


def title_line(section: nodes.section) -> int | None:
    """The line of a section's title (one before the line docutils records for it)."""
    line = section[0].line
    return line - 1 if line else None


_DIRECTIVE_LOCK = threading.Lock()


def read_doctree(text: str, file: str) -> tuple[nodes.document, list[Message]]:
    """Parse ``text`` with :class:`FlowTable` as ``list-table``; the tree and docutils'
    system messages (none are printed, none stop the parse)."""
    settings = get_default_settings(Parser)
    settings.report_level = 5
    settings.halt_level = 5
    settings.warning_stream = False
    settings.file_insertion_enabled = False
    settings.raw_enabled = False
    document = new_document(file, settings)
    messages: list[Message] = []
    document.reporter.attach_observer(
        lambda msg: messages.append((msg["level"], msg.get("line"), msg.children[0].astext() if msg.children else ""))
    )
    with _DIRECTIVE_LOCK:
        registry = directives._directives  # docutils' cache of resolved directives
        previous = registry.get("list-table")
        registry["list-table"] = FlowTable
        try:
            Parser().parse(text, document)
        finally:
            if previous is None:
                registry.pop("list-table", None)
            else:
                registry["list-table"] = previous
    return document, messages
