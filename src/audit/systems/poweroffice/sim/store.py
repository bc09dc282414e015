"""The simulator's data: one store of customers, suppliers and contact persons that
answers in either API generation.

Each record is kept in the generation its snapshot line was written in (detected with
:func:`audit.systems.poweroffice.fields.generation_of`) and converted with
:func:`~audit.systems.poweroffice.fields.to_v1` / :func:`~audit.systems.poweroffice.fields.to_v2`
when the other generation asks, so a v1 snapshot served over v1 comes back byte for byte.
A write through the other generation is converted, applied, converted back and merged
into the stored record, so fields only the stored generation knows survive.

Writes stamp the record's last-changed field (and the mail address's, when the write
touched it) with the store's clock: UTC now, strictly increasing, and never earlier than
the newest stamp in the seed. With a state file the store is saved after every write
and loaded at start.

The derived ``address`` entity has no route of its own (the API has none); an
``address.jsonl`` in the seed snapshot is ignored.
"""

from __future__ import annotations

import copy
import json
import logging
import os
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import jsonpatch

from audit.errors import SnapshotError
from audit.systems.poweroffice import fields as poweroffice
from audit.systems.poweroffice.stamps import parse_timestamp

log = logging.getLogger("audit.systems.poweroffice.sim.server")

Record = dict[str, Any]

SERVED_ENTITIES = ("customer", "supplier", "contactperson")
ID_KEY = {"v2": "Id", "v1": "id"}
STAMP_KEY = {"v2": "LastChangedDateTimeOffset", "v1": "lastChanged"}
MAIL_KEY = {"v2": "MailAddress", "v1": "mailAddress"}
PARENT_KEY = {"v2": "ContactId", "v1": "partyId"}
NUMBER_KEY = {"v2": "Number", "v1": "code"}
STATE_VERSION = 1


class StoreError(Exception):
    """A write the API would refuse; ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str):
        self.status = status
        super().__init__(message)


@dataclass
class Item:
    """One stored record and the generation it is kept in."""

    generation: str
    record: Record

    def as_gen(self, entity: str, generation: str) -> Record:
        if generation == self.generation:
            return copy.deepcopy(self.record)
        convert = poweroffice.to_v2 if generation == "v2" else poweroffice.to_v1
        return convert(entity, self.record)

    def key(self, name: str) -> Any:
        """A field by its v2 name, whatever the stored generation."""
        if self.generation == "v2":
            return self.record.get(name)
        pair = poweroffice.alias("contactperson" if name == "ContactId" else "customer", name)
        return self.record.get(pair[0]) if pair and pair[0] else None


def parse_time(value: Any) -> datetime | None:
    """An aware datetime from an API timestamp (no offset means Norwegian local time), or ``None``."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return parse_timestamp(value)
    except ValueError:
        return None


def _deep_merge(base: Record, update: Record) -> Record:
    out = copy.deepcopy(base)
    for k, v in update.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _deep_merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def _read_snapshot_file(path: Path) -> list[Record]:
    if path.suffix == ".jsonl":
        records = []
        with open(path, encoding="utf-8") as f:
            for no, line in enumerate(f, start=1):
                if not line.strip():
                    continue
                try:
                    rec = json.loads(line)
                except ValueError as exc:
                    raise SnapshotError(f"{path}:{no}: not JSON ({exc})") from None
                if not isinstance(rec, dict):
                    raise SnapshotError(f"{path}:{no}: a JSON {type(rec).__name__}, not an object")
                records.append(rec)
        return records
    if path.suffix == ".json":
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise SnapshotError(f"{path}: not JSON ({exc})") from None
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise SnapshotError(f"{path}: expected one JSON array of objects")
        return data
    import polars as pl

    rows = pl.read_parquet(path).to_dicts()
    out = []
    for row in rows:
        rec: Record = {}
        for col, value in row.items():
            node = rec
            parts = col.split(".")
            for part in parts[:-1]:
                node = node.setdefault(part, {})
            node[parts[-1]] = value
        out.append(rec)
    return out


class Store:
    """Thread-safe records of one simulated tenant."""

    def __init__(self, state_file: str | Path | None = None):
        self.items: dict[str, dict[int, Item]] = {e: {} for e in SERVED_ENTITIES}
        self.state_file = Path(state_file) if state_file else None
        self.lock = threading.RLock()
        self._last = datetime(2000, 1, 1, tzinfo=timezone.utc)
        self.writes = 0

    # -- loading and saving ------------------------------------------------------------

    @classmethod
    def open(cls, snapshot_dir: str | Path | None, state_file: str | Path | None = None) -> Store:
        """The state file's store when it exists, else one seeded from ``snapshot_dir``."""
        store = cls(state_file)
        if store.state_file and store.state_file.is_file():
            store._load_state()
        elif snapshot_dir is not None:
            store.seed(snapshot_dir)
            if store.state_file:
                store.save()
        return store

    def seed(self, snapshot_dir: str | Path) -> None:
        """Load ``customer``, ``supplier`` and ``contactperson`` from a snapshot directory
        (``.jsonl``, ``.json`` or ``.parquet``; files that are missing stay empty)."""
        root = Path(snapshot_dir)
        if not root.is_dir():
            raise SnapshotError(f"{root}: not a snapshot directory")
        for entity in SERVED_ENTITIES:
            for suffix in (".jsonl", ".json", ".parquet"):
                path = root / f"{entity}{suffix}"
                if path.is_file():
                    for no, rec in enumerate(_read_snapshot_file(path), start=1):
                        self._add(entity, poweroffice.generation_of(rec), rec, f"{path} record {no}")
                    break

    def _add(self, entity: str, generation: str, record: Record, where: str) -> None:
        rid = record.get(ID_KEY[generation])
        if not isinstance(rid, int) or isinstance(rid, bool):
            raise SnapshotError(f"{where}: no integer {ID_KEY[generation]!r}")
        self.items[entity][rid] = Item(generation, record)
        mail = record.get(MAIL_KEY[generation])
        stamps = [record.get(STAMP_KEY[generation])]
        if isinstance(mail, dict):
            stamps.append(mail.get(STAMP_KEY[generation]))
        for stamp in stamps:
            at = parse_time(stamp)
            if at and at > self._last:
                self._last = at

    def _load_state(self) -> None:
        assert self.state_file is not None
        try:
            state = json.loads(self.state_file.read_text(encoding="utf-8"))
            if state.get("version") != STATE_VERSION:
                raise ValueError(f"state version {state.get('version')!r}, expected {STATE_VERSION}")
            for entity in SERVED_ENTITIES:
                for n, row in enumerate(state["entities"].get(entity, []), start=1):
                    self._add(entity, row["generation"], row["record"], f"{self.state_file} {entity} {n}")
        except (ValueError, KeyError, TypeError) as exc:
            raise SnapshotError(f"{self.state_file}: not a simulator state file ({exc})") from None
        last = parse_time(state.get("clock"))
        if last and last > self._last:
            self._last = last
        log.info("simulator state loaded from %s", self.state_file)

    def save(self) -> None:
        """Write the state file atomically (no-op without one)."""
        if not self.state_file:
            return
        with self.lock:
            state = {
                "version": STATE_VERSION,
                "clock": self._last.isoformat(),
                "entities": {
                    e: [
                        {"generation": it.generation, "record": it.record}
                        for _, it in sorted(self.items[e].items())
                    ]
                    for e in SERVED_ENTITIES
                },
            }
            tmp = self.state_file.with_name(self.state_file.name + ".tmp")
            tmp.write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")
            os.replace(tmp, self.state_file)

    # -- reading -----------------------------------------------------------------------

    def list(
        self,
        entity: str,
        generation: str,
        since: datetime | None = None,
        inclusive: bool = False,
        parents: set[int] | None = None,
    ) -> list[Record]:
        """Records ordered by id, in ``generation`` shape, filtered by last-changed
        (``> since``, or ``>= since`` when ``inclusive``) and by parent id."""
        with self.lock:
            rows = sorted(self.items[entity].items())
            out = []
            for _, item in rows:
                if parents is not None and item.key("ContactId") not in parents:
                    continue
                if since is not None:
                    at = parse_time(item.key("LastChangedDateTimeOffset"))
                    if at is None or at < since or (at == since and not inclusive):
                        continue
                out.append(item.as_gen(entity, generation))
            return out

    def get(self, entity: str, generation: str, rid: int, parent: int | None = None) -> Record | None:
        with self.lock:
            item = self.items[entity].get(rid)
            if item is None or (parent is not None and item.key("ContactId") != parent):
                return None
            return item.as_gen(entity, generation)

    def is_party(self, rid: int) -> bool:
        with self.lock:
            return rid in self.items["customer"] or rid in self.items["supplier"]

    # -- writing -----------------------------------------------------------------------

    def stamp(self) -> str:
        """UTC now, strictly later than every stamp handed out or seeded before."""
        now = datetime.now(timezone.utc)
        if now <= self._last:
            now = self._last + timedelta(microseconds=1)
        self._last = now
        return now.isoformat(timespec="microseconds")

    def patch_v2(self, entity: str, rid: int, ops: Any, parent: int | None = None) -> Record:
        """Apply an RFC 6902 patch through v2 names; returns the updated v2 record."""
        if not isinstance(ops, list) or not all(isinstance(op, dict) for op in ops):
            raise StoreError(400, "the body must be a JSON Patch array of operations")
        with self.lock:
            item = self.items[entity].get(rid)
            if item is None or (parent is not None and item.key("ContactId") != parent):
                raise StoreError(404, f"{entity} {rid} not found")
            current = item.as_gen(entity, "v2")
            touched_mail = False
            prepared = []
            for op in ops:
                path = op.get("path")
                if not isinstance(path, str) or not path.startswith("/"):
                    raise StoreError(400, f"operation {op!r} has no JSON Pointer path")
                dotted = ".".join(jsonpatch.JsonPointer(path).parts)
                if poweroffice.is_read_only(dotted):
                    raise StoreError(400, f"{path} is read-only")
                touched_mail |= dotted.split(".")[0] == "MailAddress"
                prepared.append(self._lenient(current, op))
            try:
                patched = jsonpatch.apply_patch(current, prepared)
            except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException) as exc:
                raise StoreError(400, f"the patch does not apply: {exc}") from None
            self._check_number(entity, rid, patched.get("Number"), "Number")
            stamp = self.stamp()
            patched["LastChangedDateTimeOffset"] = stamp
            if touched_mail and isinstance(patched.get("MailAddress"), dict) and entity != "contactperson":
                patched["MailAddress"]["LastChangedDateTimeOffset"] = stamp
            self._store_from(entity, rid, item, "v2", patched)
            return self.items[entity][rid].as_gen(entity, "v2")

    @staticmethod
    def _lenient(doc: Record, op: dict[str, Any]) -> dict[str, Any]:
        """The API's DTOs hold every field (null when empty); snapshots may omit nulls.
        So ``replace`` of an absent member becomes ``add``, and a missing or null parent
        object (``/MailAddress`` for ``/MailAddress/City``) is created."""
        if op.get("op") not in ("replace", "add"):
            return op
        parts = jsonpatch.JsonPointer(op["path"]).parts
        node: Any = doc
        for part in parts[:-1]:
            if isinstance(node, dict):
                if not isinstance(node.get(part), (dict, list)):
                    node[part] = {}
                node = node[part]
            else:
                return op
        if isinstance(node, dict) and parts and parts[-1] not in node:
            return {**op, "op": "add"}
        return op

    def replace_v1(self, entity: str, body: Any) -> Record:
        """v1 full-object update (``id`` set) or create (no ``id``); returns the v1 record."""
        if not isinstance(body, dict):
            raise StoreError(400, "the body must be a JSON object")
        with self.lock:
            rid = body.get("id")
            if rid in (None, 0):
                rid = max((*self.items["customer"], *self.items["supplier"], 0)) + 1
                item = None
            elif not isinstance(rid, int) or isinstance(rid, bool):
                raise StoreError(400, f"id {rid!r} is not an integer")
            else:
                item = self.items[entity].get(rid)
                if item is None:
                    raise StoreError(404, f"{entity} {rid} not found")
            new = copy.deepcopy(body)
            new["id"] = rid
            self._check_number(entity, rid, new.get("code"), "code")
            stamp = self.stamp()
            new["lastChanged"] = stamp
            if item is not None:
                old = item.as_gen(entity, "v1")
                if isinstance(new.get("mailAddress"), dict) and new["mailAddress"] != old.get("mailAddress"):
                    new["mailAddress"]["lastChanged"] = stamp
            self._store_from(entity, rid, item, "v1", new)
            return self.items[entity][rid].as_gen(entity, "v1")

    def _check_number(self, entity: str, rid: int, number: Any, name: str) -> None:
        if number in (None, ""):
            return
        for other_id, other in self.items[entity].items():
            if other_id != rid and other.key("Number") == number:
                raise StoreError(409, f"{name} {number!r} is already used by {entity} {other_id}")

    def _store_from(self, entity: str, rid: int, item: Item | None, generation: str, record: Record) -> None:
        if item is None:
            self.items[entity][rid] = Item(generation, record)
        elif item.generation == generation:
            item.record = record
        else:
            convert = poweroffice.to_v1 if item.generation == "v1" else poweroffice.to_v2
            item.record = _deep_merge(item.record, convert(entity, record))
        self.writes += 1
        self.save()
