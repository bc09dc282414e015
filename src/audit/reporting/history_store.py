"""The run history store: writing and reading the per-run files.

Storage
-------
One Parquet file per run, ``STORE/runs/<run time>-<run id>.parquet``, holding one row:
the run's headline (flow, tenants and their labels, times, success), its findings count per status, per
pair counts and mismatch rate (a list of structs), and the identities of its findings
(:data:`audit.reporting.rundir.IDENTITY_COLUMNS`, no values, so the store stays small).

Why Parquet files rather than one DuckDB database: recording a run only ever *adds* a
file (written to a temporary name, then renamed into place), so a crash, a full disk or
two nightly jobs at once can never truncate or lock earlier history; a damaged file
spoils only itself and is named in the error; and the files read with polars, DuckDB
(``SELECT * FROM 'STORE/runs/*.parquet'``) or pandas without a server or a schema
migration step.

Recording is idempotent: the run id is a digest of ``summary.json``, so recording the
same output directory twice keeps one entry. The comparisons over the stored runs
(trend, new / fixed findings) are in :mod:`audit.reporting.history`.
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
from audit.reporting.run_data import RunSummary, fields_of
from audit.reporting.rundir import IDENTITY_COLUMNS, SUMMARY_FILE, read_findings, read_summary

if TYPE_CHECKING:  # pragma: no cover
    import polars as pl

#: Where runs are recorded unless told otherwise (relative to the working directory).
DEFAULT_STORE = Path("reports/history")

#: Version of the per-run file layout; files of a newer version are refused, not misread.
#: 2 added the tenants' labels (``source_label``, ``target_label``); a layout 1 file reads
#: with its paths as labels.
SCHEMA_VERSION = 2

#: Label columns, each with the path column an older file's label is taken from.
LABEL_COLUMNS = {"source_label": "source", "target_label": "target"}

RUNS_DIR = "runs"

#: Columns copied from the run summary's headline as they are.
_HEADLINE_COLUMNS = (
    "started_at",
    "finished_at",
    "flow",
    "flow_title",
    "source",
    "target",
    "source_label",
    "target_label",
    "success",
)

_RUN_COLUMNS = (
    "schema_version",
    "run_id",
    "run_time",
    "recorded_at",
    *_HEADLINE_COLUMNS,
    "out_dir",
    "findings_total",
    "status_counts",
)

#: Fields of one element of a run's ``pairs`` list, as the pair summaries name them.
_PAIR_COLUMNS = (
    "pair",
    "source_records",
    "target_records",
    "linked",
    "link_method",
    "missing_in_target",
    "missing_in_source",
    "ambiguous",
    "checked",
    "failing",
    "link_coverage",
    "mismatch_rate",
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
    source_label: str | None = None
    target_label: str | None = None
    created: bool = field(default=True, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "run_time": self.run_time.isoformat(),
            **fields_of(self, "flow", "source", "target", "source_label", "target_label"),
            **fields_of(self, "success", "findings_total"),
            "status_counts": dict(self.status_counts),
            "file": str(self.file),
            "created": self.created,
        }


def _schema() -> dict[str, Any]:
    import polars as pl

    not_counts = {"pair": pl.Utf8, "link_method": pl.Utf8, "link_coverage": pl.Float64, "mismatch_rate": pl.Float64}
    pair = pl.Struct({c: not_counts.get(c, pl.Int64) for c in _PAIR_COLUMNS})
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
        "source_label": pl.Utf8,
        "target_label": pl.Utf8,
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
    recorded_at = datetime.now(timezone.utc)
    run_time = _parse_time(summary.started_at) or _parse_time(summary.finished_at) or recorded_at
    run_id = run_id_for(out_dir)

    runs = _runs_dir(store_dir, create=True)
    for existing in runs.glob(f"*-{run_id}.parquet"):
        row = _read_file(existing, _RUN_COLUMNS).row(0, named=True)
        return _record(row, existing, created=False)
    row = {
        "schema_version": SCHEMA_VERSION,
        "run_id": run_id,
        "run_time": run_time,
        "recorded_at": recorded_at,
        **_run_fields(out_dir, summary, findings),
    }
    final = runs / f"{run_time.strftime('%Y%m%dT%H%M%S')}-{run_id}.parquet"
    _write_atomically(pl.DataFrame([row], schema=_schema()), runs, final)
    return _record(row, final, created=True)


def _run_fields(out_dir: Path, summary: RunSummary, findings: pl.DataFrame) -> dict[str, Any]:
    """The fields of a run's row that come from its output directory (all but id and times)."""
    return {
        **{c: getattr(summary, c) for c in _HEADLINE_COLUMNS},
        "out_dir": str(out_dir.resolve()),
        "findings_total": findings.height,
        "status_counts": _status_counts(findings),
        "pairs": [{c: getattr(p, c) for c in _PAIR_COLUMNS} for p in summary.pairs],
        "findings": findings.select(IDENTITY_COLUMNS).unique(maintain_order=True).to_dicts(),
    }


def _status_counts(findings: pl.DataFrame) -> list[dict[str, Any]]:
    counts = findings.group_by("status").len().sort("status")
    return [{"status": s, "count": int(n)} for s, n in counts.iter_rows()]


def _write_atomically(frame: pl.DataFrame, runs: Path, final: Path) -> None:
    """Write beside the final name, then rename: a reader never sees half a file and an
    interrupted write leaves only a stray temporary file, never a damaged run."""
    fd, tmp_name = tempfile.mkstemp(prefix=".tmp-", suffix=".parquet", dir=runs)
    os.close(fd)
    try:
        frame.write_parquet(tmp_name)
        os.chmod(tmp_name, 0o666 & ~_umask())  # mkstemp made it private; use the usual mode
        os.replace(tmp_name, final)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


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
        source_label=row["source_label"],
        target_label=row["target_label"],
        success=row["success"],
        findings_total=row["findings_total"],
        status_counts={d["status"]: d["count"] for d in row["status_counts"]},
        file=file,
        created=created,
    )


def _read_file(path: Path, columns: tuple[str, ...] | None) -> pl.DataFrame:
    import polars as pl

    try:
        frame = _with_labels(pl.read_parquet(path, glob=False, columns=_present(path, columns)), columns)
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


def _present(path: Path, columns: tuple[str, ...] | None) -> list[str] | None:
    """``columns`` the file has, plus the path columns older files' labels come from."""
    if columns is None:
        return None
    import polars as pl

    have = pl.read_parquet_schema(path)
    wanted = [*columns, *(LABEL_COLUMNS[c] for c in columns if c in LABEL_COLUMNS)]
    return [c for c in dict.fromkeys(wanted) if c in have]


def _with_labels(frame: pl.DataFrame, columns: tuple[str, ...] | None) -> pl.DataFrame:
    """A layout 1 file's run, its tenants labelled by their paths; only ``columns`` kept."""
    import polars as pl

    order = list(columns) if columns is not None else [c for c in _schema() if c in frame.columns or c in LABEL_COLUMNS]
    missing = [label for label in LABEL_COLUMNS if label in order and label not in frame.columns]
    return frame.with_columns(pl.col(LABEL_COLUMNS[label]).alias(label) for label in missing).select(order)


def read_runs(store_dir: Path, columns: tuple[str, ...] | None = None) -> pl.DataFrame:
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


def read_identities(store_dir: Path, run_id: str) -> pl.DataFrame:
    """The finding identities of one stored run, sorted (columns ``IDENTITY_COLUMNS``)."""
    import polars as pl

    runs = _runs_dir(store_dir, create=False)
    files = sorted(runs.glob(f"*-{run_id}.parquet"))
    if not files:
        raise HistoryError(f"{runs}: no file for run {run_id!r}")
    frame = _read_file(files[0], ("schema_version", "findings"))
    out = frame.select(pl.col("findings").explode()).drop_nulls("findings").unnest("findings")
    return out.select(list(IDENTITY_COLUMNS)).sort(list(IDENTITY_COLUMNS), nulls_last=True)
