"""What the notebooks call: parameter checks, one audit run, and investigation helpers.

Notebooks stay thin (a ``parameters`` cell, a cell that validates them here, then calls);
everything they show is computed here so that it is tested without a kernel.

- :class:`AuditParameters` checks the audit notebook's parameters (papermill only warns
  about unknown names, and writes every parameter into the output notebook, so a
  parameter that looks like a secret is refused: keys come from the environment).
- :func:`run_notebook_audit` runs the audit, writes the outputs, records the run in the
  history and builds the report.
- :class:`Investigation` answers the ad-hoc questions of ``investigate.ipynb``: which
  pairs and properties drift, the mismatches of one property, one record on both sides,
  and a decisions CSV a person fills in for the write-back.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from audit.errors import ConfigError
from audit.flow.profile import SystemProfile, profiles_for

_SECRET = re.compile(r"(key|token|secret|password)", re.IGNORECASE)


def _problems(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'parameters'}: {e['msg']}" for e in exc.errors())


class _Parameters(BaseModel):
    """Notebook parameters: unknown names are refused, problems become one ConfigError."""

    model_config = ConfigDict(extra="forbid")

    @classmethod
    def check(cls, **params: Any):
        """Validate notebook parameters; a :class:`ConfigError` lists every problem."""
        try:
            return cls(**params)
        except ValidationError as exc:
            raise ConfigError(f"notebook parameters: {_problems(exc)}") from None


class AuditParameters(_Parameters):
    """Parameters of ``notebooks/audit.ipynb``.

    Paths must exist (``out`` and ``history`` are created). Empty strings mean "not
    given" for the optional ``links`` and ``config``.
    """

    flow: Path
    source: Path | None = None
    target: Path | None = None
    out: Path
    source_api: Literal["", "v1", "v2"] = ""
    target_api: Literal["", "v1", "v2"] = ""
    links: Path | None = None
    config: Path | None = None
    history: Path | None = Path("reports/history")
    source_label: str = ""
    target_label: str = ""
    report: bool = True

    @field_validator("source", "target", "links", "config", "history", mode="before")
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        return None if value in ("", None) else value

    @field_validator("flow", "links", "config")
    @classmethod
    def _exists(cls, value: Path | None) -> Path | None:
        if value is not None and not value.exists():
            raise ValueError(f"{value} does not exist")
        return value

    @model_validator(mode="after")
    def _sides(self) -> AuditParameters:
        for side in ("source", "target"):
            path, api = getattr(self, side), getattr(self, f"{side}_api")
            if api:
                if path is None:
                    setattr(self, side, self.out / "snapshots" / side)
            elif path is None:
                raise ValueError(f"{side}: give a snapshot directory, or {side}_api to fetch one")
            elif not path.exists():
                raise ValueError(f"{side}: {path} does not exist")
        return self

    @classmethod
    def check(cls, **params: Any) -> AuditParameters:
        """Validate notebook parameters; names that look like secrets are refused first."""
        secretish = [name for name in params if _SECRET.search(name)]
        if secretish:
            raise ConfigError(
                f"parameters {secretish} look like secrets; keys come from the environment or .env, "
                "never from notebook parameters"
            )
        return super().check(**params)


@dataclass
class NotebookRun:
    """The result of :func:`run_notebook_audit`, with views for the notebook."""

    params: AuditParameters
    result: Any  # audit.core.engine.AuditResult
    report: Path | None

    @property
    def findings(self) -> pl.DataFrame:
        return self.result.findings

    @property
    def success(self) -> bool:
        return self.result.success

    def pairs_table(self) -> pl.DataFrame:
        """One row per pair: records, links, coverage, failing findings."""
        rows = []
        for p in self.result.summary["pairs"]:
            counts = p.get("status_counts", {})
            rows.append(
                {
                    "pair": p["pair"],
                    "link method": p.get("link_method"),
                    "source records": p.get("source_records"),
                    "target records": p.get("target_records"),
                    "linked": p.get("linked"),
                    "coverage": p.get("link_coverage"),
                    "mismatch": counts.get("mismatch", 0),
                    "missing in target": counts.get("missing_in_target", 0),
                    "missing in source": counts.get("missing_in_source", 0),
                    "ambiguous": counts.get("ambiguous_link", 0),
                    "unresolved": counts.get("unresolved_property", 0),
                }
            )
        return pl.DataFrame(rows)

    def status_counts(self) -> pl.DataFrame:
        counts = self.result.summary.get("status_counts", {})
        return pl.DataFrame({"status": list(counts), "findings": list(counts.values())})


def fetch_side(params: AuditParameters, side: str, progress: bool = True) -> Path:
    """Fetch one side's tenant from the API into its snapshot directory. Keys and URLs come
    from the environment or ``.env``; ``POWEROFFICE_SOURCE_*`` / ``POWEROFFICE_TARGET_*``
    override the plain ``POWEROFFICE_*`` ones for that side (as for the write-back)."""
    from audit.flow.model import entity_file_stem
    from audit.flow.parser import parse_file
    from audit.systems.poweroffice.fetch import fetch_snapshot
    from audit.systems.poweroffice.settings import tenant_settings

    flow = parse_file(params.flow)
    names = [p.source_entity if side == "source" else p.target_entity for p in flow.pairs]
    entities = list(dict.fromkeys(entity_file_stem(n) for n in names))
    settings = tenant_settings(side)
    directory = getattr(params, side)
    directory.parent.mkdir(parents=True, exist_ok=True)
    fetch_snapshot(
        directory,
        getattr(params, f"{side}_api"),
        entities=entities,
        settings=settings,
        tenant=getattr(params, f"{side}_label") or side,
        progress=progress,
    )
    return directory


def run_notebook_audit(params: AuditParameters, progress: bool = True) -> NotebookRun:
    """Run the audit with checked parameters (fetching API sides first), write outputs,
    history and report."""
    from audit.core.engine import run_audit, write_outputs

    for side in ("source", "target"):
        if getattr(params, f"{side}_api"):
            fetch_side(params, side, progress=progress)

    step = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(desc="audit", unit="pair")

        def step(text: str) -> None:
            bar.set_description_str(text[:60])
            bar.update(1)

    result = run_audit(
        params.flow, params.source, params.target, links_dir=params.links, policy=params.config, progress=step
    )
    if progress:
        bar.close()
    if params.source_label or params.target_label:
        result.summary["source_label"] = params.source_label
        result.summary["target_label"] = params.target_label
    write_outputs(result, params.out)
    report = None
    if params.report:
        from audit.reporting.report import build_report

        report = build_report(params.out, history=params.history)
    return NotebookRun(params=params, result=result, report=report)


# --------------------------------------------------------------------------- investigation
class InvestigateParameters(_Parameters):
    """Parameters of ``notebooks/investigate.ipynb``."""

    out: Path
    flow: Path
    source: Path
    target: Path
    pair: str = ""
    property: str = ""
    record: str = ""

    @field_validator("out", "flow", "source", "target")
    @classmethod
    def _exists(cls, value: Path) -> Path:
        if not value.exists():
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

    @classmethod
    def load(cls, params: InvestigateParameters) -> Investigation:
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
        target_key = target_keys[0] if target_keys else str(key)
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
