"""The write-back plan as data: what is changed, where, from what to what, and why.

A plan is a JSON file a person reviews before anything is written::

    {
      "format": "audit-writeback-plan/1",
      "header": {"audit_dir", "flow", "created_at", "policy", "counts", ...},
      "hash": "<sha256 of the canonical JSON of changes>",
      "changes": [Change, ...],      # what apply writes, in this order
      "skipped": [Skipped, ...]      # mismatches the plan leaves alone, each with a reason
    }

The hash covers exactly the ``changes`` list (canonical JSON: sorted keys, no spaces,
UTF-8), so the header can carry notes without touching what the reviewer approved, and any
edit of a change changes the hash. :func:`load_plan` recomputes it from the file.

A :class:`RecordRef` names one record on one side (entity, id, API generation, parent
id for v2 contact persons); a :class:`Change` names the record it corrects, the field on
that record's generation, the value the audit saw there (``old_value``), the value it
gets (``new_value``), the record's last-changed stamps as the audit read them (the guard
of apply) and the rule that chose the direction.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from audit.core import exact_json
from audit.core.values import ValueSpec
from audit.errors import InputError
from audit.writeback.fields import is_date_field

__all__ = [
    "PLAN_FORMAT",
    "RecordRef",
    "Change",
    "Skipped",
    "Plan",
    "canonical_json",
    "changes_hash",
    "load_plan",
    "write_plan",
]

PLAN_FORMAT = "audit-writeback-plan/1"


def canonical_json(value: Any) -> str:
    """Sorted keys, no whitespace, UTF-8 text, decimals with their own digits: the form
    that is hashed."""
    return exact_json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def changes_hash(changes: list[dict[str, Any]]) -> str:
    """sha256 (hex) of the canonical JSON of a plan's ``changes`` list."""
    return hashlib.sha256(canonical_json(changes).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class RecordRef:
    """One record on one side of a pair.

    Attributes
    ----------
    side : str
        ``source`` or ``target``.
    tenant : str
        The tenant whose API holds it (``source`` or ``target``; both ``source`` when a
        tenant syncs with itself).
    entity : str
        Entity stem (``customer``, ``supplier``, ``contactperson``, ``address``).
    record_id : int
        The record's id.
    generation : str
        ``v1`` or ``v2``: the API generation the side is bound to.
    parent_id : int or None
        The customer/supplier of a contact person (v2 routes need it).
    """

    side: str
    tenant: str
    entity: str
    record_id: int
    generation: str
    parent_id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RecordRef:
        return cls(**data)

    @property
    def key(self) -> tuple[str, str, int]:
        """``(tenant, entity, id)``: one record of one tenant."""
        return (self.tenant, self.entity, self.record_id)


@dataclass(frozen=True)
class Change:
    """One field of one record to correct.

    Attributes
    ----------
    id : str
        ``tenant:entity:record id:field`` (unique within a plan; the journal's key).
    pair : str
        The pair heading of the finding.
    source_key, target_key : str
        The finding's keys.
    source_property, target_property : str
        The flow's paths of the property.
    corrected : RecordRef
        The record written.
    counterpart : RecordRef
        The linked record on the other side (read again by verification).
    field : str
        The API field path on the corrected record's generation (``MailAddress.City``).
    field_v1, field_v2 : str or None
        The field's name on each generation (``None`` where the generation lacks it).
    old_value, new_value
        The corrected record's value as the audit read it, and the value it gets.
    last_changed : str or None
        The corrected record's last-changed stamp as the audit read it.
    address_last_changed : str or None
        For a mail address field: the mail address's own stamp as the audit read it.
    winner : str
        ``source`` or ``target``: the side whose value is kept.
    rule : str
        Why that side won.
    spec : dict or None
        How the field's values are compared (:class:`audit.core.values.ValueSpec` as a
        dict, from the audit's summary); ``None`` in plans written before it was recorded
        (then the field is text, a date where the system knows it as one).
    """

    id: str
    pair: str
    source_key: str
    target_key: str
    source_property: str
    target_property: str
    corrected: RecordRef
    counterpart: RecordRef
    field: str
    field_v1: str | None
    field_v2: str | None
    old_value: Any
    new_value: Any
    last_changed: str | None
    address_last_changed: str | None
    winner: str
    rule: str
    spec: dict[str, Any] | None = None

    def value_spec(self) -> ValueSpec:
        """The value model's reading of this field."""
        if self.spec is not None:
            return ValueSpec.from_dict(self.spec)
        return ValueSpec("string", date=is_date_field(self.field_v2))

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["corrected"] = self.corrected.to_dict()
        data["counterpart"] = self.counterpart.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Change:
        values = dict(data)
        values["corrected"] = RecordRef.from_dict(values["corrected"])
        values["counterpart"] = RecordRef.from_dict(values["counterpart"])
        return cls(**values)

    def field_on(self, generation: str) -> str | None:
        """The field's path on ``generation``."""
        return self.field_v2 if generation == "v2" else self.field_v1


@dataclass(frozen=True)
class Skipped:
    """A mismatch the plan does not write, and why (``read-only``, ``undecided``, ...)."""

    pair: str
    source_key: str
    target_key: str
    source_property: str
    target_property: str
    source_value: Any
    target_value: Any
    skipped: str
    side: str | None = None
    rule: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Plan:
    """A write-back plan: header, changes and skipped mismatches."""

    header: dict[str, Any]
    changes: list[Change]
    skipped: list[Skipped] = field(default_factory=list)
    #: The hash of the ``changes`` exactly as a loaded file holds them.
    file_hash: str | None = None
    #: The hash the file says it has (written with the plan); differs from ``file_hash``
    #: when the changes were edited afterwards.
    stored_hash: str | None = None

    def changes_dicts(self) -> list[dict[str, Any]]:
        return [c.to_dict() for c in self.changes]

    @property
    def hash(self) -> str:
        """The content hash a reviewer approves (of the file's own text when loaded)."""
        return self.file_hash or changes_hash(self.changes_dicts())

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": PLAN_FORMAT,
            "header": self.header,
            "hash": self.hash,
            "changes": self.changes_dicts(),
            "skipped": [s.to_dict() for s in self.skipped],
        }


def write_plan(plan: Plan, path: str | Path) -> Path:
    """Write ``plan`` as indented JSON (atomically: a temporary file renamed into place)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(
        exact_json.dumps(plan.to_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    os.replace(tmp, path)
    return path


def _changes(path: Path, rows: Any) -> list[Change]:
    """The plan's changes, or an :class:`InputError` naming the first malformed one (its
    number in ``changes`` and its id)."""
    if not isinstance(rows, list):
        raise InputError(f"{path}: 'changes' is not a list of changes")
    changes = []
    for number, row in enumerate(rows, start=1):
        try:
            changes.append(Change.from_dict(row))
        except (KeyError, TypeError, ValueError) as exc:
            name = f" ({row.get('id')!r})" if isinstance(row, dict) else ""
            raise InputError(f"{path}: change {number}{name} is malformed ({exc!r})") from None
    return changes


def load_plan(path: str | Path) -> Plan:
    """Read a plan file; the hash is recomputed from its changes, never trusted.

    Raises
    ------
    InputError
        The file is missing, not JSON, or not a write-back plan (exit 2).
    """
    path = Path(path)
    try:
        data = exact_json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: no such plan file") from None
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: not a JSON plan ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != PLAN_FORMAT:
        raise InputError(f"{path}: not a write-back plan (format {PLAN_FORMAT!r} expected)")
    changes = _changes(path, data.get("changes"))
    try:
        skipped = [Skipped(**s) for s in data.get("skipped", [])]
        header = dict(data["header"])
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"{path}: a skipped row or the header is malformed ({exc})") from None
    ids = [c.id for c in changes]
    if len(set(ids)) != len(ids):
        raise InputError(f"{path}: change ids repeat; a plan changes each field once")
    stored = data.get("hash") if isinstance(data.get("hash"), str) else None
    return Plan(
        header=header, changes=changes, skipped=skipped, file_hash=changes_hash(data["changes"]), stored_hash=stored
    )
