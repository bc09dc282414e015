"""Sesam Talk dataflow document -> :class:`audit.flow.model.Flow`.

:mod:`audit.flow.doctree` reads the reStructuredText into a docutils tree (tables kept as
rows of cell texts); this module reads that tree into the flow. The sentences of a pair
section are recognised by their fixed wording (see ``sesam-talk-dataflows`` in the
README); everything else is kept as a warning.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from docutils import nodes

from audit.errors import DocumentError
from audit.flow.bundled import resolve_flow
from audit.flow.cells import datatype_of, split_conditions, split_heading
from audit.flow.doctree import flow_table, raw_text, read_doctree, title_line
from audit.flow.model import Flow, Link, MergeRule, Pair, PropertyMap

__all__ = ["parse_text", "parse_bytes", "parse_file", "parse_many", "split_conditions"]

_TITLE = re.compile(r"^(?P<a>.*?)\s*\bto\b\s*(?P<b>.*?)\s*\bDataflow$", re.DOTALL)
_GENERATED = re.compile(r"^Generated:\s*(?P<ts>.*)$")


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
        top = self._top_sections(text)
        title, source_system, target_system = self._title(top[0])
        if len(top) > 1:
            self.warn(
                f"{len(top) - 1} more top-level section(s) after the title; read as pair sections",
                title_line(top[1]),
            )
        generated = self._generated(top[0])
        pairs = self._pairs(_pair_sections(top), source_system, target_system)
        return Flow(
            title=title,
            source_system=source_system,
            target_system=target_system,
            generated=generated,
            pairs=pairs,
            warnings=tuple(self.warnings),
            file=self.file,
        )

    def _top_sections(self, text: str) -> list[nodes.section]:
        """The document's top-level sections (the first is the title); an error when
        docutils reports one or there is no section at all."""
        if not text.strip():
            raise self.error("empty file, not a dataflow document", 1)
        document, messages = read_doctree(text, self.file)
        for level, line, msg in messages:
            if level >= 3:
                raise self.error(f"reStructuredText error: {msg}", line)
        top = [c for c in document.children if isinstance(c, nodes.section)]
        if not top:
            raise self.error("not a dataflow document: no title '<A> to <B> Dataflow' between '=' lines", 1)
        return top

    def _title(self, title_section: nodes.section) -> tuple[str, str, str]:
        """``(title, source system, target system)`` from ``<A> to <B> Dataflow``."""
        title = raw_text(title_section[0])
        m = _TITLE.match(title)
        if not m:
            raise self.error(
                f"not a dataflow document: title {title!r} is not '<A> to <B> Dataflow'", title_line(title_section)
            )
        return title, m.group("a").strip(), m.group("b").strip()

    def _generated(self, title_section: nodes.section) -> str | None:
        """The ``Generated:`` timestamp under the title (a warning when there is none)."""
        for child in title_section.children[1:]:
            if isinstance(child, nodes.paragraph):
                gm = _GENERATED.match(child.astext().strip())
                if gm:
                    return self._timestamp(gm.group("ts").strip(), child.line)
        self.warn("no 'Generated:' timestamp", title_line(title_section))
        return None

    def _pairs(self, sections: list[nodes.section], source_system: str, target_system: str) -> tuple[Pair, ...]:
        """One pair per distinct heading, in document order; a repeated heading is merged."""
        known_labels = [source_system, target_system]
        builders: dict[str, _PairBuilder] = {}
        for section in sections:
            heading = raw_text(section[0])
            line = title_line(section)
            if heading.rstrip(".").strip().lower() == "introduction":
                continue
            builder = self._pair(section, heading, line, source_system, target_system, known_labels)
            if heading in builders:
                self.warn(f"heading {heading!r} appears again; its rules and properties are merged", line)
                self._merge(builders[heading], builder)
            else:
                builders[heading] = builder
        return tuple(b.build() for b in builders.values())

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
        src = split_heading(parts[0], source_system, known_labels)
        tgt = split_heading(parts[1], target_system, known_labels)
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
                pending = self._sentence(builder, raw_text(child), child.line) or pending
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
        datatype = datatype_of(raw)
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


def _pair_sections(top: list[nodes.section]) -> list[nodes.section]:
    """The sections read as pairs: those under the title, then any later top-level
    section with the sections under it."""
    sections = [c for c in top[0].children if isinstance(c, nodes.section)]
    for extra in top[1:]:
        sections.append(extra)
        sections.extend(c for c in extra.children if isinstance(c, nodes.section))
    return sections


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
    """Parse a document from a file, or the bundled flow ``path`` names (:mod:`~audit.flow.bundled`)."""
    path = resolve_flow(path)
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
