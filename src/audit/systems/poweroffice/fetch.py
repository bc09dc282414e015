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

import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import requests

from audit import __version__
from audit.errors import ConfigError
from audit.systems.http import redaction
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
from audit.systems.poweroffice.incremental import base_records, find_base, plan_reads
from audit.systems.poweroffice.settings import Api, ConnectionSettings, Endpoint
from audit.systems.poweroffice.snapshot_writer import MANIFEST, SnapshotWriter
from audit.systems.poweroffice.transport import ApiClient

log = logging.getLogger("audit.systems.poweroffice.fetch")

SNAPSHOT_FORMAT = "audit-snapshot/1"


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
    base: str | Path | None = None,
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
        ISO-8601 timestamp: read only records changed after it (strictly after), and
        apply them onto the base snapshot (:mod:`audit.systems.poweroffice.incremental`).
    base
        The snapshot the changes are applied onto (default: ``out_dir`` when it holds a
        complete snapshot of ``api``); without one the snapshot is partial.
    tenant, settings, session
        A label for the manifest; connection settings (default: the environment /
        ``.env``); an HTTP session to use (tests and the write-back inject theirs).
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
    endpoint = (settings or ConnectionSettings.from_env()).endpoint(api)
    base_dir = find_base(Path(out_dir), base, api) if since_q else None
    writer = SnapshotWriter(out_dir)
    fetched_at = datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
    with writer, ApiClient(endpoint, session=session) as client:
        job = _Fetch(PowerOfficeConnector(client, progress=progress), writer, api, wanted, since_q)
        job.base = base_dir
        job.reads = plan_reads(wanted, since_q, base_dir is not None)
        job.run()
        manifest = job.manifest(client, endpoint, fetched_at, tenant)
        writer.commit(manifest)
    return FetchResult(out_dir=Path(out_dir), manifest=manifest, warnings=list(job.conn.warnings))


class _Fetch:
    """One fetch in progress: reads the wanted entities through ``conn`` into ``writer``
    and keeps each entity's watermark."""

    def __init__(
        self,
        conn: PowerOfficeConnector,
        writer: SnapshotWriter,
        api: Api,
        wanted: list[str],
        since: str | None,
    ):
        self.conn, self.writer, self.api = conn, writer, api
        self.wanted, self.since = wanted, since
        self.id_key = ID_KEY[api]
        self.marks = {e: Watermark(since) for e in wanted}
        self.base: Path | None = None
        self.reads = plan_reads(wanted, since, False)

    def _since(self, entity: str) -> str | None:
        return self.since if self.reads[entity]["mode"] == "changes" else None

    def run(self) -> None:
        for entity in self.wanted:
            self.writer.open_entity(entity)
        self._read_parties()
        if "contactperson" in self.wanted:
            self._read_contact_persons()
        if self.base is not None:
            self._upsert_base()

    def _upsert_base(self) -> None:
        """The base snapshot's records of each entity read as changes, where no change
        replaced them (the writer keeps the first copy of an id: the change)."""
        for entity in [e for e in self.wanted if self.reads[e]["mode"] == "changes"]:
            for record in base_records(self.base, entity):
                self.writer.write_if_new(entity, record.get(self.id_key), record)
                self.marks[entity].offer(last_changed(self.api, record))

    def _put(self, entity: str, key: Any, record: dict[str, Any]) -> None:
        problem = self.writer.write(entity, key, record)
        if problem:
            self.conn.warn(problem)
        self.marks[entity].offer(last_changed(self.api, record))

    def _read_parties(self) -> None:
        """Customers and suppliers (also when only their addresses are wanted)."""
        wanted, id_key = self.wanted, self.id_key
        for party in [p for p in PARTY_ENTITIES if p in wanted or "address" in wanted]:
            for record in self.conn.records(party, self._since(party if party in wanted else "address")):
                if party in wanted:
                    self._put(party, record[id_key], record)
                if "address" in wanted:
                    address = self.conn.mail_address(party, record)
                    if address is not None:
                        self._put("address", address[id_key], address)

    def _read_contact_persons(self) -> None:
        """Every contact person of the tenant, from the one list route (not per parent:
        a contact person whose parent was not read would be missed)."""
        for record in self.conn.contact_persons(self._since("contactperson")):
            self._put("contactperson", record[self.id_key], record)

    def manifest(self, client: ApiClient, endpoint: Endpoint, fetched_at: str, tenant: str | None) -> dict[str, Any]:
        """The snapshot's ``manifest.json``."""
        wanted, since = self.wanted, self.since
        overall = Watermark(since)
        for mark in self.marks.values():
            overall.offer(mark.text)
        return {
            "format": SNAPSHOT_FORMAT,
            "fetched_at": fetched_at,
            "api": self.api,
            "tenant": tenant,
            "base_url": redaction.public_url(endpoint.base_url),
            "since": since,
            "incremental": since is not None,
            "complete": all(r["mode"] == "full" for r in self.reads.values()) or self.base is not None,
            "base": str(self.base) if self.base is not None else None,
            "read": self.reads,
            "entities": wanted,
            "files": {e: f"{e}.jsonl" for e in wanted},
            "counts": {e: self.writer.counts.get(e, 0) for e in wanted},
            "watermark": overall.text,
            "watermarks": {e: self.marks[e].text for e in wanted},
            "requests": client.requests_sent,
            "retries": client.retries,
            "rate_limited": client.rate_limited,
            "warnings": list(self.conn.warnings),
            "toolkit_version": __version__,
        }


__all__ = ["MANIFEST", "SNAPSHOT_FORMAT", "FetchResult", "SnapshotWriter", "fetch_snapshot"]
