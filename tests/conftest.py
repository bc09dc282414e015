"""Shared helpers: small inline record tables, written the datacompy way.

``records('''id | name | mailAddress.city
             1  | "Kari" | Oslo''')`` gives ``[{"id": 1, "name": "Kari",
"mailAddress": {"city": "Oslo"}}]``. A cell is JSON when it parses as JSON (``1``,
``"0150"``, ``null``, ``true``), else the bare text; an empty cell leaves the key out;
dotted headers nest.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from audit.core.dotted import nest
from audit.flow.model import Flow, Link, MergeRule, Pair, PropertyMap

# The PowerOffice Go connector/simulator fixtures (po_clean_env, po_seed, po_sim, ...) and
# the write-back demo fixtures (po_flow, v2_demo, v1_demo, mixed_demo).
pytest_plugins = ["poweroffice_fixtures", "writeback_tenants"]


def _cell(text: str) -> tuple[bool, Any]:
    text = text.strip()
    if text == "":
        return False, None
    try:
        return True, json.loads(text)
    except json.JSONDecodeError:
        return True, text


def records(table: str) -> list[dict[str, Any]]:
    lines = [ln for ln in table.strip().splitlines() if ln.strip()]
    header = [h.strip() for h in lines[0].split("|")]
    out = []
    for line in lines[1:]:
        cells = [(name, _cell(raw)) for name, raw in zip(header, line.split("|"), strict=True)]
        out.append(nest((name, value) for name, (present, value) in cells if present))
    return out


def prop(source: str, target: str, datatype: str | None = "string", conditions=()) -> PropertyMap:
    return PropertyMap(source, target, datatype, f'"{datatype}"' if datatype else "N/A", tuple(conditions))


def pair(source: str, target: str, props=(), rules=(), every: bool = True) -> Pair:
    return Pair(
        heading=f"A {source} to B {target}",
        source_entity=source,
        target_entity=target,
        link=Link(every=every and not rules),
        merge_rules=tuple(MergeRule(s, t) for s, t in rules),
        properties=tuple(props),
    )


def flow(*pairs: Pair, source_system: str = "Powerofficego", target_system: str = "PowerOfficeGo") -> Flow:
    """A flow of PowerOffice Go records (the systems select the profile that knows their fields)."""
    return Flow(
        title=f"{source_system} to {target_system} Dataflow",
        source_system=source_system,
        target_system=target_system,
        generated=None,
        pairs=tuple(pairs),
    )


@pytest.fixture(autouse=True)
def _no_gx_analytics(monkeypatch):
    monkeypatch.setenv("GX_ANALYTICS_ENABLED", "False")

