"""The data of the report of one audit run: what the HTML shows, as frozen read-only data.

:meth:`ReportData.from_outputs` reads an ``audit run`` output directory (through
:mod:`audit.reporting.rundir`, the one place that knows the engine's file layout) and, when
a history store is given, the trend and the findings new / fixed since the previous run
(:mod:`audit.reporting.history`). The result has ``to_dict()``; the snapshot tests pin that
dict. :mod:`audit.reporting.report` renders it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from audit.errors import InputError
from audit.reporting.run_data import fields_of
from audit.reporting.rundir import (
    FINDING_COLUMNS,
    FINDINGS_CSV,
    FINDINGS_PARQUET,
    IDENTITY_COLUMNS,
    STATUSES,
    RunSummary,
    read_findings,
    read_gx_results,
    read_summary,
)

if TYPE_CHECKING:  # pragma: no cover
    import polars as pl

    from audit.gx.datadocs import DataDocs
    from audit.reporting.history import RunDiff
    from audit.reporting.run_data import GxResult

#: Findings rendered into the HTML table at most (all of them stay in findings.csv/.parquet).
DEFAULT_MAX_ROWS = 5000

#: Rows of the "fixed since the last run" table at most.
MAX_FIXED_ROWS = 1000

#: The report's warning when the run kept no GX validation results.
NO_GX_WARNING = "no Great Expectations validation results (gx/*.json) in the output directory"


@dataclass(frozen=True)
class FindingRow:
    """One finding as the report shows it; ``new`` tells whether the previous run of the
    same flow and tenants lacked it (``None`` when there is no previous run)."""

    pair: str
    source_entity: str | None
    target_entity: str | None
    source_key: str | None
    target_key: str | None
    source_property: str | None
    target_property: str | None
    status: str
    source_value: str | None
    target_value: str | None
    expectation: str | None = None
    new: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        return {c: getattr(self, c) for c in (*FINDING_COLUMNS, "new")}


@dataclass(frozen=True)
class GxSuite:
    """The Great Expectations validation of one pair: outcome, counts and its Data Docs page."""

    file: str
    suite_name: str
    success: bool
    evaluated: int
    successful: int
    docs_page: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class TrendPoint:
    """One earlier (or this) run of the same flow and tenants."""

    run_id: str
    run_time: str
    success: bool
    findings_total: int
    status_counts: dict[str, int]
    mismatch_rate: float | None
    current: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            **fields_of(self, "run_id", "run_time", "success", "findings_total"),
            "status_counts": dict(self.status_counts),
            "mismatch_rate": None if self.mismatch_rate is None else round(self.mismatch_rate, 6),
            "current": self.current,
        }


@dataclass(frozen=True)
class HistoryView:
    """What the history store says about this run: the trend and the change since the
    previous run. ``new`` / ``fixed`` hold finding identities (dicts of
    :data:`audit.reporting.rundir.IDENTITY_COLUMNS`), ``fixed`` capped at :data:`MAX_FIXED_ROWS`."""

    run_id: str
    previous_run_id: str | None
    runs: tuple[TrendPoint, ...]
    pair_rates: tuple[dict[str, Any], ...]
    new_total: int
    fixed_total: int
    fixed: tuple[dict[str, Any], ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            **fields_of(self, "run_id", "previous_run_id"),
            "runs": [r.to_dict() for r in self.runs],
            "pair_rates": [dict(r) for r in self.pair_rates],
            **fields_of(self, "new_total", "fixed_total"),
            "fixed": [dict(r) for r in self.fixed],
        }


@dataclass(frozen=True)
class ReportData:
    """Everything the HTML report shows, as plain read-only data.

    Paths are relative to OUT_DIR so that the report (and its snapshot) does not depend on
    where the run was written.
    """

    summary: RunSummary
    status_counts: dict[str, int]
    findings_total: int
    findings: tuple[FindingRow, ...]
    max_rows: int
    findings_files: tuple[str, ...]
    gx: tuple[GxSuite, ...]
    data_docs: str | None
    history: HistoryView | None
    warnings: tuple[str, ...] = field(default=())
    #: ``writeback.json`` of a write-back applied after this audit (counts and changes).
    writeback: dict[str, Any] | None = None

    @property
    def truncated(self) -> bool:
        return self.findings_total > len(self.findings)

    @classmethod
    def from_outputs(
        cls,
        out_dir: Path,
        history: Path | None = None,
        max_rows: int = DEFAULT_MAX_ROWS,
        data_docs: DataDocs | None = None,
    ) -> ReportData:
        """Read the report data of the run in ``out_dir``.

        Parameters
        ----------
        out_dir, max_rows
            As for :func:`audit.reporting.report.build_report` (the findings kept are
            those of the most actionable statuses first).
        history
            A history store (:mod:`audit.reporting.history`) that already holds this run; ``None``
            leaves the trend and the new/fixed sections out.
        data_docs
            A :class:`audit.gx.datadocs.DataDocs` built for this run, if any.

        Raises
        ------
        InputError
            ``summary.json`` or the findings are missing or unreadable (the message
            names the file).
        HistoryError
            The history store cannot be read, or does not hold this run.
        """
        out_dir = Path(out_dir)
        if max_rows < 0:
            raise ValueError("max_rows must be >= 0")
        summary = read_summary(out_dir)
        findings = read_findings(out_dir)
        gx_results = read_gx_results(out_dir)
        order = _status_order(findings)
        view, diff = _history_view(history, out_dir, summary) if history is not None else (None, None)
        return cls(
            summary=summary,
            status_counts=_status_counts(findings, order),
            findings_total=findings.height,
            findings=_shown_findings(findings, order, diff, max_rows),
            max_rows=max_rows,
            findings_files=tuple(n for n in (FINDINGS_CSV, FINDINGS_PARQUET) if (out_dir / n).is_file()),
            gx=_gx_suites(gx_results, out_dir, data_docs),
            data_docs=data_docs.index if data_docs is not None else None,
            history=view,
            warnings=_warnings(summary) + (() if gx_results else (NO_GX_WARNING,)),
            writeback=_writeback(out_dir, max_rows),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "summary": self.summary.to_dict(),
            "status_counts": dict(self.status_counts),
            "findings_total": self.findings_total,
            "findings_shown": len(self.findings),
            "max_rows": self.max_rows,
            "truncated": self.truncated,
            "findings_files": list(self.findings_files),
            "findings": [f.to_dict() for f in self.findings],
            "gx": [g.to_dict() for g in self.gx],
            "data_docs": self.data_docs,
            "history": None if self.history is None else self.history.to_dict(),
            "warnings": list(self.warnings),
            "writeback": self.writeback,
        }


def _warnings(summary: RunSummary) -> tuple[str, ...]:
    """The run's warnings, each once: pairs that link under half of their source records
    first (older summaries list them only per pair), then the data warnings."""
    return tuple(dict.fromkeys([*(p.link_warning for p in summary.pairs if p.link_warning), *summary.warnings]))


def _status_order(findings: pl.DataFrame) -> dict[str, int]:
    """Rank of each status: :data:`STATUSES` first, then any other status seen, by name."""
    extra = sorted(set(findings["status"].drop_nulls().to_list()) - set(STATUSES))
    return {s: i for i, s in enumerate([*STATUSES, *extra])}


def _status_counts(findings: pl.DataFrame, order: dict[str, int]) -> dict[str, int]:
    counts = dict(findings.group_by("status").len().iter_rows())
    return {s: int(counts.get(s, 0)) for s in order}


def _shown_findings(
    findings: pl.DataFrame, order: dict[str, int], diff: RunDiff | None, max_rows: int
) -> tuple[FindingRow, ...]:
    """The findings the HTML table shows: by status rank, new ones first within a status,
    then in the engine's own order; ``new`` marked when there is a previous run."""
    import polars as pl

    ranked = findings.with_row_index("_row").with_columns(
        pl.col("status").replace_strict(order, default=len(order), return_dtype=pl.Int32).alias("_rank")
    )
    if diff is not None and diff.previous_run_id is not None:
        marked = diff.new.select(list(IDENTITY_COLUMNS)).unique().with_columns(pl.lit(True).alias("new"))
        ranked = ranked.join(marked, on=list(IDENTITY_COLUMNS), how="left", nulls_equal=True)
        ranked = ranked.with_columns(pl.col("new").fill_null(False))
    else:
        ranked = ranked.with_columns(pl.lit(None, dtype=pl.Boolean).alias("new"))
    shown = ranked.sort(["_rank", "new", "_row"], descending=[False, True, False], nulls_last=True)
    shown = shown.head(max_rows).select([*FINDING_COLUMNS, "new"])
    return tuple(FindingRow(**r) for r in shown.iter_rows(named=True))


def _gx_suites(results: tuple[GxResult, ...], out_dir: Path, data_docs: DataDocs | None) -> tuple[GxSuite, ...]:
    pages = data_docs.pages if data_docs is not None else {}
    return tuple(
        GxSuite(
            file=r.file.relative_to(out_dir).as_posix(),
            suite_name=r.suite_name,
            success=r.success,
            evaluated=r.evaluated,
            successful=r.successful,
            docs_page=pages.get(r.slug),
        )
        for r in results
    )


#: Fields of one written change that the report shows.
WRITEBACK_FIELDS = ("side", "entity", "record_id", "field", "old_value", "new_value", "status", "verified", "detail")


def _writeback(out_dir: Path, max_rows: int) -> dict[str, Any] | None:
    """What a write-back after this audit did (``OUT_DIR/writeback.json``), or ``None``."""
    path = out_dir / "writeback.json"
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: not readable as JSON ({exc})") from None
    changes = [{k: c.get(k) for k in WRITEBACK_FIELDS} for c in data.get("changes", [])]
    return {
        "generated_at": data.get("generated_at"),
        "dry_run": data.get("dry_run"),
        "tripped": data.get("tripped"),
        "policy": data.get("policy"),
        "counts": data.get("counts", {}),
        "changes": changes[:max_rows],
        "changes_total": len(changes),
    }


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def _history_view(store: Path, out_dir: Path, summary: RunSummary) -> tuple[HistoryView, RunDiff]:
    """The history section and the :class:`audit.reporting.history.RunDiff` of the run in ``out_dir``."""
    import polars as pl

    from audit.reporting.history import compare_last, pair_trend, run_id_for, trend

    run_id = run_id_for(out_dir)
    diff = compare_last(store, run_id=run_id)
    tenants = {"flow": summary.flow, "source": summary.source_label, "target": summary.target_label}
    series, rates = trend(store, **tenants), pair_trend(store, **tenants)
    fixed = diff.fixed.sort(pl.all(), nulls_last=True).head(MAX_FIXED_ROWS)
    view = HistoryView(
        run_id=run_id,
        previous_run_id=diff.previous_run_id,
        runs=_trend_points(series, run_id),
        pair_rates=_pair_rates(rates),
        new_total=diff.new.height,
        fixed_total=diff.fixed.height,
        fixed=tuple(fixed.iter_rows(named=True)),
    )
    return view, diff


def _trend_points(series: pl.DataFrame, run_id: str) -> tuple[TrendPoint, ...]:
    """The rows of :func:`audit.reporting.history.trend` as trend points (``run_id`` current)."""
    from audit.reporting.history import TREND_COLUMNS

    not_counts = {*TREND_COLUMNS, "mismatch_rate"}
    status_cols = [c for c in series.columns if c not in not_counts]
    return tuple(
        TrendPoint(
            run_id=r["run_id"],
            run_time=_iso(r["run_time"]),
            success=r["success"],
            findings_total=r["findings_total"],
            status_counts={s: r[s] for s in status_cols},
            mismatch_rate=r["mismatch_rate"],
            current=r["run_id"] == run_id,
        )
        for r in series.iter_rows(named=True)
    )


def _pair_rates(rates: pl.DataFrame) -> tuple[dict[str, Any], ...]:
    """Per run and pair of :func:`audit.reporting.history.pair_trend`: the two rates, rounded."""
    return tuple(
        {
            "run_time": _iso(r["run_time"]),
            "pair": r["pair"],
            "mismatch_rate": None if r["mismatch_rate"] is None else round(r["mismatch_rate"], 6),
            "link_coverage": None if r["link_coverage"] is None else round(r["link_coverage"], 6),
        }
        for r in rates.select("run_time", "pair", "mismatch_rate", "link_coverage").iter_rows(named=True)
    )
