"""The inputs of ``audit writeback plan``: the audit's own flow and snapshots.

A plan must be built from the snapshots the audit read: on other snapshots its findings
name records that are not there (or hold other values) and the plan silently skips them.
:func:`audit_inputs` takes ``--flow``, ``--source`` and ``--target`` from the audit's
``summary.json`` when they are not given; :func:`check_snapshot` refuses a snapshot that is
not the one the audit read (another directory, or other record counts).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from audit.errors import ConfigError, SnapshotError
from audit.flow.bundled import resolve_flow

__all__ = ["audit_inputs", "check_snapshot"]


def _recorded(summary: dict[str, Any], name: str) -> str | None:
    value = (summary.get("flow") or {}).get("file") if name == "flow" else summary.get(name)
    return str(value) if value else None


def audit_inputs(audit_dir: Path, summary: dict[str, Any], given: dict[str, Path | None]) -> dict[str, Path]:
    """``flow``, ``source`` and ``target``: as given, else as the audit's summary names them.

    Raises
    ------
    ConfigError
        One is neither given nor named by the summary, or the summary names a path that
        is not there from here (exit 2).
    """
    out: dict[str, Path] = {}
    for name, value in given.items():
        if value is not None:
            out[name] = value
            continue
        recorded = _recorded(summary, name)
        if recorded is None:
            where = audit_dir / "summary.json"
            said = "names no" if where.is_file() else "does not exist, so it names no"
            raise ConfigError(f"{where}: {said} {name}; give --{name}")
        path = resolve_flow(recorded) if name == "flow" else Path(recorded)
        if not path.exists():
            raise ConfigError(f"the audit read {name} {recorded}, which is not there from here; give --{name}")
        out[name] = path
    return out


def check_snapshot(summary: dict[str, Any], side: str, path: Path, snapshot: Any) -> None:
    """Refuse ``path`` (read as ``snapshot``) unless it is the ``side`` snapshot the audit read.

    It must be the directory the summary names (when that is there from here) and hold
    as many records of each entity as the audit counted.
    """
    recorded = _recorded(summary, side)
    if recorded and Path(recorded).exists() and Path(recorded).resolve() != path.resolve():
        raise ConfigError(f"--{side} {path}: the audit read {recorded}; a plan needs the snapshots the audit read")
    for pair in summary.get("pairs", []):
        entity, counted = pair.get(f"{side}_entity"), pair.get(f"{side}_records")
        if entity is None or counted is None:
            continue
        try:
            held = snapshot.entity(entity).frame.height
        except SnapshotError:  # an entity the plan did not read
            continue
        if held != counted:
            raise ConfigError(
                f"--{side} {path}: holds {held} {entity} records, the audit read {counted}; "
                "a plan needs the snapshots the audit read"
            )
