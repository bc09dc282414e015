"""Refusing a snapshot that holds only part of a tenant.

``audit fetch --since`` without a base snapshot writes only the records changed since a
time, and says so in its ``manifest.json`` (``"complete": false``). Audited as a whole,
such a snapshot would report every unchanged record as missing, so it is refused.
"""

from __future__ import annotations

import json
from pathlib import Path

from audit.errors import SnapshotError

MANIFEST = "manifest.json"


def check_complete(directory: str | Path) -> None:
    """Raise :class:`SnapshotError` (exit 2) when the snapshot's manifest says it is
    partial; a snapshot without a manifest (or with an unreadable one) passes."""
    path = Path(directory) / MANIFEST
    if not path.is_file():
        return
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, OSError):
        return
    if isinstance(manifest, dict) and manifest.get("complete") is False:
        raise SnapshotError(
            f"{path}: a partial snapshot (only the records changed since {manifest.get('since')}); "
            "fetch it onto a base snapshot (audit fetch --since ... --base DIR) or in full"
        )
