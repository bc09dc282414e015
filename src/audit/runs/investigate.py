"""What ``notebooks/investigate.ipynb`` calls: ad-hoc questions about one audit's outputs.

:class:`Investigation` answers which pairs and properties drift, the mismatches of one
property, one record on both sides, and writes a decisions CSV a person fills in for
the write-back; :func:`plan_tables` shows a write-back plan for review. Importable from
:mod:`audit.runs.notebook` as well.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
from pydantic import field_validator

from audit.errors import ConfigError
from audit.flow.profile import SystemProfile, profiles_for
from audit.runs.parameters import NotebookParameters


class InvestigateParameters(NotebookParameters):
    """Parameters of ``notebooks/investigate.ipynb``."""

    out: Path
    flow: Path
    source: Path
    target: Path
    links: Path | None = None
    pair: str = ""
    property: str = ""
    record: str = ""

    @field_validator("links", mode="before")
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        return None if value in ("", None) else value

    @field_validator("out", "flow", "source", "target", "links")
    @classmethod
    def _exists(cls, value: Path | None) -> Path | None:
        if value is not None and not value.exists():
            raise ValueError(f"{value} does not exist")
        return value


@dataclass
class Investigation:
    """One audit's outputs plus both snapshots, for ad-hoc questions."""

    out: Path
    flow: Any  # audit.flow.model.Flow
    findings: pl.DataFrame
    summary: dict[str, Any]
    source: Any  # audit.core.snapshot.Snapshot
    target: Any
    links: Any = None  # audit.core.link_sources.LinkSource: the audit's link source, if given

    @classmethod
    def load(cls, params: InvestigateParameters) -> Investigation:
        from audit.core.link_sources import open_link_source
        from audit.core.snapshot import read_snapshot
        from audit.flow.parser import parse_file

        flow = parse_file(params.flow)
        findings_path = params.out / "findings.parquet"
        summary_path = params.out / "summary.json"
        if not findings_path.exists() or not summary_path.exists():
            raise ConfigError(f"{params.out}: no audit outputs (findings.parquet, summary.json); run the audit first")
        return cls(
            out=params.out,
            flow=flow,
            findings=pl.read_parquet(findings_path),
            summary=json.loads(summary_path.read_text(encoding="utf-8")),
            source=read_snapshot(params.source, [p.source_entity for p in flow.pairs]),
            target=read_snapshot(params.target, [p.target_entity for p in flow.pairs]),
            links=open_link_source(params.links, flow) if params.links else None,
        )

    def pair_heading(self, pair: str = "") -> str:
        """The pair named (heading or a unique part of it), or the pair with most mismatches."""
        headings = [p.heading for p in self.flow.pairs]
        if pair:
            hits = [h for h in headings if pair.lower() in h.lower()]
            if len(hits) != 1:
                raise ConfigError(f"pair {pair!r} matches {len(hits)} of: {headings}")
            return hits[0]
        mism = self.findings.filter(pl.col("status") == "mismatch").group_by("pair").len().sort("len", descending=True)
        return mism["pair"][0] if mism.height else headings[0]

    def property_overview(self, pair: str = "") -> pl.DataFrame:
        """Per mapped property of a pair: checked, failing, failing rate, how it resolved."""
        heading = self.pair_heading(pair)
        rows = []
        for p in self.summary["pairs"]:
            if p["pair"] != heading:
                continue
            for prop in p.get("properties", []):
                checked = prop.get("checked") or 0
                failing = prop.get("failing") or 0
                rows.append(
                    {
                        "source": prop["source"],
                        "target": prop["target"],
                        "mode": prop.get("mode"),
                        "checked": checked,
                        "failing": failing,
                        "rate": failing / checked if checked else None,
                        "source column": (prop.get("source_resolution") or {}).get("column"),
                        "target column": (prop.get("target_resolution") or {}).get("column"),
                    }
                )
        return pl.DataFrame(rows).sort("failing", descending=True) if rows else pl.DataFrame()

    def worst_property(self, pair: str = "") -> str:
        overview = self.property_overview(pair)
        if overview.is_empty() or overview["failing"][0] == 0:
            return ""
        return overview["source"][0]

    def mismatches(self, pair: str = "", prop: str = "") -> pl.DataFrame:
        """Every finding of one pair and source property (all statuses but links)."""
        heading = self.pair_heading(pair)
        prop = prop or self.worst_property(heading)
        frame = self.findings.filter(pl.col("pair") == heading)
        if prop:
            frame = frame.filter(pl.col("source_property").str.to_lowercase() == prop.lower())
        return frame.select(
            "source_key", "target_key", "source_property", "target_property", "status", "source_value", "target_value"
        )

    def mismatch_chart(self, pair: str = ""):
        """A bar chart of failing records per property (altair)."""
        import altair as alt

        overview = self.property_overview(pair)
        data = overview.select("source", "target", "failing", "checked").to_pandas()
        data["property"] = data["source"] + " → " + data["target"]
        return (
            alt.Chart(data)
            .mark_bar(color="#c0392b")
            .encode(
                x=alt.X("failing:Q", title="failing records"),
                y=alt.Y("property:N", sort="-x", title=None),
                tooltip=["property", "failing", "checked"],
            )
            .properties(title=self.pair_heading(pair), width=420)
        )

    def lookup(self, pair: str, key: str) -> pl.DataFrame:
        """One record on both sides of a pair, property by property, side by side."""
        heading = self.pair_heading(pair)
        p = self.flow.pair(heading)
        src = self.source.entity(p.source_entity)
        tgt = self.target.entity(p.target_entity)
        links = self.findings.filter((pl.col("pair") == heading) & (pl.col("source_key") == str(key)))
        target_keys = [k for k in links["target_key"].unique().to_list() if k]
        target_key = target_keys[0] if target_keys else self._counterpart(p, str(key))
        srow = src.frame.filter(pl.col(src.id_column).cast(pl.Utf8) == str(key))
        trow = tgt.frame.filter(pl.col(tgt.id_column).cast(pl.Utf8) == target_key)
        rows = []
        profiles = profiles_for(self.flow.source_system, self.flow.target_system)
        for prop in p.properties:
            rows.append(
                {
                    "source property": prop.source,
                    "source value": _cell(src, srow, prop.source, profiles.source),
                    "target property": prop.target,
                    "target value": _cell(tgt, trow, prop.target, profiles.target),
                }
            )
        return pl.DataFrame(
            rows,
            schema={
                "source property": pl.Utf8,
                "source value": pl.Utf8,
                "target property": pl.Utf8,
                "target value": pl.Utf8,
            },
        )

    def _counterpart(self, pair: Any, key: str) -> str:
        """The target key the link source gives a source record without findings (its own
        key when there is no link source, as when the audit linked by ids)."""
        from audit.core.policy import default_policy

        given = None if self.links is None else self.links.for_pair(self.flow, pair, default_policy().links)
        if given is None:
            return key
        hits = given.table.filter(pl.col("source_id") == key).get_column("target_id").to_list()
        return hits[0] if hits else key

    def decisions_template(self, path: str | Path, pair: str = "", prop: str = "") -> Path:
        """Write a decisions CSV for the write-back: one row per mismatch, with a
        ``decision`` column a person sets to ``source`` (the source value wins),
        ``target`` (the target value wins) or ``skip``."""
        from audit.writeback.plan import DECISION_COLUMNS

        frame = self.mismatches(pair, prop).filter(pl.col("status") == "mismatch")
        frame = frame.with_columns(pair=pl.lit(self.pair_heading(pair)), decision=pl.lit(""))
        frame = frame.select(DECISION_COLUMNS)  # the columns `audit writeback plan --decisions` reads
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        frame.write_csv(path)
        return path


def _cell(entity: Any, row: pl.DataFrame, path: str, profile: SystemProfile) -> str | None:
    """The value of a flow path in a one-row frame, resolved as the audit resolves it."""
    from audit.flow.paths import resolve_path

    if row.is_empty():
        return None
    column = resolve_path(path, row.columns, entity=entity.entity, id_column=entity.id_column, profile=profile).column
    if column is None:
        return None
    value = row[column][0]
    return None if value is None else str(value)


def plan_tables(path: str | Path) -> tuple[pl.DataFrame, pl.DataFrame, str]:
    """A write-back plan for review: its changes, the mismatches it skips (and why), and
    the hash a reviewer approves with ``audit writeback apply PLAN --approve HASH``."""
    from audit.writeback.model import load_plan

    plan = load_plan(path)
    changes = pl.DataFrame(
        [
            {
                "side": c.corrected.side,
                "entity": c.corrected.entity,
                "record": str(c.corrected.record_id),
                "field": c.field,
                "old value": None if c.old_value is None else str(c.old_value),
                "new value": None if c.new_value is None else str(c.new_value),
                "why": c.rule,
            }
            for c in plan.changes
        ],
        schema=dict.fromkeys(["side", "entity", "record", "field", "old value", "new value", "why"], pl.Utf8),
    )
    skipped = pl.DataFrame(
        [
            {
                "pair": s.pair,
                "source key": s.source_key,
                "source property": s.source_property,
                "target property": s.target_property,
                "skipped": s.skipped,
            }
            for s in plan.skipped
        ],
        schema=dict.fromkeys(["pair", "source key", "source property", "target property", "skipped"], pl.Utf8),
    )
    return changes, skipped, plan.hash
