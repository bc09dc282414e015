"""An incremental fetch that stays whole: what is read in full and what as changes, and
the base snapshot the changes are applied onto.

Reading rules (``plan_reads``):

- ``address`` cannot be read as changes: the list routes filter on the customer's or
  supplier's own last-changed stamp, which an address-only edit leaves alone (v2: the
  parent's ``LastChangedDateTimeOffset`` "does not change when sub-entities change"; the
  v2 OpenAPI document has no filter on the address's stamp). So when addresses are wanted,
  customers and suppliers are read in full, and their addresses with them.
- everything else is read as changes (``lastChangedDateTimeOffsetGreaterThan`` /
  ``(LastChanged gt DateTimeOffset'...')``) and upserted by id onto the base snapshot.
  A record deleted in the API stays in the merged snapshot (the lists do not report
  deletions); an entity read in full drops it.

Without a base snapshot the result holds only the changes: its manifest says
``"complete": false`` and ``audit run`` refuses it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from audit.core import exact_json
from audit.errors import ConfigError
from audit.systems.poweroffice.snapshot_writer import MANIFEST

WHY_ADDRESS_FULL = (
    "an address-only edit leaves its customer's or supplier's last-changed stamp alone, and the "
    "lists filter on that stamp only: customers, suppliers and their addresses are read in full"
)
WHY_CHANGES = "records changed after `since`, upserted by id onto the base snapshot (deletions are not seen)"
WHY_NO_BASE = "records changed after `since` only, with no base snapshot: a partial snapshot"


def plan_reads(wanted: list[str], since: str | None, has_base: bool) -> dict[str, dict[str, str]]:
    """``{entity: {"mode": "full" | "changes", "why": ...}}`` for one fetch."""
    if since is None:
        return {e: {"mode": "full", "why": "no --since"} for e in wanted}
    full = {"customer", "supplier", "address"} if "address" in wanted else set()
    why_changes = WHY_CHANGES if has_base else WHY_NO_BASE
    return {
        e: {"mode": "full", "why": WHY_ADDRESS_FULL} if e in full else {"mode": "changes", "why": why_changes}
        for e in wanted
    }


def find_base(out_dir: Path, base: str | Path | None, api: str) -> Path | None:
    """The base snapshot of an incremental fetch: ``base`` when given, else ``out_dir``
    when it already holds a complete snapshot of the same generation, else ``None``.

    Raises
    ------
    ConfigError
        ``base`` is not a complete snapshot of ``api``.
    """
    candidate = Path(base) if base is not None else out_dir
    manifest = read_manifest(candidate)
    if manifest is None:
        if base is not None:
            raise ConfigError(f"--base {candidate}: no {MANIFEST}; not a snapshot written by audit fetch")
        return None
    if manifest.get("api") != api or manifest.get("complete") is False:
        if base is not None:
            raise ConfigError(f"--base {candidate}: not a complete {api} snapshot")
        return None
    return candidate


def read_manifest(directory: Path) -> dict[str, Any] | None:
    path = directory / MANIFEST
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def base_records(base: Path, entity: str) -> Iterator[dict[str, Any]]:
    """The records of ``entity`` in the base snapshot (none when it has no such file)."""
    path = base / f"{entity}.jsonl"
    if not path.is_file():
        return
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield exact_json.loads(line)  # a base decimal is rewritten with its digits
