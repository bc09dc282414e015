"""A tenant's stable label: what the run history identifies a run's tenants by.

Snapshot directories change from run to run (every fetch writes a new dated folder), so
the history cannot tell the tenants apart by path. A run's tenant is labelled by, in order:
the label given (a nightly job's ``source_label`` / ``target_label``, ``audit run
--source-label``), the ``tenant`` of the snapshot's ``manifest.json`` (written by ``audit
fetch --tenant`` and by the notebook's fetch), else the snapshot directory itself.
"""

from __future__ import annotations

import json
from pathlib import Path

#: The snapshot's own description, written next to its entity files by a fetch.
MANIFEST_FILE = "manifest.json"


def manifest_tenant(directory: str | Path | None) -> str | None:
    """The ``tenant`` of ``directory/manifest.json``; ``None`` when absent or unreadable.

    The manifest only names the tenant: a damaged one must not stop an audit that does
    not need it, so it reads as "no label" and the path is used.
    """
    if directory is None:
        return None
    try:
        manifest = json.loads((Path(directory) / MANIFEST_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    tenant = manifest.get("tenant") if isinstance(manifest, dict) else None
    return str(tenant).strip() or None if tenant else None


def tenant_label(given: str | None, directory: str | Path | None) -> str | None:
    """``given`` if not blank, else the snapshot manifest's tenant, else ``directory``."""
    if given and given.strip():
        return given.strip()
    return manifest_tenant(directory) or (str(directory) if directory is not None else None)
