"""What ``notebooks/investigate.ipynb`` calls: ad-hoc questions about one audit's outputs.

:class:`Investigation` answers which pairs and properties drift, the mismatches of one
property, one record on both sides, and writes a decisions CSV a person fills in for
the write-back; :func:`plan_tables` shows a write-back plan for review. Importable from
:mod:`audit.runs.notebook` as well.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
from pydantic import field_validator

from audit.errors import ConfigError
from audit.flow.profile import SystemProfile, profiles_for
from audit.runs.parameters import NotebookParameters

#: Statuses that concern a whole record (no property): a property filter does not apply.
RECORD_STATUSES = ("missing_in_target", "missing_in_source", "ambiguous_link")


class InvestigateParameters(NotebookParameters):
    """Parameters of ``notebooks/investigate.ipynb``.

    ``flow``, ``source``, ``target`` and ``links`` left empty are the ones the audit in
    ``out`` read (its ``summary.json``), so a record is looked up in the snapshots it was
    found in, and its counterpart through the links the audit used.
    ``record`` is taken as given (papermill's ``-p record 5000079`` passes a number).
    """

    out: Path
    flow: Path | None = None
    source: Path | None = None
    target: Path | None = None
    links: Path | None = None
    pair: str = ""
    property: str = ""
    record: str = ""
    status: str = ""

    @field_validator("flow", "source", "target", "links", mode="before")
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        return None if value is None or str(value) == "" else value

    @field_validator("out", "flow", "source", "target", "links")
    @classmethod
    def _exists(cls, value: Path | None) -> Path | None:
        if value is not None and not value.exists():
            raise ValueError(f"{value} does not exist")
        return value

    @field_validator("record", "pair", "property", mode="before")
    @classmethod
    def _as_text(cls, value: Any) -> str:
        return "" if value is None else str(value)

    @field_validator("status")
    @classmethod
    def _known_status(cls, value: str) -> str:
        from audit.core.policy import STATUSES

        if value and value not in STATUSES:
            raise ValueError(f"{value!r} is not a finding status; use one of {', '.join(STATUSES)}")
        return value


def _from_summary(params: InvestigateParameters, summary: dict[str, Any], where: Path) -> dict[str, Path]:
    """``flow``, ``source`` and ``target``: as given, else as the audit's summary names them."""
    named = {"flow": (summary.get("flow") or {}).get("file"), "source": summary.get("source"),
             "target": summary.get("target")}
    paths: dict[str, Path] = {}
    for name, recorded in named.items():
        given = getattr(params, name)
        if given is not None:
            paths[name] = given
            continue
        if not recorded:
            raise ConfigError(f"{where}: names no {name}; give the {name} parameter")
        path = Path(recorded)
        if name == "flow":
            from audit.flow.bundled import resolve_flow

            path = resolve_flow(path)
        if not path.exists():
            raise ConfigError(f"{where}: the audit read {name} {recorded}, which is not there from here; "
                              f"give the {name} parameter")
        paths[name] = path
    links = params.links or summary.get("links")
    if links and Path(links).exists():
        paths["links"] = Path(links)
    return paths


@dataclass(frozen=True)
class InlineChart:
    """An Altair chart and its SVG; Jupyter shows the SVG (``_repr_svg_``), so the chart
    needs no Vega scripts from a CDN and shows offline and in exported notebooks."""

    chart: Any  # altair.Chart
    svg: str

    def _repr_svg_(self) -> str:
        return self.svg


@dataclass
class Investigation:
    """One audit's outputs plus both snapshots, for ad-hoc questions."""

    out: Path
    flow: Any  # audit.flow.model.Flow
    findings: pl.DataFrame
    summary: dict[str, Any]
    source: Any  # audit.core.snapshot.Snapshot
    target: Any
    links: Any = None  # audit.core.link_sources.LinkSource: the audit's link source, if any

    @classmethod
    def load(cls, params: InvestigateParameters) -> Investigation:
        """The audit in ``params.out`` with the flow and snapshots it read (or those given)."""
        from audit.core.link_sources import open_link_source
        from audit.core.snapshot import read_snapshot
        from audit.flow.parser import parse_file
        from audit.reporting.rundir import read_findings, read_summary_object

        findings_path = params.out / "findings.parquet"
        summary_path = params.out / "summary.json"
        if not findings_path.exists() or not summary_path.exists():
            raise ConfigError(f"{params.out}: no audit outputs (findings.parquet, summary.json); run the audit first")
        summary = read_summary_object(params.out)
        paths = _from_summary(params, summary, summary_path)
        flow = parse_file(paths["flow"])
        return cls(
            out=params.out,
            flow=flow,
            findings=read_findings(params.out),
            summary=summary,
            source=read_snapshot(paths["source"], [p.source_entity for p in flow.pairs]),
            target=read_snapshot(paths["target"], [p.target_entity for p in flow.pairs]),
            links=open_link_source(paths["links"], flow) if "links" in paths else None,
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

    def property_of(self, pair: str, prop: str) -> str:
        """The pair's source property ``prop`` names (its source or target path, any case).

        Raises
        ------
        ConfigError
            ``prop`` is neither; the message lists the pair's properties.
        """
        mapped = self.flow.pair(self.pair_heading(pair)).properties
        for p in mapped:
            if prop.lower() in (p.source.lower(), p.target.lower()):
                return p.source
        valid = ", ".join(f"{p.source} (-> {p.target})" for p in mapped) or "none"
        raise ConfigError(f"property {prop!r} is not a property of {self.pair_heading(pair)}; its properties: {valid}")

    def status_counts(self, pair: str = "") -> pl.DataFrame:
        """Findings of one pair per status, most first."""
        frame = self.findings.filter(pl.col("pair") == self.pair_heading(pair))
        return frame.group_by("status").len("findings").sort("findings", "status", descending=[True, False])

    def mismatches(self, pair: str = "", prop: str = "", status: str = "") -> pl.DataFrame:
        """The findings of one pair: of one ``status`` (default: every status), and of one
        property (default: every property for a status, else the worst property; a
        whole-record status has no property)."""
        heading = self.pair_heading(pair)
        frame = self.findings.filter(pl.col("pair") == heading)
        if status:
            frame = frame.filter(pl.col("status") == status)
        if status not in RECORD_STATUSES:
            prop = self.property_of(heading, prop) if prop else "" if status else self.worst_property(heading)
            if prop:
                frame = frame.filter(pl.col("source_property").str.to_lowercase() == prop.lower())
        return frame.select(
            "source_key", "target_key", "source_property", "target_property", "status", "source_value", "target_value"
        )

    def mismatch_chart(self, pair: str = "") -> InlineChart | str:
        """A bar chart of failing records per property, drawn as inline SVG (works offline,
        as the report's charts); a note when the pair has no properties to chart."""
        import altair as alt

        from audit.reporting.charts import to_svg

        overview = self.property_overview(pair)
        if overview.is_empty():
            return f"{self.pair_heading(pair)}: no mapped properties to chart"
        data = overview.select("source", "target", "failing", "checked").to_pandas()
        data["property"] = data["source"] + " → " + data["target"]
        chart = (
            alt.Chart(data)
            .mark_bar(color="#c0392b")
            .encode(
                x=alt.X("failing:Q", title="failing records"),
                y=alt.Y("property:N", sort="-x", title=None),
                tooltip=["property", "failing", "checked"],
            )
            .properties(title=self.pair_heading(pair), width=420)
        )
        return InlineChart(chart, to_svg(chart, "investigate"))

    def lookup(self, pair: str, key: str, target_key: str = "") -> pl.DataFrame:
        """One record on both sides of a pair, property by property, side by side.

        ``key`` is the source record's id; its counterpart is the target record its
        findings name, else ``target_key``, else the same id. A record only the target
        has (``missing_in_source``) is looked up with ``key=""`` and its ``target_key``.
        """
        heading = self.pair_heading(pair)
        p = self.flow.pair(heading)
        src = self.source.entity(p.source_entity)
        tgt = self.target.entity(p.target_entity)
        links = self.findings.filter((pl.col("pair") == heading) & (pl.col("source_key") == str(key)))
        target_keys = [k for k in links["target_key"].unique().to_list() if k]
        target_key = target_keys[0] if target_keys else (str(target_key) or self._counterpart(p, str(key)))
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

    def lookup_first(self, pair: str, rows: pl.DataFrame, record: str = "") -> pl.DataFrame | str:
        """:meth:`lookup` of ``record`` (a source id), else of the first of ``rows``
        (findings of :meth:`mismatches`), by its target key when only the target has it."""
        first = rows.row(0, named=True) if rows.height else {}
        key = record or first.get("source_key") or ""
        if not key and not first.get("target_key"):
            return "no record to look up"
        return self.lookup(pair, key, "" if record else first.get("target_key") or "")

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

    def add_rule(
        self,
        expectations: str | Path,
        pair: str = "",
        prop: str = "",
        side: str = "target",
        expectation_type: str = "expect_column_values_to_match_regex",
        **kwargs: Any,
    ) -> Path:
        """Add one of your own expectations on a property's column (``target.<path>`` by
        default) to the pair's user suite (``<expectations>/<flow>/<pair>.user.json``); the
        next audit runs it and lists every record failing it as ``expectation_failed``.

        ``kwargs`` are the expectation's arguments (``regex="^\\d{4}$"``). Returns the file.
        """
        from audit.gx.user_suites import add_user_expectation

        if side not in ("source", "target"):
            raise ValueError(f"side must be 'source' or 'target', not {side!r}")
        heading = self.pair_heading(pair)
        the_pair = self.flow.pair(heading)
        source = self.property_of(heading, prop or self.worst_property(heading))
        mapped = next((p for p in the_pair.properties if p.source == source), None)
        if mapped is None:
            raise ValueError(f"{heading}: no mapped property has the source path {source!r}")
        column = f"{side}.{mapped.source if side == 'source' else mapped.target}"
        return add_user_expectation(expectations, self.flow, the_pair, expectation_type, column=column, **kwargs)


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
