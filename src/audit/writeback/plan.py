"""Findings -> a write-back plan. Pure: frames and dicts in, a :class:`Plan` out.

For each ``mismatch`` finding the two linked records are looked up in the snapshots the
audit read, the direction policy (:mod:`audit.writeback.direction`) picks the side that
keeps its value, and the other side becomes a :class:`Change` naming the record, its API
generation, the field on that generation, the old and the new value, the record's
last-changed stamp(s) as the audit read them, and the rule. A mismatch that cannot or
must not be written becomes a :class:`Skipped` row with its reason:

``read-only``                   ids and system stamps (:func:`audit.systems.poweroffice.fields.is_read_only`)
``not writable on vN``          a field or entity the bound generation cannot write
                                (v1 contact persons, the derived address entity, v2
                                contact ``dateOfBirth``)
``undecided``                   the policy cannot tell (equal stamps; an empty winner)
``decision: skip``              a person said so in the decisions CSV
``decision for other values``   the CSV row was decided on values the audit no longer shows
``snapshot disagrees with the audit``  the snapshot given is not the one audited
``conflicting corrections``     two findings want different values in one field

Nothing here reads files or touches the network (the command line does the reading).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl

from audit.core.snapshot import EntityFrame, Snapshot
from audit.errors import ConfigError
from audit.flow.model import entity_file_stem
from audit.flow.paths import resolve_path
from audit.systems.poweroffice import fields as poweroffice
from audit.writeback.direction import DECISIONS, POLICIES, decide
from audit.writeback.model import Change, Plan, RecordRef, Skipped

__all__ = [
    "DECISION_COLUMNS",
    "build_plan",
    "check_decisions",
    "new_value_for",
    "read_decisions",
    "writable_reason",
]

DECISION_COLUMNS = (
    "pair",
    "source_key",
    "target_key",
    "source_property",
    "target_property",
    "source_value",
    "target_value",
    "decision",
)
_ROW_KEY = ("pair", "source_key", "target_key", "source_property", "target_property")
_STAMP = {"v1": "lastChanged", "v2": "LastChangedDateTimeOffset"}
_PARENT = {"v1": "partyId", "v2": "ContactId"}


# --------------------------------------------------------------------------- values
def _jsonable(value: Any) -> Any:
    """A frame cell as the JSON value the API holds."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, pl.Series):
        return [_jsonable(v) for v in value.to_list()]
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def _text(value: Any) -> str:
    """A value as the findings show it (``None`` as empty text)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


def new_value_for(value: Any, field_v2: str | None, generation: str) -> Any:
    """``value`` in the corrected generation's format: dates are ``yyyy-MM-dd`` on v2 and
    midnight timestamps on v1; everything else is written as it is."""
    if field_v2 and field_v2.split(".")[-1] in poweroffice.DATE_FIELDS and isinstance(value, str):
        if generation == "v2":
            return value[:10]
        if len(value) == 10:
            return value + "T00:00:00"
    return value


def writable_reason(
    entity: str, generation: str, field: str | None, names: tuple[str | None, ...]
) -> str | None:
    """Why a field cannot be written on ``generation`` (``None`` when it can)."""
    if any(n and poweroffice.is_read_only(n) for n in names):
        return "read-only"
    if entity == "address":
        return f"not writable on {generation}: addresses are written through their customer or supplier"
    if entity == "contactperson" and generation == "v1":
        return "not writable on v1: the v1 API has no contact person update route"
    if entity not in ("customer", "supplier", "contactperson"):
        return f"not writable on {generation}: no update route for {entity}"
    if not field:
        return f"not writable on {generation}: the field does not exist there"
    return None


# --------------------------------------------------------------------------- decisions
def read_decisions(path: str | Path) -> pl.DataFrame:
    """Read and check a decisions CSV (as ``Investigation.decisions_template`` writes it).

    Raises
    ------
    ConfigError
        The file is missing or not a readable UTF-8 CSV, lacks a column, or has a decision
        other than ``source``, ``target``, ``skip`` or empty (the message names the file and
        the CSV line).
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: no such decisions file")
    try:
        frame = pl.read_csv(path, infer_schema_length=0, missing_utf8_is_empty_string=True)
    except (pl.exceptions.PolarsError, UnicodeDecodeError, OSError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError(f"{path}: not a readable UTF-8 CSV ({first})") from None
    return check_decisions(frame, where=str(path))


def check_decisions(frame: pl.DataFrame, where: str = "decisions CSV") -> pl.DataFrame:
    """Validate a decisions table (all columns text) and return it.

    Raises
    ------
    ConfigError
        A missing column, or a decision other than ``source``, ``target``, ``skip`` or empty;
        the message names ``where`` and the CSV line (the header is line 1).
    """
    missing = [c for c in DECISION_COLUMNS if c not in frame.columns]
    if missing:
        raise ConfigError(f"{where}: lacks column(s) {', '.join(missing)}")
    frame = frame.select([pl.col(c).cast(pl.String).fill_null("") for c in DECISION_COLUMNS])
    allowed = pl.col("decision").str.strip_chars().str.to_lowercase().is_in([*DECISIONS, ""])
    bad = frame.with_row_index("_row").filter(~allowed)
    if bad.height:
        row = bad.row(0, named=True)
        raise ConfigError(
            f"{where}:{row['_row'] + 2}: decision {row['decision']!r} for {row['pair']} "
            f"{row['source_key']}/{row['target_key']} {row['source_property']}; "
            f"use {', '.join(DECISIONS)} or leave it empty"
        )
    return frame


# --------------------------------------------------------------------------- records
@dataclass
class _Side:
    """The records of one side of a pair that the mismatches name, by id text."""

    frame: EntityFrame
    rows: dict[str, dict[str, Any]]

    @classmethod
    def load(cls, ef: EntityFrame, keys: set[str]) -> _Side:
        idc = ef.id_column
        sub = ef.frame.filter(pl.col(idc).cast(pl.String).is_in(sorted(keys)))
        return cls(ef, {str(r[idc]): r for r in sub.to_dicts()})

    @property
    def generation(self) -> str:
        return self.frame.generation

    def column(self, name: str) -> str | None:
        ef = self.frame
        return resolve_path(name, ef.frame.columns, ef.entity, ef.id_column, profile=poweroffice.PROFILE).column

    def stamps(self, row: dict[str, Any], column: str) -> tuple[str | None, str | None]:
        """``(record stamp, mail address stamp)`` of a record, the latter only for a
        field inside the mail address."""
        record_col = self.column(_STAMP[self.generation])
        record = row.get(record_col) if record_col else None
        address = None
        if "." in column:
            head = column.rsplit(".", 1)[0]
            sub_col = self.column(f"{head}.{_STAMP[self.generation]}")
            if sub_col and sub_col.startswith(head + "."):
                address = row.get(sub_col)
        return (
            _jsonable(record) if record is not None else None,
            _jsonable(address) if address is not None else None,
        )

    def parent(self, row: dict[str, Any]) -> int | None:
        if self.frame.entity != "contactperson":
            return None
        col = self.column(_PARENT[self.generation])
        value = row.get(col) if col else None
        return int(value) if isinstance(value, int) and not isinstance(value, bool) else None


def _resolutions(summary: Mapping[str, Any]) -> dict[tuple[str, str, str], tuple[str | None, str | None]]:
    """``(pair, source path, target path) -> (source column, target column)`` from the
    audit's summary.json."""
    out: dict[tuple[str, str, str], tuple[str | None, str | None]] = {}
    for pair in summary.get("pairs", []):
        for prop in pair.get("properties", []):
            if "source_resolution" in prop:
                out[(pair["pair"], prop["source"], prop["target"])] = (
                    prop["source_resolution"].get("column"),
                    prop["target_resolution"].get("column"),
                )
    return out


# --------------------------------------------------------------------------- the plan
def build_plan(
    findings: pl.DataFrame,
    source: Snapshot,
    target: Snapshot,
    *,
    summary: Mapping[str, Any] | None = None,
    policy: str = "latest",
    decisions: pl.DataFrame | None = None,
    same_tenant: bool = False,
    header: Mapping[str, Any] | None = None,
    created_at: str | None = None,
) -> Plan:
    """Build the change plan of an audit's mismatches.

    Parameters
    ----------
    findings : pl.DataFrame
        The audit's findings (contract columns); only ``mismatch`` rows are planned.
    source, target : Snapshot
        The snapshots the audit read.
    summary : mapping, optional
        The audit's ``summary.json``: its path resolutions are reused; without it paths
        are resolved again against the frames.
    policy : str
        ``latest`` (default), ``source`` or ``target``.
    decisions : pl.DataFrame, optional
        A person's decisions (:data:`DECISION_COLUMNS`); they override the policy row by row.
    same_tenant : bool
        Source and target are one tenant: changes to both sides go to one API.
    header : mapping, optional
        Extra header entries (audit dir, flow, ...).
    created_at : str, optional
        ISO timestamp; now when omitted.

    Returns
    -------
    Plan

    Raises
    ------
    ConfigError
        An unknown policy or a bad decisions table.
    """
    if policy not in POLICIES:
        raise ConfigError(f"--policy {policy!r}: use one of {', '.join(POLICIES)}")
    mism = findings.filter(pl.col("status") == "mismatch")
    resolved = _resolutions(summary or {})
    chosen: dict[tuple[str, ...], dict[str, str]] = {}
    if decisions is not None:
        for row in check_decisions(decisions).iter_rows(named=True):
            chosen[tuple(row[k] for k in _ROW_KEY)] = row
    used: set[tuple[str, ...]] = set()
    changes: dict[str, Change] = {}
    skipped: list[Skipped] = []
    clashes: set[str] = set()

    for (heading, s_entity, t_entity), group in mism.group_by(
        ["pair", "source_entity", "target_entity"], maintain_order=True
    ):
        s_side = _Side.load(source.entity(s_entity), set(group["source_key"].drop_nulls()))
        t_side = _Side.load(target.entity(t_entity), set(group["target_key"].drop_nulls()))
        sides = {"source": s_side, "target": t_side}
        for f in group.iter_rows(named=True):
            key = tuple(f[k] or "" for k in _ROW_KEY)

            def skip(reason: str, side: str | None = None, rule: str | None = None, f=f) -> None:
                skipped.append(
                    Skipped(
                        f["pair"],
                        f["source_key"],
                        f["target_key"],
                        f["source_property"],
                        f["target_property"],
                        f["source_value"],
                        f["target_value"],
                        reason,
                        side,
                        rule,
                    )
                )

            s_row, t_row = s_side.rows.get(f["source_key"]), t_side.rows.get(f["target_key"])
            if s_row is None or t_row is None:
                skip("snapshot disagrees with the audit: record not in the snapshot")
                continue
            s_col, t_col = resolved.get((heading, f["source_property"], f["target_property"]), (None, None))
            s_col = s_col or s_side.column(f["source_property"])
            t_col = t_col or t_side.column(f["target_property"])
            if s_col is None or t_col is None:
                skip("unresolved property")
                continue
            values = {"source": _jsonable(s_row.get(s_col)), "target": _jsonable(t_row.get(t_col))}
            if _text(values["source"]) != (f["source_value"] or "") or _text(values["target"]) != (
                f["target_value"] or ""
            ):
                skip("snapshot disagrees with the audit: other values")
                continue
            stamps = {"source": s_side.stamps(s_row, s_col), "target": t_side.stamps(t_row, t_col)}
            person = chosen.get(key)
            if person is not None:
                used.add(key)
                if (person["source_value"], person["target_value"]) != (
                    f["source_value"] or "",
                    f["target_value"] or "",
                ):
                    skip("decision for other values")
                    continue
            # the most specific stamp decides: the mail address's own for its fields
            verdict = decide(
                policy,
                values["source"],
                values["target"],
                stamps["source"][1] or stamps["source"][0],
                stamps["target"][1] or stamps["target"][0],
                decision=person["decision"] if person else None,
            )
            if verdict.winner is None:
                skip(verdict.skip or "undecided", rule=verdict.rule)
                continue
            loser = verdict.loser
            assert loser is not None
            side, other = sides[loser], sides[verdict.winner]
            column = s_col if loser == "source" else t_col
            entity = side.frame.entity
            names = poweroffice.alias(entity, column) or (
                (column, None) if side.generation == "v1" else (None, column)
            )
            gen = side.generation
            field = names[1] if gen == "v2" else names[0]
            reason = writable_reason(entity, gen, field, (column, *names))
            if reason:
                skip(reason, side=loser, rule=verdict.rule)
                continue
            row = s_row if loser == "source" else t_row
            other_row = t_row if loser == "source" else s_row
            record_key = f["source_key"] if loser == "source" else f["target_key"]
            other_key = f["target_key"] if loser == "source" else f["source_key"]
            try:
                record_id, other_id = int(record_key), int(other_key)
            except (TypeError, ValueError):
                skip("record id is not an integer", side=loser, rule=verdict.rule)
                continue
            tenant = "source" if same_tenant else loser
            other_tenant = "source" if same_tenant else verdict.winner
            change = Change(
                id=f"{tenant}:{entity}:{record_id}:{field}",
                pair=heading,
                source_key=f["source_key"],
                target_key=f["target_key"],
                source_property=f["source_property"],
                target_property=f["target_property"],
                corrected=RecordRef(loser, tenant, entity, record_id, gen, side.parent(row)),
                counterpart=RecordRef(
                    verdict.winner,
                    other_tenant,
                    other.frame.entity,
                    other_id,
                    other.generation,
                    other.parent(other_row),
                ),
                field=field,
                field_v1=names[0],
                field_v2=names[1],
                old_value=values[loser],
                new_value=new_value_for(values[verdict.winner], names[1], gen),
                last_changed=stamps[loser][0],
                address_last_changed=stamps[loser][1],
                winner=verdict.winner,
                rule=verdict.rule,
            )
            earlier = changes.get(change.id)
            if earlier is not None:
                if earlier.new_value != change.new_value:
                    clashes.add(change.id)
                    skip(
                        f"conflicting corrections: {earlier.pair} wants {earlier.new_value!r}",
                        loser,
                        verdict.rule,
                    )
                else:
                    skip(f"same correction as {earlier.pair}", loser, verdict.rule)
                continue
            changes[change.id] = change

    for cid in sorted(clashes):
        c = changes.pop(cid)
        skipped.append(
            Skipped(
                c.pair,
                c.source_key,
                c.target_key,
                c.source_property,
                c.target_property,
                c.old_value if c.winner == "target" else c.new_value,
                c.new_value if c.winner == "target" else c.old_value,
                "conflicting corrections: another finding wants another value",
                c.corrected.side,
                c.rule,
            )
        )
    planned = list(changes.values())
    unmatched = [dict(zip(_ROW_KEY, k, strict=True)) for k in chosen if k not in used]
    counts = {
        "mismatches": mism.height,
        "changes": len(planned),
        "skipped": len(skipped),
        "by_side": dict(Counter(c.corrected.side for c in planned)),
        "by_rule": dict(Counter(c.rule.split(":")[0].split(" (")[0] for c in planned)),
        "by_skip": dict(Counter(s.skipped.split(":")[0] for s in skipped)),
    }
    generations = {
        "source": sorted({source.entity(e).generation for e in set(mism["source_entity"].to_list())}),
        "target": sorted({target.entity(e).generation for e in set(mism["target_entity"].to_list())}),
    }
    head = {
        **dict(header or {}),
        "created_at": created_at or datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "policy": policy,
        "decisions": (header or {}).get("decisions"),
        "same_tenant": same_tenant,
        "generations": generations,
        "counts": counts,
    }
    if unmatched:
        head["unmatched_decisions"] = unmatched
    return Plan(header=head, changes=planned, skipped=skipped)


def entity_stems(findings: pl.DataFrame) -> tuple[list[str], list[str]]:
    """The source and target entity stems the mismatch rows name."""
    mism = findings.filter(pl.col("status") == "mismatch")
    return (
        sorted({entity_file_stem(e) for e in mism["source_entity"].to_list()}),
        sorted({entity_file_stem(e) for e in mism["target_entity"].to_list()}),
    )
