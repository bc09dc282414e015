"""The run history: every audit run's summary and finding identities, kept over time.

Storage
-------
One Parquet file per run, ``STORE/runs/<run time>-<run id>.parquet``, holding one row:
the run's headline (flow, tenants, times, success), its findings count per status, per
pair counts and mismatch rate (a list of structs), and the identities of its findings
(:data:`audit.reporting.rundir.IDENTITY_COLUMNS`, no values, so the store stays small).

Why Parquet files rather than one DuckDB database: recording a run only ever *adds* a
file (written to a temporary name, then renamed into place), so a crash, a full disk or
two nightly jobs at once can never truncate or lock earlier history; a damaged file
spoils only itself and is named in the error; and the files read with polars, DuckDB
(``SELECT * FROM 'STORE/runs/*.parquet'``) or pandas without a server or a schema
migration step.

Recording is idempotent: the run id is a digest of ``summary.json``, so recording the
same output directory twice keeps one entry.

Public API
----------
- :func:`record_run` adds a run (an ``audit run`` output directory) to a store.
- :func:`trend` one row per run: time, flow, tenants, success, findings per status.
- :func:`pair_trend` one row per run and pair: link coverage and mismatch rate.
- :func:`run_id_for` the id a run directory is recorded under.
- :func:`diff_last` finding identities new / fixed since the previous run of the same
  flow and tenants; :func:`compare_last` the same with the run ids compared.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from audit.errors import InputError
from audit.reporting.rundir import IDENTITY_COLUMNS, STATUSES, SUMMARY_FILE, read_findings, read_summary

if TYPE_CHECKING:  # pragma: no cover
    import polars as pl

#: Where runs are recorded unless told otherwise (relative to the working directory).
DEFAULT_STORE = Path("reports/history")

#: Version of the per-run file layout; files of a newer version are refused, not misread.
SCHEMA_VERSION = 1

RUNS_DIR = "runs"

#: Columns of :func:`trend` besides one count column per status.
TREND_COLUMNS = (
    "run_id",
    "run_time",
    "flow",
    "flow_title",
    "source",
    "target",
    "success",
    "findings_total",
)

_RUN_COLUMNS = (
    "schema_version",
    "run_id",
    "run_time",
    "recorded_at",
    "started_at",
    "finished_at",
    "flow",
    "flow_title",
    "source",
    "target",
    "success",
    "out_dir",
    "findings_total",
    "status_counts",
)


class HistoryError(InputError):
    """A history store that cannot be used; the message names the file or directory.

    Nothing in the store is changed when this is raised.
    """


@dataclass(frozen=True)
class RunRecord:
    """One recorded run, as :func:`record_run` stored (or found) it."""

    run_id: str
    run_time: datetime
    flow: str | None
    source: str | None
    target: str | None
    success: bool
    findings_total: int
    status_counts: dict[str, int]
    file: Path
    created: bool = field(default=True, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "run_time": self.run_time.isoformat(),
            "flow": self.flow,
            "source": self.source,
            "target": self.target,
            "success": self.success,
            "findings_total": self.findings_total,
            "status_counts": dict(self.status_counts),
            "file": str(self.file),
            "created": self.created,
        }


def _schema() -> dict[str, Any]:
    import polars as pl

    pair = pl.Struct(
        {
            "pair": pl.Utf8,
            "source_records": pl.Int64,
            "target_records": pl.Int64,
            "linked": pl.Int64,
            "link_method": pl.Utf8,
            "missing_in_target": pl.Int64,
            "missing_in_source": pl.Int64,
            "ambiguous": pl.Int64,
            "checked": pl.Int64,
            "failing": pl.Int64,
            "link_coverage": pl.Float64,
            "mismatch_rate": pl.Float64,
        }
    )
    return {
        "schema_version": pl.Int32,
        "run_id": pl.Utf8,
        "run_time": pl.Datetime("us", "UTC"),
        "recorded_at": pl.Datetime("us", "UTC"),
        "started_at": pl.Utf8,
        "finished_at": pl.Utf8,
        "flow": pl.Utf8,
        "flow_title": pl.Utf8,
        "source": pl.Utf8,
        "target": pl.Utf8,
        "success": pl.Boolean,
        "out_dir": pl.Utf8,
        "findings_total": pl.Int64,
        "status_counts": pl.List(pl.Struct({"status": pl.Utf8, "count": pl.Int64})),
        "pairs": pl.List(pair),
        "findings": pl.List(pl.Struct({c: pl.Utf8 for c in IDENTITY_COLUMNS})),
    }


def _parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def run_id_for(out_dir: Path) -> str:
    """The id under which the run in ``out_dir`` is (or would be) recorded.

    A digest of ``summary.json``; when the summary has no start or finish time, the file's
    modification time is mixed in, so that identical summaries of different runs differ.
    """
    summary = read_summary(out_dir)
    path = Path(out_dir) / SUMMARY_FILE
    digest = hashlib.sha256(path.read_bytes())
    if _parse_time(summary.started_at) is None and _parse_time(summary.finished_at) is None:
        digest.update(str(path.stat().st_mtime_ns).encode())
    return digest.hexdigest()[:16]


def _runs_dir(store_dir: Path, create: bool) -> Path:
    store_dir = Path(store_dir)
    if store_dir.exists() and not store_dir.is_dir():
        raise HistoryError(f"{store_dir}: not a directory (expected a run history store)")
    runs = store_dir / RUNS_DIR
    if runs.exists() and not runs.is_dir():
        raise HistoryError(f"{runs}: not a directory (expected the store's run files)")
    if create:
        runs.mkdir(parents=True, exist_ok=True)
    return runs


def record_run(out_dir: Path, store_dir: Path = DEFAULT_STORE) -> RunRecord:
    """Add the run in ``out_dir`` to the history store ``store_dir``.

    Parameters
    ----------
    out_dir
        An ``audit run`` output directory (``summary.json`` and the findings).
    store_dir
        The history store; created when missing.

    Returns
    -------
    RunRecord
        The recorded run; ``created`` is False when the same run was already recorded
        (the store is then left as it was).

    Raises
    ------
    InputError
        ``out_dir`` lacks ``summary.json`` or the findings (the message names the file).
    HistoryError
        The store is not usable, or the earlier record of this same run is unreadable.
    """
    import polars as pl

    out_dir = Path(out_dir)
    summary = read_summary(out_dir)
    findings = read_findings(out_dir)
    started = _parse_time(summary.started_at) or _parse_time(summary.finished_at)
    recorded_at = datetime.now(timezone.utc)
    run_time = started or recorded_at
    run_id = run_id_for(out_dir)

    runs = _runs_dir(store_dir, create=True)
    final = runs / f"{run_time.strftime('%Y%m%dT%H%M%S')}-{run_id}.parquet"
    for existing in runs.glob(f"*-{run_id}.parquet"):
        row = _read_file(existing, _RUN_COLUMNS).row(0, named=True)
        return _record(row, existing, created=False)

    counts = findings.group_by("status").len().sort("status")
    status_counts = [{"status": s, "count": int(n)} for s, n in counts.iter_rows()]
    identities = findings.select(IDENTITY_COLUMNS).unique(maintain_order=True).to_dicts()
    pairs = [
        {
            "pair": p.pair,
            "source_records": p.source_records,
            "target_records": p.target_records,
            "linked": p.linked,
            "link_method": p.link_method,
            "missing_in_target": p.missing_in_target,
            "missing_in_source": p.missing_in_source,
            "ambiguous": p.ambiguous,
            "checked": p.checked,
            "failing": p.failing,
            "link_coverage": p.link_coverage,
            "mismatch_rate": p.mismatch_rate,
        }
        for p in summary.pairs
    ]
    row = {
        "schema_version": SCHEMA_VERSION,
        "run_id": run_id,
        "run_time": run_time,
        "recorded_at": recorded_at,
        "started_at": summary.started_at,
        "finished_at": summary.finished_at,
        "flow": summary.flow,
        "flow_title": summary.flow_title,
        "source": summary.source,
        "target": summary.target,
        "success": summary.success,
        "out_dir": str(out_dir.resolve()),
        "findings_total": findings.height,
        "status_counts": status_counts,
        "pairs": pairs,
        "findings": identities,
    }
    frame = pl.DataFrame([row], schema=_schema())
    # Write beside the final name, then rename: a reader never sees half a file and an
    # interrupted write leaves only a stray temporary file, never a damaged run.
    fd, tmp_name = tempfile.mkstemp(prefix=".tmp-", suffix=".parquet", dir=runs)
    os.close(fd)
    try:
        frame.write_parquet(tmp_name)
        os.chmod(tmp_name, 0o666 & ~_umask())  # mkstemp made it private; use the usual mode
        os.replace(tmp_name, final)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return _record(row, final, created=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _record(row: dict[str, Any], file: Path, created: bool) -> RunRecord:
    return RunRecord(
        run_id=row["run_id"],
        run_time=row["run_time"],
        flow=row["flow"],
        source=row["source"],
        target=row["target"],
        success=row["success"],
        findings_total=row["findings_total"],
        status_counts={d["status"]: d["count"] for d in row["status_counts"]},
        file=file,
        created=created,
    )


def _read_file(path: Path, columns: tuple[str, ...] | None) -> pl.DataFrame:
    import polars as pl

    try:
        frame = pl.read_parquet(path, columns=list(columns) if columns else None)
    except Exception as exc:  # polars and arrow raise several types for damaged files
        raise HistoryError(
            f"{path}: unreadable history file ({type(exc).__name__}: {exc}); "
            "move it out of the store to go on (nothing was changed)"
        ) from None
    if frame.height != 1 or ("schema_version" in frame.columns and frame["schema_version"][0] is None):
        raise HistoryError(f"{path}: not a run history file (expected one row with a layout version)")
    if "schema_version" in frame.columns and frame["schema_version"][0] > SCHEMA_VERSION:
        raise HistoryError(
            f"{path}: written by a newer toolkit (layout {frame['schema_version'][0]}, "
            f"this one reads up to {SCHEMA_VERSION})"
        )
    return frame


def _read_runs(store_dir: Path, columns: tuple[str, ...] | None = None) -> pl.DataFrame:
    """All runs of the store (selected columns plus ``schema_version``), oldest first."""
    import polars as pl

    runs = _runs_dir(store_dir, create=False)
    wanted = None if columns is None else tuple(dict.fromkeys(("schema_version", *columns)))
    files = sorted(runs.glob("*.parquet")) if runs.is_dir() else []
    frames = [_read_file(p, wanted) for p in files if not p.name.startswith(".")]
    if not frames:
        schema = _schema()
        names = wanted or tuple(schema)
        return pl.DataFrame(schema={c: schema[c] for c in names})
    return pl.concat(frames, how="vertical").sort("run_time", "run_id")


def _filter(frame: pl.DataFrame, flow: str | None, source: str | None, target: str | None) -> pl.DataFrame:
    import polars as pl

    for name, value in (("flow", flow), ("source", source), ("target", target)):
        if value is not None:
            frame = frame.filter(pl.col(name) == value)
    return frame


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
        Keep only runs of this flow document / source tenant / target tenant, compared
        as the summaries wrote them (``None``: any).

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

    runs = _filter(_read_runs(store_dir, (*TREND_COLUMNS, "status_counts", "pairs")), flow, source, target)
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
    runs = _filter(_read_runs(store_dir, ("run_id", "run_time", "flow", "source", "target", "pairs")),
                   flow, source, target)
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
    import polars as pl

    runs = _read_runs(store_dir, ("run_id", "run_time", "flow", "source", "target"))
    if run_id is not None:
        chosen = runs.filter(pl.col("run_id") == run_id)
        if chosen.is_empty():
            raise HistoryError(f"{Path(store_dir)}: no recorded run {run_id!r}")
    else:
        chosen = _filter(runs, flow, source, target).tail(1)
        if chosen.is_empty():
            raise HistoryError(f"{Path(store_dir)}: no recorded run of flow={flow!r} source={source!r} "
                               f"target={target!r}")
    current = chosen.row(0, named=True)
    series = _filter(
        runs,
        current["flow"] if flow is None else flow,
        current["source"] if source is None else source,
        current["target"] if target is None else target,
    )
    # The series is sorted by time; the previous run is the one just before this one.
    ids = series["run_id"].to_list()
    position = ids.index(current["run_id"]) if current["run_id"] in ids else len(ids)
    previous_id = ids[position - 1] if position > 0 else None

    this = _identities(store_dir, current["run_id"])
    if previous_id is None:
        empty = this.clear()
        return RunDiff(current["run_id"], None, empty, empty)
    before = _identities(store_dir, previous_id)
    cols = list(IDENTITY_COLUMNS)
    new = this.join(before, on=cols, how="anti", nulls_equal=True)
    fixed = before.join(this, on=cols, how="anti", nulls_equal=True)
    return RunDiff(current["run_id"], previous_id, new, fixed)


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


def _identities(store_dir: Path, run_id: str) -> pl.DataFrame:
    import polars as pl

    runs = _runs_dir(store_dir, create=False)
    files = sorted(runs.glob(f"*-{run_id}.parquet"))
    if not files:
        raise HistoryError(f"{runs}: no file for run {run_id!r}")
    frame = _read_file(files[0], ("schema_version", "findings"))
    out = frame.select(pl.col("findings").explode()).drop_nulls("findings").unnest("findings")
    return out.select(list(IDENTITY_COLUMNS)).sort(list(IDENTITY_COLUMNS), nulls_last=True)
