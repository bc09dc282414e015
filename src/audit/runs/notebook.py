"""What the notebooks call: parameter checks, one audit run, and investigation helpers.

Notebooks stay thin (a ``parameters`` cell, a cell that validates them here, then calls);
everything they show is computed here so that it is tested without a kernel.

- :class:`AuditParameters` checks the audit notebook's parameters (papermill only warns
  about unknown names, and writes every parameter into the output notebook, so a
  parameter that looks like a secret is refused: keys come from the environment).
- :func:`run_notebook_audit` runs the audit, writes the outputs, records the run in the
  history and builds the report.
- :class:`Investigation` (:mod:`audit.runs.investigate`, importable from here) answers
  the ad-hoc questions of ``investigate.ipynb``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import polars as pl
from pydantic import field_validator, model_validator

from audit.errors import ConfigError
from audit.runs.investigate import InvestigateParameters, Investigation, plan_tables
from audit.runs.parameters import SECRET_NAME, NotebookParameters

__all__ = [
    "AuditParameters",
    "InvestigateParameters",
    "Investigation",
    "NotebookRun",
    "fetch_side",
    "plan_tables",
    "run_notebook_audit",
]


class AuditParameters(NotebookParameters):
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
    link_by_id: bool = False
    config: Path | None = None
    expectations: Path | None = None
    history: Path | None = Path("reports/history")
    source_label: str = ""
    target_label: str = ""
    report: bool = True

    @field_validator("source", "target", "links", "config", "expectations", "history", mode="before")
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
        secretish = [name for name in params if SECRET_NAME.search(name)]
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

    labels = {"source": params.source_label, "target": params.target_label}
    result = run_audit(
        params.flow,
        params.source,
        params.target,
        links_dir=params.links,
        policy=params.config,
        progress=step,
        link_by_id=params.link_by_id,
        labels=labels,
        expectations_dir=params.expectations,
    )
    if progress:
        bar.close()
    write_outputs(result, params.out)
    report = None
    if params.report:
        from audit.reporting.report import build_report

        report = build_report(params.out, history=params.history)
    return NotebookRun(params=params, result=result, report=report)
