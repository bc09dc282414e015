"""The run history: every audit run's summary and finding identities, kept over time.

The store itself (one Parquet file per run, written once) is
:mod:`audit.reporting.history_store`; this module compares the runs it holds. Both
modules' public names are importable from here.

Public API
----------
- :func:`record_run` adds a run (an ``audit run`` output directory) to a store.
- :func:`trend` one row per run: time, flow, tenants, success, findings per status.

A series is the runs of one flow and one pair of tenants, the tenants identified by their
labels (:mod:`audit.core.tenant_label`: the job's label, the snapshot manifest's tenant,
else the path), so runs on freshly fetched, dated snapshot folders still form a trend.
- :func:`pair_trend` one row per run and pair: link coverage and mismatch rate.
- :func:`run_id_for` the id a run directory is recorded under.
- :func:`diff_last` finding identities new / fixed since the previous run of the same
  flow and tenants; :func:`compare_last` the same with the run ids compared.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from audit.reporting.history_store import (
    DEFAULT_STORE,
    RUNS_DIR,
    SCHEMA_VERSION,
    HistoryError,
    RunRecord,
    read_identities,
    read_runs,
    record_run,
    run_id_for,
)
from audit.reporting.rundir import IDENTITY_COLUMNS, STATUSES

if TYPE_CHECKING:  # pragma: no cover
    import polars as pl

__all__ = [
    "DEFAULT_STORE",
    "IDENTITY_COLUMNS",
    "RUNS_DIR",
    "SCHEMA_VERSION",
    "TREND_COLUMNS",
    "HistoryError",
    "RunDiff",
    "RunRecord",
    "compare_last",
    "diff_last",
    "pair_trend",
    "record_run",
    "run_id_for",
    "trend",
]

#: Columns of :func:`trend` besides one count column per status.
TREND_COLUMNS = (
    "run_id",
    "run_time",
    "flow",
    "flow_title",
    "source",
    "target",
    "source_label",
    "target_label",
    "success",
    "findings_total",
)


#: What identifies a run's series: its flow and its tenants (paths and labels).
_IDENTITY = ("flow", "source", "target", "source_label", "target_label")


def _filter(frame: pl.DataFrame, flow: str | None, source: str | None, target: str | None) -> pl.DataFrame:
    import polars as pl

    if flow is not None:
        frame = frame.filter(pl.col("flow") == flow)
    for side, value in (("source", source), ("target", target)):
        if value is not None:  # a tenant's label; its snapshot path matches too
            frame = frame.filter((pl.col(f"{side}_label") == value) | (pl.col(side) == value))
    return frame


def _series(
    store_dir: Path, columns: tuple[str, ...], flow: str | None, source: str | None, target: str | None
) -> pl.DataFrame:
    """The store's runs (``columns`` of them) of one flow and pair of tenants, oldest first."""
    return _filter(read_runs(store_dir, (*columns, *_IDENTITY)), flow, source, target)


def trend(
    store_dir: Path = DEFAULT_STORE,
    flow: str | None = None,
    source: str | None = None,
    target: str | None = None,
) -> pl.DataFrame:
    """One row per recorded run, oldest first.

    Parameters
    ----------
    store_dir
        The history store.
    flow, source, target
        Keep only runs of this flow document / source tenant / target tenant (a tenant's
        label, or its snapshot path), compared as the summaries wrote them (``None``: any).

    Returns
    -------
    polars.DataFrame
        :data:`TREND_COLUMNS`, then one count column per finding status (those of
        :data:`audit.reporting.rundir.STATUSES`, then any other status seen), then
        ``mismatch_rate``: failing / checked over every pair's properties.

    Raises
    ------
    HistoryError
        A run file of the store cannot be read (the message names it).
    """
    import polars as pl

    runs = _series(store_dir, (*TREND_COLUMNS, "status_counts", "pairs"), flow, source, target)
    seen = {d["status"] for counts in runs["status_counts"].to_list() for d in counts}
    statuses = [*STATUSES, *sorted(seen - set(STATUSES))]
    count_cols = [
        pl.col("status_counts")
        .list.eval(pl.element().filter(pl.element().struct.field("status") == s).struct.field("count"))
        .list.sum()
        .fill_null(0)
        .cast(pl.Int64)
        .alias(s)
        for s in statuses
    ]
    checked = pl.col("pairs").list.eval(pl.element().struct.field("checked")).list.sum()
    failing = pl.col("pairs").list.eval(pl.element().struct.field("failing")).list.sum()
    rate = pl.when(checked > 0).then(failing / checked).otherwise(None).alias("mismatch_rate")
    return runs.select(*TREND_COLUMNS, *count_cols, rate)


def pair_trend(
    store_dir: Path = DEFAULT_STORE,
    flow: str | None = None,
    source: str | None = None,
    target: str | None = None,
) -> pl.DataFrame:
    """One row per recorded run and pair, oldest run first.

    Columns: ``run_id``, ``run_time``, ``pair``, ``source_records``, ``target_records``,
    ``linked``, ``link_method``, ``missing_in_target``, ``missing_in_source``,
    ``ambiguous``, ``checked``, ``failing``, ``link_coverage``, ``mismatch_rate``.
    Filters as in :func:`trend`.
    """
    runs = _series(store_dir, ("run_id", "run_time", "pairs"), flow, source, target)
    return runs.select("run_id", "run_time", "pairs").explode("pairs").drop_nulls("pairs").unnest("pairs")


@dataclass(frozen=True)
class RunDiff:
    """Finding identities of one run against the previous run of its flow and tenants.

    ``previous_run_id`` is ``None`` when the run is the first one recorded; ``new`` and
    ``fixed`` are then empty.
    """

    run_id: str
    previous_run_id: str | None
    new: pl.DataFrame
    fixed: pl.DataFrame


def compare_last(
    store_dir: Path = DEFAULT_STORE,
    flow: str | None = None,
    source: str | None = None,
    target: str | None = None,
    run_id: str | None = None,
) -> RunDiff:
    """Compare a run's finding identities with the run before it.

    Parameters
    ----------
    store_dir
        The history store.
    flow, source, target
        Which runs form the series. Left ``None``, they are taken from the compared run,
        so "the previous run" is always one of the same flow and tenants.
    run_id
        The run to compare (default: the latest run matching the filters).

    Returns
    -------
    RunDiff
        ``new``: identities in the run but not in the previous one; ``fixed``: in the
        previous run but not in this one. Columns :data:`audit.reporting.rundir.IDENTITY_COLUMNS`.

    Raises
    ------
    HistoryError
        The store holds no matching run, ``run_id`` is not in it, or a run file is
        unreadable.
    """
    runs = read_runs(store_dir, ("run_id", "run_time", *_IDENTITY))
    current = _compared_run(runs, Path(store_dir), flow, source, target, run_id)
    previous_id = _previous_run_id(runs, current, flow, source, target)
    this = read_identities(store_dir, current["run_id"])
    if previous_id is None:
        empty = this.clear()
        return RunDiff(current["run_id"], None, empty, empty)
    before = read_identities(store_dir, previous_id)
    cols = list(IDENTITY_COLUMNS)
    new = this.join(before, on=cols, how="anti", nulls_equal=True)
    fixed = before.join(this, on=cols, how="anti", nulls_equal=True)
    return RunDiff(current["run_id"], previous_id, new, fixed)


def _compared_run(
    runs: pl.DataFrame, store_dir: Path, flow: str | None, source: str | None, target: str | None, run_id: str | None
) -> dict[str, Any]:
    """The row of the run :func:`compare_last` compares: ``run_id``, else the latest match."""
    import polars as pl

    if run_id is not None:
        chosen = runs.filter(pl.col("run_id") == run_id)
        if chosen.is_empty():
            raise HistoryError(f"{store_dir}: no recorded run {run_id!r}")
    else:
        chosen = _filter(runs, flow, source, target).tail(1)
        if chosen.is_empty():
            raise HistoryError(f"{store_dir}: no recorded run of flow={flow!r} source={source!r} target={target!r}")
    return chosen.row(0, named=True)


def _previous_run_id(
    runs: pl.DataFrame, current: dict[str, Any], flow: str | None, source: str | None, target: str | None
) -> str | None:
    """The run just before ``current`` in its series (filters left ``None`` taken from it)."""
    series = _filter(
        runs,
        current["flow"] if flow is None else flow,
        current["source_label"] if source is None else source,
        current["target_label"] if target is None else target,
    )
    # The series is sorted by time; the previous run is the one just before this one.
    ids = series["run_id"].to_list()
    position = ids.index(current["run_id"]) if current["run_id"] in ids else len(ids)
    return ids[position - 1] if position > 0 else None


def diff_last(
    store_dir: Path = DEFAULT_STORE,
    flow: str | None = None,
    source: str | None = None,
    target: str | None = None,
    run_id: str | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``(new, fixed)`` finding identities since the previous run; see :func:`compare_last`."""
    diff = compare_last(store_dir, flow=flow, source=source, target=target, run_id=run_id)
    return diff.new, diff.fixed
