"""``audit fetch``: one tenant's entities from the API into a snapshot directory.

The snapshot is built in a hidden temporary sibling of the target directory and renamed
into place only when every entity was read and written; a failure removes the temporary
directory and leaves an existing snapshot at the target untouched. Layout (the format of
``audit run``)::

    OUT/customer.jsonl       one record per line, exactly as the API returned it
    OUT/supplier.jsonl
    OUT/contactperson.jsonl
    OUT/address.jsonl        mail addresses of customers and suppliers, by address id
    OUT/manifest.json        fetched_at, api, tenant, base_url, counts, watermark, ...

``manifest.json["watermark"]`` is the greatest last-changed stamp seen (or ``since`` when
nothing changed); pass it as ``--since`` for the next incremental fetch.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import requests

from audit import __version__
from audit.errors import ConfigError
from audit.systems.poweroffice import redaction
from audit.systems.poweroffice.connector import (
    ENTITIES,
    ID_KEY,
    PARTY_ENTITIES,
    PowerOfficeConnector,
    Watermark,
    last_changed,
    normalise_entities,
    since_text,
)
from audit.systems.poweroffice.settings import Api, ConnectionSettings
from audit.systems.poweroffice.transport import ApiClient

log = logging.getLogger("audit.systems.poweroffice.fetch")

MANIFEST = "manifest.json"
SNAPSHOT_FORMAT = "audit-snapshot/1"


class SnapshotWriter:
    """Writes a snapshot into a temporary sibling directory and renames it into place.

    Use as a context manager: leaving the block with an exception removes the temporary
    directory; :meth:`commit` writes the manifest and swaps the directory in.
    """

    def __init__(self, out_dir: str | Path):
        self.out_dir = Path(out_dir)
        self._check_target()
        self.tmp_dir = self.out_dir.parent / f".{self.out_dir.name}.partial-{uuid.uuid4().hex[:8]}"
        self._files: dict[str, Any] = {}
        self._seen: dict[str, dict[Any, str]] = {}
        self.counts: dict[str, int] = {}
        self.committed = False

    def _check_target(self) -> None:
        out = self.out_dir
        if out.exists() and not out.is_dir():
            raise ConfigError(f"--out {out}: exists and is not a directory")
        if out.is_dir() and any(out.iterdir()) and not (out / MANIFEST).is_file():
            raise ConfigError(
                f"--out {out}: the directory holds files but no {MANIFEST}; refusing to replace "
                "something that is not a snapshot"
            )
        if not out.parent.is_dir():
            raise ConfigError(f"--out {out}: the parent directory {out.parent} does not exist")

    def __enter__(self) -> SnapshotWriter:
        self.tmp_dir.mkdir()
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self._close_files()
        if not self.committed:
            shutil.rmtree(self.tmp_dir, ignore_errors=True)

    def open_entity(self, entity: str) -> None:
        """Create the entity's file even when no record comes (an empty file is a fact)."""
        if entity not in self._files:
            self._files[entity] = open(self.tmp_dir / f"{entity}.jsonl", "w", encoding="utf-8", newline="\n")
            self._seen[entity] = {}
            self.counts[entity] = 0

    def write(self, entity: str, key: Any, record: dict[str, Any]) -> str | None:
        """Append one record; a repeated ``key`` is skipped. Returns a warning for a
        repeat whose content differs from the first copy, else ``None``."""
        self.open_entity(entity)
        line = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
        digest = hashlib.blake2b(line.encode("utf-8"), digest_size=16).hexdigest()
        seen = self._seen[entity]
        if key in seen:
            if seen[key] != digest:
                return f"{entity} {key}: returned twice with different content; the first copy is kept"
            return None
        seen[key] = digest
        self._files[entity].write(line + "\n")
        self.counts[entity] += 1
        return None

    def _close_files(self) -> None:
        for handle in self._files.values():
            if not handle.closed:
                handle.close()

    def commit(self, manifest: dict[str, Any]) -> None:
        """Write ``manifest.json`` and move the finished snapshot to ``out_dir``."""
        self._close_files()
        for handle in self._files.values():
            with open(handle.name, "rb+") as f:
                os.fsync(f.fileno())
        (self.tmp_dir / MANIFEST).write_text(
            json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        old = None
        if self.out_dir.exists():
            old = self.out_dir.parent / f".{self.out_dir.name}.old-{uuid.uuid4().hex[:8]}"
            os.replace(self.out_dir, old)
        try:
            os.replace(self.tmp_dir, self.out_dir)
        except OSError:
            if old is not None:
                os.replace(old, self.out_dir)
            raise
        self.committed = True
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


@dataclass
class FetchResult:
    """What a fetch wrote: the snapshot directory and its manifest."""

    out_dir: Path
    manifest: dict[str, Any]
    warnings: list[str] = field(default_factory=list)


def fetch_snapshot(
    out_dir: str | Path,
    api: Api,
    *,
    entities: list[str] | None = None,
    since: str | None = None,
    tenant: str | None = None,
    settings: ConnectionSettings | None = None,
    session: requests.Session | None = None,
    progress: bool = True,
) -> FetchResult:
    """Read ``entities`` (default: all four) of one tenant into the snapshot ``out_dir``.

    Parameters
    ----------
    out_dir
        Target snapshot directory; replaced atomically when the fetch succeeds.
    api
        ``"v1"`` or ``"v2"``.
    entities
        Entity names (``customer``, ``supplier``, ``contactperson``, ``address``).
    since
        ISO-8601 timestamp: read only records changed after it (v2: strictly after; v1:
        at or after). Contact persons are asked for every parent, since a contact person's
        change does not touch its parent's stamp.
    tenant
        A label written to the manifest.
    settings
        Connection settings; read from the environment / ``.env`` when omitted.
    session
        An HTTP session to use (tests and the write-back inject theirs).
    progress
        Show progress bars on a terminal.

    Raises
    ------
    ConfigError
        Bad entities, ``since``, settings or ``out_dir`` (exit 2).
    ApiError, AuthError, ApiUnreachable
        The API failed (exit 3); nothing is written.
    """
    wanted = normalise_entities(entities) if entities else list(ENTITIES)
    if not wanted:
        raise ConfigError("--entities names no entity")
    since_q = since_text(since) if since else None
    settings = settings or ConnectionSettings.from_env()
    endpoint = settings.endpoint(api)
    writer = SnapshotWriter(out_dir)
    fetched_at = datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
    marks = {e: Watermark(since_q) for e in wanted}
    id_key = ID_KEY[api]

    with writer, ApiClient(endpoint, session=session) as client:
        conn = PowerOfficeConnector(client, progress=progress)
        for entity in wanted:
            writer.open_entity(entity)

        def put(entity: str, key: Any, record: dict[str, Any]) -> None:
            problem = writer.write(entity, key, record)
            if problem:
                conn.warn(problem)
            marks[entity].offer(last_changed(api, record))

        read_parties = [p for p in PARTY_ENTITIES if p in wanted or "address" in wanted]
        ids_by_party: dict[str, list[int]] = {}
        for party in read_parties:
            ids = ids_by_party.setdefault(party, [])
            for record in conn.records(party, since_q):
                ids.append(record[id_key])
                if party in wanted:
                    put(party, record[id_key], record)
                if "address" in wanted:
                    address = conn.mail_address(party, record)
                    if address is not None:
                        put("address", address[id_key], address)

        if "contactperson" in wanted:
            parent_ids: list[int] = []
            for party in PARTY_ENTITIES:
                if since_q is None and party in ids_by_party:
                    parent_ids += ids_by_party[party]
                else:
                    # An incremental read still asks every parent: a contact person's
                    # change leaves its parent's stamp alone.
                    parent_ids += conn.party_ids(party)
            for record in conn.contact_persons(parent_ids, since_q):
                put("contactperson", record[id_key], record)

        overall = Watermark(since_q)
        for mark in marks.values():
            overall.offer(mark.text)
        manifest = {
            "format": SNAPSHOT_FORMAT,
            "fetched_at": fetched_at,
            "api": api,
            "tenant": tenant,
            "base_url": redaction.public_url(endpoint.base_url),
            "since": since_q,
            "incremental": since_q is not None,
            "entities": wanted,
            "files": {e: f"{e}.jsonl" for e in wanted},
            "counts": {e: writer.counts.get(e, 0) for e in wanted},
            "watermark": overall.text,
            "watermarks": {e: marks[e].text for e in wanted},
            "requests": client.requests_sent,
            "retries": client.retries,
            "rate_limited": client.rate_limited,
            "warnings": list(conn.warnings),
            "toolkit_version": __version__,
        }
        writer.commit(manifest)
    return FetchResult(out_dir=Path(out_dir), manifest=manifest, warnings=list(conn.warnings))
