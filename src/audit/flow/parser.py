"""Sesam Talk dataflow document -> :class:`audit.flow.model.Flow`.

The reStructuredText is read by docutils' own parser. Only the ``list-table`` directive
is replaced (for the duration of one parse) by :class:`_FlowTable`, which keeps every row
as plain cell texts with their line numbers instead of insisting on docutils' rules: the
documents carry header-only tables (no properties) that docutils would reject, and a
table with the wrong number of columns must become an error naming the line.

The sentences of a pair section are recognised by their fixed wording (see
``sesam-talk-dataflows`` in the README); everything else is kept as a warning.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from docutils import nodes
from docutils.frontend import get_default_settings
from docutils.parsers.rst import Directive, Parser, directives
from docutils.utils import new_document

from audit.errors import DocumentError
from audit.flow.model import KNOWN_DATATYPES, Condition, Flow, Link, MergeRule, Pair, PropertyMap

__all__ = ["parse_text", "parse_bytes", "parse_file", "parse_many", "split_conditions"]

_CONDITION_BLOCK = re.compile(r"\s*\((Dependant on having .*)\)\s*$", re.DOTALL)
_CONDITION = re.compile(r"Dependant on having (.*?) in (.*?)(?=Dependant on having |$)", re.DOTALL)
_TITLE = re.compile(r"^(?P<a>.*?)\s*\bto\b\s*(?P<b>.*?)\s*\bDataflow$", re.DOTALL)
_GENERATED = re.compile(r"^Generated:\s*(?P<ts>.*)$")


# --------------------------------------------------------------------------- tables
class flow_table(nodes.General, nodes.Element):  # noqa: N801 - docutils node naming
    """A list-table kept as raw rows: ``rows`` (cell texts) and ``row_lines``."""


class _FlowTable(Directive):
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
            lists = [c for c in holder.children if isinstance(c, nodes.bullet_list)]
            if len(lists) != 1 or len(holder.children) != 1:
                problem = "table content is not one two-level bullet list"
            else:
                for item in lists[0].children:
                    inner = [c for c in item.children if isinstance(c, nodes.bullet_list)]
                    if len(inner) != 1:
                        problem = "table row is not a bullet list of cells"
                        row_lines.append(item.line)
                        break
                    rows.append([_cell_text(cell) for cell in inner[0].children])
                    row_lines.append(item.line)
        node["rows"] = rows
        node["row_lines"] = row_lines
        node["problem"] = problem
        return [node]


def _raw(node: nodes.Node) -> str:
    """The text of a node as written in the document (cells are literal text, so a
    trailing ``_`` or ``*`` is kept rather than read as markup)."""
    raw = getattr(node, "rawsource", "")
    text = raw if isinstance(raw, str) and raw else node.astext()
    return " ".join(line.strip() for line in text.splitlines()).strip()


def _cell_text(cell: nodes.Node) -> str:
    parts = [_raw(c) for c in cell.children if not isinstance(c, nodes.system_message)]
    return " ".join(p for p in parts if p).strip()


_DIRECTIVE_LOCK = threading.Lock()


def _doctree(text: str, file: str) -> tuple[nodes.document, list[tuple[int, int | None, str]]]:
    settings = get_default_settings(Parser)
    settings.report_level = 5
    settings.halt_level = 5
    settings.warning_stream = False
    settings.file_insertion_enabled = False
    settings.raw_enabled = False
    document = new_document(file, settings)
    messages: list[tuple[int, int | None, str]] = []
    document.reporter.attach_observer(
        lambda msg: messages.append((msg["level"], msg.get("line"), msg.children[0].astext() if msg.children else ""))
    )
    with _DIRECTIVE_LOCK:
        registry = directives._directives  # docutils' cache of resolved directives
        previous = registry.get("list-table")
        registry["list-table"] = _FlowTable
        try:
            Parser().parse(text, document)
        finally:
            if previous is None:
                registry.pop("list-table", None)
            else:
                registry["list-table"] = previous
    return document, messages


# --------------------------------------------------------------------------- helpers
def _norm_label(label: str) -> str:
    return "".join(label.lower().split())


def split_conditions(cell: str) -> tuple[str, tuple[Condition, ...]]:
    """Split ``path (Dependant on having V in P...)`` into the bare path and its
    distinct conditions, in order of appearance."""
    cell = cell.strip()
    m = _CONDITION_BLOCK.search(cell)
    if not m:
        return cell, ()
    path = cell[: m.start()].strip()
    found: dict[Condition, None] = {}
    for cm in _CONDITION.finditer(m.group(1)):
        found.setdefault(Condition(value=cm.group(1).strip(), path=cm.group(2).strip()), None)
    return path, tuple(found)


def _datatype(raw: str) -> str | None:
    inner = raw.strip()
    if len(inner) >= 2 and inner[0] == inner[-1] == '"':
        inner = inner[1:-1]
    return inner if inner in KNOWN_DATATYPES else None


def _split_heading(side: str, label: str, known_labels: Iterable[str]) -> tuple[str, str, bool]:
    """Split ``"<label> <Entity>"`` into (label, entity, matched_title_label)."""
    side = side.strip()
    words = side.split()
    candidates = [label] + [k for k in known_labels if k != label]
    for cand_index, cand in enumerate(candidates):
        target = _norm_label(cand)
        if not target:
            continue
        for n in range(1, len(words)):
            if _norm_label(" ".join(words[:n])) == target:
                return " ".join(words[:n]), " ".join(words[n:]), cand_index == 0
    if not _norm_label(label):
        return "", side, True
    if len(words) >= 2:
        return words[0], " ".join(words[1:]), False
    return "", side, False


def _sentence(paragraph: nodes.paragraph) -> str:
    return _raw(paragraph)


# --------------------------------------------------------------------------- parser
class _PairBuilder:
    def __init__(self, heading: str, line: int | None, source: tuple[str, str], target: tuple[str, str]):
        self.heading = heading
        self.line = line
        self.source_label, self.source_entity = source
        self.target_label, self.target_entity = target
        self.every = False
        self.condition: str | None = None
        self.create_when: str | None = None
        self.two_way = False
        self.merge_rules: list[MergeRule] = []
        self.properties: list[PropertyMap] = []

    def build(self) -> Pair:
        return Pair(
            heading=self.heading,
            source_entity=self.source_entity,
            target_entity=self.target_entity,
            link=Link(every=self.every, condition=self.condition, create_when=self.create_when),
            merge_rules=tuple(self.merge_rules),
            properties=tuple(self.properties),
            source_label=self.source_label,
            target_label=self.target_label,
            two_way=self.two_way,
            line=self.line,
        )


class _Parser:
    def __init__(self, file: str):
        self.file = file
        self.warnings: list[str] = []

    def error(self, message: str, line: int | None) -> DocumentError:
        return DocumentError(message, file=self.file, line=line)

    def warn(self, message: str, line: int | None = None) -> None:
        where = f"line {line}: " if line else ""
        self.warnings.append(f"{where}{message}")

    # -- document
    def parse(self, text: str) -> Flow:
        if not text.strip():
            raise self.error("empty file, not a dataflow document", 1)
        document, messages = _doctree(text, self.file)
        for level, line, msg in messages:
            if level >= 3:
                raise self.error(f"reStructuredText error: {msg}", line)
        top = [c for c in document.children if isinstance(c, nodes.section)]
        if not top:
            raise self.error("not a dataflow document: no title '<A> to <B> Dataflow' between '=' lines", 1)
        title_section = top[0]
        title = _raw(title_section[0])
        title_line = _title_line(title_section)
        m = _TITLE.match(title)
        if not m:
            raise self.error(f"not a dataflow document: title {title!r} is not '<A> to <B> Dataflow'", title_line)
        source_system, target_system = m.group("a").strip(), m.group("b").strip()
        if len(top) > 1:
            self.warn(
                f"{len(top) - 1} more top-level section(s) after the title; read as pair sections",
                _title_line(top[1]),
            )

        generated = None
        for child in title_section.children[1:]:
            if isinstance(child, nodes.paragraph):
                gm = _GENERATED.match(child.astext().strip())
                if gm:
                    generated = self._timestamp(gm.group("ts").strip(), child.line)
                    break
        if generated is None:
            self.warn("no 'Generated:' timestamp", title_line)

        sections = [c for c in title_section.children if isinstance(c, nodes.section)]
        for extra in top[1:]:
            sections.append(extra)
            sections.extend(c for c in extra.children if isinstance(c, nodes.section))

        known_labels = [source_system, target_system]
        builders: dict[str, _PairBuilder] = {}
        order: list[str] = []
        for section in sections:
            heading = _raw(section[0])
            line = _title_line(section)
            if heading.rstrip(".").strip().lower() == "introduction":
                continue
            builder = self._pair(section, heading, line, source_system, target_system, known_labels)
            if heading in builders:
                self.warn(f"heading {heading!r} appears again; its rules and properties are merged", line)
                self._merge(builders[heading], builder)
            else:
                builders[heading] = builder
                order.append(heading)
        return Flow(
            title=title,
            source_system=source_system,
            target_system=target_system,
            generated=generated,
            pairs=tuple(builders[h].build() for h in order),
            warnings=tuple(self.warnings),
            file=self.file,
        )

    def _timestamp(self, raw: str, line: int | None) -> str:
        try:
            return datetime.fromisoformat(raw).isoformat()
        except ValueError:
            self.warn(f"'Generated:' value {raw!r} is not a timestamp; kept as written", line)
            return raw

    # -- one pair section
    def _pair(
        self,
        section: nodes.section,
        heading: str,
        line: int | None,
        source_system: str,
        target_system: str,
        known_labels: list[str],
    ) -> _PairBuilder:
        parts = heading.split(" to ")
        if len(parts) != 2:
            # A heading of the form "<A> <X> to  <Y>" (empty target label) has one " to ".
            count = len(parts) - 1
            raise self.error(f"pair heading {heading!r} must contain ' to ' exactly once (found {count})", line)
        src = _split_heading(parts[0], source_system, known_labels)
        tgt = _split_heading(parts[1], target_system, known_labels)
        for side, (label, entity, matched), title_label in (
            ("source", src, source_system),
            ("target", tgt, target_system),
        ):
            if not entity:
                raise self.error(f"pair heading {heading!r} names no {side} entity", line)
            if not matched:
                self.warn(
                    f"heading {heading!r}: {side} label {label!r} differs from the title's {title_label!r}",
                    line,
                )
            if label and label not in known_labels:
                known_labels.append(label)
        builder = _PairBuilder(heading, line, src[:2], tgt[:2])

        pending: str | None = None  # what the next table is announced as
        for child in section.children[1:]:
            if isinstance(child, nodes.paragraph):
                pending = self._sentence(builder, _sentence(child), child.line) or pending
            elif isinstance(child, flow_table):
                self._table(builder, child, pending)
                pending = None
            elif isinstance(child, nodes.system_message):
                continue
            elif isinstance(child, nodes.section):
                continue  # nested sections are read by the caller
            else:
                self.warn(f"{heading!r}: unexpected {child.tagname} ignored", child.line)
        return builder

    def _sentence(self, b: _PairBuilder, text: str, line: int | None) -> str | None:
        low = text.lower()
        if "property combinations match" in low and " will merge with " in low:
            return "merge"
        if low.startswith("the following properties are synchronized"):
            return "properties"
        if low.startswith("every ") and "will be synchronized with" in low:
            b.every = True
            return None
        if low.startswith("a new ") and " will be created " in low:
            b.create_when = text if b.create_when is None else b.create_when
            return None
        if "will be synchronized with" in low:
            b.condition = text if b.condition is None else b.condition
            return None
        if low.startswith("once a link") and "regardless of where it is edited" in low:
            b.two_way = True
            return None
        if low.startswith(("before any synchronization", "if a matching", "if no matching")):
            return None
        self.warn(f"{b.heading!r}: sentence not understood, ignored: {text[:80]!r}", line)
        return None

    def _table(self, b: _PairBuilder, table: flow_table, pending: str | None) -> None:
        line = table.line
        if table["problem"]:
            raise self.error(f"{table['problem']} in list-table", line)
        rows: list[list[str]] = table["rows"]
        row_lines: list[int | None] = table["row_lines"]
        if not rows:
            raise self.error("list-table has no rows", line)
        kind = pending or {2: "merge", 3: "properties"}.get(len(rows[0]))
        expected = {"merge": 2, "properties": 3}.get(kind or "")
        if expected is None:
            raise self.error(
                f"list-table has {len(rows[0])} columns; a merge table has 2 and a property table 3",
                line,
            )
        for row, row_line in zip(rows, row_lines, strict=True):
            if len(row) != expected:
                what = "merge" if kind == "merge" else "property"
                raise self.error(f"{what} table row has {len(row)} column(s), expected {expected}", row_line or line)
        header_rows = table["header_rows"]
        if pending is None:
            self.warn(f"{b.heading!r}: table without an introducing sentence read as {kind} table", line)
        for row, row_line in zip(rows[header_rows:], row_lines[header_rows:], strict=True):
            if kind == "merge":
                source, _ = split_conditions(row[0])
                target, _ = split_conditions(row[1])
                if not source or not target:
                    self.warn(f"{b.heading!r}: merge rule with an empty cell ignored", row_line)
                    continue
                b.merge_rules.append(MergeRule(source=source, target=target, line=row_line))
            else:
                b.properties.append(self._property(b, row, row_line))

    def _property(self, b: _PairBuilder, row: list[str], line: int | None) -> PropertyMap:
        source, source_conditions = split_conditions(row[0])
        target, target_conditions = split_conditions(row[1])
        conditions = tuple(dict.fromkeys(source_conditions + target_conditions))
        raw = row[2].strip()
        datatype = _datatype(raw)
        if datatype is None and raw != "N/A":
            self.warn(f"{b.heading!r}: unknown data type {raw!r} for {source} -> {target}", line)
        if not source or not target:
            raise self.error("property row with an empty source or target cell", line)
        return PropertyMap(
            source=source,
            target=target,
            datatype=datatype,
            datatype_raw=raw,
            conditions=conditions,
            line=line,
        )

    def _merge(self, first: _PairBuilder, again: _PairBuilder) -> None:
        first.every = first.every or again.every
        first.condition = first.condition or again.condition
        first.create_when = first.create_when or again.create_when
        first.two_way = first.two_way or again.two_way
        for rule in again.merge_rules:
            if rule not in first.merge_rules:
                first.merge_rules.append(rule)
        for prop in again.properties:
            if prop not in first.properties:
                first.properties.append(prop)


def _title_line(section: nodes.section) -> int | None:
    line = section[0].line
    return line - 1 if line else None


# --------------------------------------------------------------------------- public API
def parse_text(text: str, file: str = "<document>") -> Flow:
    """Parse the text of one dataflow document."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    return _Parser(file).parse(text)


def parse_bytes(data: bytes, file: str = "<document>") -> Flow:
    """Parse a document given as bytes; non-UTF-8 bytes are an error naming the line."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise DocumentError(
            f"not UTF-8: byte 0x{data[exc.start]:02x} at offset {exc.start}", file=file, line=line
        ) from None
    return parse_text(text, file)


def parse_file(path: str | Path) -> Flow:
    """Parse a document from a file."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DocumentError(f"cannot read: {exc.strerror}", file=str(path)) from None
    return parse_bytes(data, str(path))


def _parse_or_error(path: str) -> Flow | DocumentError:
    try:
        return parse_file(path)
    except DocumentError as exc:
        return exc


def parse_many(paths: Iterable[str | Path], workers: int | None = None) -> Iterator[tuple[str, Flow | DocumentError]]:
    """Parse many documents, yielding ``(path, flow or error)`` in argument order.

    docutils' state machine is slow per document, so large batches are spread over the
    machine's cores (``workers``; default: all of them for 32 or more
    documents, else one).
    """
    names = [str(p) for p in paths]
    if workers is None:
        workers = (os.cpu_count() or 1) if len(names) >= 32 else 1
    if workers <= 1 or len(names) < 2:
        for name in names:
            yield name, _parse_or_error(name)
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        chunk = max(1, len(names) // (workers * 4))
        yield from zip(names, pool.map(_parse_or_error, names, chunksize=chunk), strict=True)


def with_file(flow: Flow, file: str) -> Flow:
    """The same flow, labelled with another file name."""
    return replace(flow, file=file)
