"""The simulator's data: one store of customers, suppliers and contact persons that
answers in either API generation.

Each record is kept in the generation its snapshot line was written in (detected with
:func:`audit.systems.poweroffice.sim.schema.generation_of`) and converted with the
simulator's own field table (:func:`~audit.systems.poweroffice.sim.schema.convert`, written
from the documents, not from the client's) when the other generation asks, so a v1
snapshot served over v1 comes back byte for byte. A write through the other generation is
converted, applied, converted back and merged into the stored record,
so fields only the stored generation knows survive.

Writes stamp the record's last-changed field (and the mail address's, when the write
touched it) with the store's clock: UTC now, strictly increasing, and never earlier than
the newest stamp in the seed. With a state file the store is saved after every write
and loaded at start.

The derived ``address`` entity has no route of its own (the API has none); an
``address.jsonl`` in the seed snapshot is ignored.
"""

from __future__ import annotations

import copy
import logging
import os
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import jsonpatch

from audit.core import exact_json
from audit.core.dotted import get_path
from audit.errors import SnapshotError
from audit.systems.poweroffice.sim import schema
from audit.systems.poweroffice.sim.dto import as_v2_dto
from audit.systems.poweroffice.sim.seed import deep_merge, read_snapshot_file
from audit.systems.poweroffice.sim.stamps import read_stamp

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
        """The record in ``generation``'s shape (a copy); v2 as its DTO schemas say."""
        if generation == self.generation:
            out = copy.deepcopy(self.record)
        else:
            out = schema.convert(entity, self.record, generation)
        return as_v2_dto(out) if generation == "v2" else out

    def key(self, name: str) -> Any:
        """A field by its v2 name, whatever the stored generation."""
        if self.generation == "v2":
            return self.record.get(name)
        v1 = schema.v1_name("contactperson" if name == "ContactId" else "customer", name)
        return self.record.get(v1) if v1 else None


def parse_time(value: Any) -> datetime | None:
    """An aware datetime from an API timestamp (no offset means Norwegian local time), or ``None``."""
    return read_stamp(value) if isinstance(value, str) else None


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
                    for no, rec in enumerate(read_snapshot_file(path), start=1):
                        self._add(entity, schema.generation_of(rec), rec, f"{path} record {no}")
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
            state = exact_json.loads(self.state_file.read_text(encoding="utf-8"))
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
            tmp.write_text(exact_json.dumps(state, ensure_ascii=False), encoding="utf-8")
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
        rows, _ = self.page(entity, generation, since, inclusive, parents)
        return rows

    def page(
        self,
        entity: str,
        generation: str,
        since: datetime | None = None,
        inclusive: bool = False,
        parents: set[int] | None = None,
        start: int = 0,
        end: int | None = None,
    ) -> tuple[list[Record], int]:
        """``[start:end]`` of :meth:`list` (only those converted), and the size of the
        whole filtered list."""
        with self.lock:
            chosen = []
            for _, item in sorted(self.items[entity].items()):
                if parents is not None and item.key("ContactId") not in parents:
                    continue
                if since is not None:
                    at = parse_time(item.key("LastChangedDateTimeOffset"))
                    if at is None or at < since or (at == since and not inclusive):
                        continue
                chosen.append(item)
            return [item.as_gen(entity, generation) for item in chosen[start:end]], len(chosen)

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
            prepared, heads = self._prepare_patch(entity, current, ops)
            try:
                patched = jsonpatch.apply_patch(current, prepared)
            except jsonpatch.JsonPatchTestFailed as exc:
                # A failed ``test`` leaves the record alone (RFC 6902 section 5); the PATCH
                # answers of the v2 OpenAPI document list 400 for a refused patch.
                raise StoreError(400, f"test operation failed: {exc}") from None
            except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException) as exc:
                raise StoreError(400, f"the patch does not apply: {exc}") from None
            self._check_number(entity, rid, patched.get("Number"), "Number")
            self._stamp_v2(entity, patched, heads)
            self._store_from(entity, rid, item, "v2", patched)
            return self.items[entity][rid].as_gen(entity, "v2")

    def _prepare_patch(self, entity: str, current: Record, ops: list[dict[str, Any]]) -> tuple[list[Any], set[str]]:
        """The operations made lenient (:meth:`_lenient`), and the top-level members the
        changing ones touch; read-only paths are refused."""
        prepared, heads = [], set()
        for op in ops:
            path = op.get("path")
            if not isinstance(path, str) or not path.startswith("/"):
                raise StoreError(400, f"operation {op!r} has no JSON Pointer path")
            try:
                parts = jsonpatch.JsonPointer(path).parts
            except jsonpatch.JsonPointerException as exc:
                raise StoreError(400, f"{path}: not a JSON Pointer ({exc})") from None
            members = schema.dto_path(entity, parts)
            if members is None:
                raise StoreError(400, f"{path}: {schema.DTOS[entity]} has no such member")
            op = {**op, "path": str(jsonpatch.JsonPointer.from_parts(members))}
            dotted = ".".join(members)
            if op.get("op") != "test" and schema.is_read_only(entity, dotted):
                raise StoreError(400, f"{path} is read-only")
            if op.get("op") != "test":
                heads.add(dotted.split(".")[0])
            lenient = self._lenient(current, op)
            if lenient is not None:
                prepared.append(lenient)
        return prepared, heads

    def _stamp_v2(self, entity: str, patched: Record, heads: set[str]) -> None:
        """Stamp a v2 write: the record's ``LastChangedDateTimeOffset``, unless only its
        mail address changed, and the mail address's own stamp when it changed. The
        parent's stamp "does not change when sub-entities change" (PowerOffice Go API
        notes, ``poweroffice-go-api.md``: an address-only edit leaves it alone)."""
        stamp = self.stamp()
        party = entity != "contactperson"
        if not (party and heads == {"MailAddress"}):
            patched["LastChangedDateTimeOffset"] = stamp
        if party and "MailAddress" in heads and isinstance(patched.get("MailAddress"), dict):
            patched["MailAddress"]["LastChangedDateTimeOffset"] = stamp

    @staticmethod
    def _lenient(doc: Record, op: dict[str, Any]) -> dict[str, Any] | None:
        """The API's DTOs hold every field (null when empty); snapshots may omit nulls.
        So ``replace`` of an absent member becomes ``add``, and a missing or null parent
        object (``/MailAddress`` for ``/MailAddress/City``) is created; a ``test`` that
        a member is ``null`` passes when the member is absent (``None``: dropped)."""
        if op.get("op") == "test":
            found, _ = get_path(doc, ".".join(jsonpatch.JsonPointer(op["path"]).parts))
            return None if not found and op.get("value") is None else op
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

    def replace_v1(self, entity: str, body: Any, parent: int | None = None) -> Record:
        """v1 whole-object update (``id`` set) or create (no ``id``); returns the v1
        record. A contact person is written under its party ``parent``
        (``POST /Customer/{parentId}/Contact/``: "Creates or updates")."""
        if not isinstance(body, dict):
            raise StoreError(400, "the body must be a JSON object")
        with self.lock:
            rid, item = self._v1_target(entity, body.get("id"), parent)
            new = copy.deepcopy(body)
            new["id"] = rid
            if entity == "contactperson":
                new["partyId"] = parent
            else:
                self._check_number(entity, rid, new.get("code"), "code")
            stamp = self.stamp()
            new["lastChanged"] = stamp
            if item is not None and entity != "contactperson":
                old = item.as_gen(entity, "v1")
                if isinstance(new.get("mailAddress"), dict) and new["mailAddress"] != old.get("mailAddress"):
                    new["mailAddress"]["lastChanged"] = stamp
            self._store_from(entity, rid, item, "v1", new)
            return self.items[entity][rid].as_gen(entity, "v1")

    def _v1_target(self, entity: str, rid: Any, parent: int | None) -> tuple[int, Item | None]:
        """The id a v1 write goes to and the stored item (``None``: a create)."""
        if entity == "contactperson" and (parent is None or not self.is_party(parent)):
            raise StoreError(404, f"party {parent} not found")
        if rid in (None, 0):
            kinds = ["contactperson"] if entity == "contactperson" else ["customer", "supplier"]
            return max((rid for kind in kinds for rid in self.items[kind]), default=0) + 1, None
        if not isinstance(rid, int) or isinstance(rid, bool):
            raise StoreError(400, f"id {rid!r} is not an integer")
        item = self.items[entity].get(rid)
        if item is None or (entity == "contactperson" and item.key("ContactId") != parent):
            raise StoreError(404, f"{entity} {rid} not found")
        return rid, item

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
            item.record = deep_merge(item.record, schema.convert(entity, record, item.generation))
        self.writes += 1
        self.save()
