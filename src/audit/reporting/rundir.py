"""Reading the output directory of ``audit run`` (OUT_DIR) into typed, read-only data.

The engine writes, per the contract:

- ``findings.parquet`` / ``findings.csv``: one row per problem (:data:`FINDING_COLUMNS`);
- ``summary.json``: the run's headline and per pair counts;
- ``gx/<pair-slug>.json``: a Great Expectations ``ExpectationSuiteValidationResult``
  (``to_json_dict()``) per pair.

The key names inside ``summary.json`` belong to the engine. This module is the ONE place
that knows them: :data:`SUMMARY_FIELDS`, :data:`PAIR_FIELDS`, :data:`PROPERTY_FIELDS` and
:data:`RESOLUTION_FIELDS` map each field the report and the history use to the key (a
dotted path for nested keys) it is read from. When the engine renames a key, change the
mapping, nothing else. Fields other than ``success`` are optional: a missing one reads as
``None`` (or 0 for counts, ``[]`` for lists), so an older or leaner summary still reports.

The objects read are those of :mod:`audit.reporting.run_data` (re-exported here). Nothing
here renders or stores anything; :mod:`audit.reporting.report` and
:mod:`audit.reporting.history` build on these readers.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from audit.core.findings import FINDINGS_COLUMNS
from audit.errors import InputError
from audit.reporting.run_data import DEFAULT_FAILING, GxResult, PairSummary, PropertyCheck, Resolution, RunSummary

if TYPE_CHECKING:  # pragma: no cover
    import polars as pl

#: Columns of findings.parquet / findings.csv, in contract order (all strings).
FINDING_COLUMNS = FINDINGS_COLUMNS

#: The columns that identify a finding from one run to the next (values excluded).
IDENTITY_COLUMNS = ("pair", "source_key", "target_key", "source_property", "target_property", "status")

#: Finding statuses, most actionable first (the order of tables and charts).
STATUSES = (
    "mismatch",
    "missing_in_target",
    "ambiguous_link",
    "type_violation",
    "unresolved_property",
    "duplicate_id",
    "missing_id",
    "expectation_failed",
    "missing_in_source",
)

#: Report field -> summary.json key (top level).
SUMMARY_FIELDS = {
    "success": "success",
    "flow": "flow.file",
    "flow_title": "flow.title",
    "source": "source",
    "target": "target",
    "source_label": "source_label",
    "target_label": "target_label",
    "failing_statuses": "failing_statuses",
    "started_at": "started_at",
    "finished_at": "finished_at",
    "pairs": "pairs",
}

#: Report field -> key inside one element of ``pairs``.
PAIR_FIELDS = {
    "pair": "pair",
    "source_entity": "source_entity",
    "target_entity": "target_entity",
    "source_records": "source_records",
    "target_records": "target_records",
    "linked": "linked",
    "link_method": "link_method",
    "link_warning": "link_warning",
    "missing_in_target": "missing_in_target",
    "missing_in_source": "missing_in_source",
    "ambiguous": "ambiguous_links",
    "properties": "properties",
}

#: Report field -> key inside one element of a pair's ``properties``.
PROPERTY_FIELDS = {
    "source": "source",
    "target": "target",
    "policy": "mode",
    "checked": "checked",
    "failing": "failing",
    "source_resolution": "source_resolution",
    "target_resolution": "target_resolution",
}

#: Report field -> key inside a ``source_resolution`` / ``target_resolution`` object.
RESOLUTION_FIELDS = {"path": "path", "column": "column", "via": "via"}

SUMMARY_FILE = "summary.json"
FINDINGS_PARQUET = "findings.parquet"
FINDINGS_CSV = "findings.csv"
GX_DIR = "gx"


def _get(obj: dict[str, Any], key: str, default: Any = None) -> Any:
    """Read ``key`` (dotted for nested objects) from ``obj``; ``default`` when absent."""
    cur: Any = obj
    for part in key.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return default
        cur = cur[part]
    return default if cur is None else cur


def _count(obj: dict[str, Any], key: str, where: str) -> int:
    value = _get(obj, key, 0)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(f"{where}: {key!r} must be a number, got {value!r}")
    return int(value)



def _resolution(obj: Any) -> Resolution:
    obj = obj if isinstance(obj, dict) else {}
    return Resolution(*(_get(obj, RESOLUTION_FIELDS[f]) for f in ("path", "column", "via")))


def _require_dir(out_dir: Path) -> Path:
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        raise InputError(f"{out_dir}: not a directory (expected the output directory of `audit run`)")
    return out_dir


def read_summary_object(out_dir: Path) -> dict[str, Any]:
    """``OUT_DIR/summary.json`` as the JSON object it holds, its fields unchecked.

    Raises
    ------
    InputError
        The file is missing, is not JSON (the message gives the line) or not an object;
        the message names the file.
    """
    path = _require_dir(out_dir) / SUMMARY_FILE
    if not path.is_file():
        raise InputError(f"{path}: missing (the run summary `audit run` writes)")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}:{exc.lineno}: not valid JSON: {exc.msg} at column {exc.colno}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot be read: {exc}") from None
    if not isinstance(raw, dict):
        raise InputError(f"{path}: expected a JSON object")
    return raw


def read_summary(out_dir: Path) -> RunSummary:
    """Read ``OUT_DIR/summary.json`` through the field mappings of this module.

    Raises
    ------
    InputError
        The file is missing, is not JSON (the message gives the line), or lacks
        ``success``; the message names the file.
    """
    path = Path(out_dir) / SUMMARY_FILE
    raw = read_summary_object(out_dir)
    success = _get(raw, SUMMARY_FIELDS["success"])
    if not isinstance(success, bool):
        raise InputError(f"{path}: {SUMMARY_FIELDS['success']!r} must be true or false, got {success!r}")
    pairs_raw = _get(raw, SUMMARY_FIELDS["pairs"], [])
    if not isinstance(pairs_raw, list):
        raise InputError(f"{path}: {SUMMARY_FIELDS['pairs']!r} must be a list")
    pairs = tuple(_pair(p, f"{path}: pairs[{i}]") for i, p in enumerate(pairs_raw))

    def text(field: str) -> str | None:
        value = _get(raw, SUMMARY_FIELDS[field])
        return None if value is None else str(value)

    return RunSummary(
        success=success,
        flow=text("flow"),
        flow_title=text("flow_title"),
        source=text("source"),
        target=text("target"),
        # an older summary has no labels: its tenants are named by their paths
        source_label=text("source_label") or text("source"),
        target_label=text("target_label") or text("target"),
        failing_statuses=_failing(_get(raw, SUMMARY_FIELDS["failing_statuses"])),
        started_at=text("started_at"),
        finished_at=text("finished_at"),
        pairs=pairs,
        warnings=tuple(str(w) for w in raw.get("warnings") or ()),
    )


def _failing(value: Any) -> tuple[str, ...]:
    """The summary's failing statuses; the default policy's when it does not list them."""
    return tuple(str(s) for s in value) if isinstance(value, list) else DEFAULT_FAILING


def _pair(obj: Any, where: str) -> PairSummary:
    if not isinstance(obj, dict):
        raise InputError(f"{where}: expected an object")
    name = _get(obj, PAIR_FIELDS["pair"])
    if not name:
        raise InputError(f"{where}: {PAIR_FIELDS['pair']!r} is missing")
    props_raw = _get(obj, PAIR_FIELDS["properties"], [])
    if not isinstance(props_raw, list):
        raise InputError(f"{where}: {PAIR_FIELDS['properties']!r} must be a list")
    props = [_property(p, f"{where}.properties[{i}]") for i, p in enumerate(props_raw)]
    return PairSummary(
        pair=str(name),
        source_entity=_get(obj, PAIR_FIELDS["source_entity"]),
        target_entity=_get(obj, PAIR_FIELDS["target_entity"]),
        source_records=_count(obj, PAIR_FIELDS["source_records"], where),
        target_records=_count(obj, PAIR_FIELDS["target_records"], where),
        linked=_count(obj, PAIR_FIELDS["linked"], where),
        link_method=_get(obj, PAIR_FIELDS["link_method"]),
        missing_in_target=_count(obj, PAIR_FIELDS["missing_in_target"], where),
        missing_in_source=_count(obj, PAIR_FIELDS["missing_in_source"], where),
        ambiguous=_count(obj, PAIR_FIELDS["ambiguous"], where),
        properties=tuple(props),
        link_warning=_get(obj, PAIR_FIELDS["link_warning"]),
    )


def _property(obj: Any, where: str) -> PropertyCheck:
    if not isinstance(obj, dict):
        raise InputError(f"{where}: expected an object")
    return PropertyCheck(
        source=str(_get(obj, PROPERTY_FIELDS["source"], "")),
        target=str(_get(obj, PROPERTY_FIELDS["target"], "")),
        policy=_get(obj, PROPERTY_FIELDS["policy"]),
        checked=_count(obj, PROPERTY_FIELDS["checked"], where),
        failing=_count(obj, PROPERTY_FIELDS["failing"], where),
        source_resolution=_resolution(_get(obj, PROPERTY_FIELDS["source_resolution"])),
        target_resolution=_resolution(_get(obj, PROPERTY_FIELDS["target_resolution"])),
    )


def findings_file(out_dir: Path) -> Path:
    """The findings file to read: ``findings.parquet``, else ``findings.csv``.

    Raises
    ------
    InputError
        Neither exists; the message names ``findings.parquet``.
    """
    out_dir = _require_dir(out_dir)
    for name in (FINDINGS_PARQUET, FINDINGS_CSV):
        if (out_dir / name).is_file():
            return out_dir / name
    raise InputError(f"{out_dir / FINDINGS_PARQUET}: missing (and no {FINDINGS_CSV} either)")


def read_findings(out_dir: Path, columns: tuple[str, ...] = FINDING_COLUMNS) -> pl.DataFrame:
    """Read the run's findings (Parquet preferred, CSV otherwise) as all-string columns.

    Parameters
    ----------
    out_dir
        The ``audit run`` output directory.
    columns
        The columns to return, in this order (default: all contract columns).

    Raises
    ------
    InputError
        No findings file, a file that cannot be read, or a contract column missing; the
        message names the file.
    """
    import polars as pl

    path = findings_file(out_dir)
    try:
        if path.suffix == ".parquet":
            frame = pl.read_parquet(path, glob=False)
        else:
            frame = pl.read_csv(path, glob=False, infer_schema=False, missing_utf8_is_empty_string=False)
    except Exception as exc:  # polars raises several unrelated types for bad files
        raise InputError(f"{path}: cannot be read: {exc}") from None
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(f"{path}: missing column(s) {', '.join(missing)}")
    return frame.select([pl.col(c).cast(pl.Utf8) for c in columns])


def read_gx_results(out_dir: Path) -> tuple[GxResult, ...]:
    """Read every ``OUT_DIR/gx/*.json`` validation result, sorted by file name.

    A missing ``gx`` directory gives ``()``.

    Raises
    ------
    InputError
        A file that is not JSON or not a validation result; the message names it.
    """
    gx_dir = _require_dir(out_dir) / GX_DIR
    if not gx_dir.is_dir():
        return ()
    return tuple(_gx_result(path) for path in sorted(gx_dir.glob("*.json")))


def _gx_result(path: Path) -> GxResult:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}:{exc.lineno}: not valid JSON: {exc.msg} at column {exc.colno}") from None
    results = raw.get("results") if isinstance(raw, dict) else None
    listed = isinstance(results, list) and all(isinstance(r, dict) for r in results)
    if not listed or not isinstance(raw.get("success"), bool):
        raise InputError(f"{path}: not a Great Expectations validation result")
    stats = raw.get("statistics") or {}
    return GxResult(
        file=path,
        suite_name=str(raw.get("suite_name") or path.stem),
        success=raw["success"],
        evaluated=int(stats.get("evaluated_expectations", len(raw["results"]))),
        successful=int(stats.get("successful_expectations", sum(1 for r in raw["results"] if r.get("success")))),
        raw=raw,
    )
