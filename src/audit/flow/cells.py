"""The texts of a dataflow document's cells and headings: paths with their conditions,
data types, and the ``<label> <Entity>`` sides of a pair heading."""

from __future__ import annotations

import re
from collections.abc import Iterable

from audit.flow.model import KNOWN_DATATYPES, Condition

_CONDITION_BLOCK = re.compile(r"\s*\((Dependant on having .*)\)\s*$", re.DOTALL)
_CONDITION = re.compile(r"Dependant on having (.*?) in (.*?)(?=Dependant on having |$)", re.DOTALL)


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


def datatype_of(raw: str) -> str | None:
    """The data type a property row's third cell names (quoted or not), or ``None`` when
    it is not one of :data:`audit.flow.model.KNOWN_DATATYPES`."""
    inner = raw.strip()
    if len(inner) >= 2 and inner[0] == inner[-1] == '"':
        inner = inner[1:-1]
    return inner if inner in KNOWN_DATATYPES else None


def split_heading(side: str, label: str, known_labels: Iterable[str]) -> tuple[str, str, bool]:
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
