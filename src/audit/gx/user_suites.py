"""The user's own expectations beside each generated suite, and the findings they give.

A pair's generated suite (``expectations/<flow stem>/<pair slug>.json``) is rewritten by
``audit suites``; a user suite next to it, ``<pair slug>.user.json``, is the user's and
is never written by ``audit suites``. It is a Great Expectations suite file (``name``,
``expectations`` with ``type``, ``kwargs`` and optional ``meta``/``severity``) over the
same columns as the generated one (:mod:`audit.gx.columns`: ``source.<path>``,
``target.<path>``, ``link``, ``source_key``, ``target_key``), for example::

    {"name": "my rules", "expectations": [
      {"type": "expect_column_values_to_match_regex",
       "kwargs": {"column": "target.mailAddress.zipCode", "regex": "^\\\\d{4}$"}}]}

``audit run`` validates it on the pair's table in the same run as the generated suite
(:func:`audit.gx.validate.validate`) and every record a user expectation finds
unexpected becomes an ``expectation_failed`` finding (:func:`user_findings`), taken from
GX's complete unexpected-index list with the record keys, not from its sample; a failed
expectation that names no record (a row count, a column's mean) is one finding with GX's
observed value.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl

from audit.core.findings import FINDINGS_COLUMNS, FINDINGS_SCHEMA, PairContext, empty_findings
from audit.errors import ConfigError
from audit.flow.model import Flow, Pair
from audit.gx.columns import KEY_COLUMNS
from audit.gx.suites import flow_stem, pair_slug

__all__ = ["user_suite_path", "load_user_suite", "add_user_expectation", "user_findings", "USER_SUFFIX", "WHERE_KEY"]

#: File-name suffix of a user suite.
USER_SUFFIX = ".user.json"


#: The ``meta`` key of a user expectation naming its file and position in the file.
WHERE_KEY = "defined_in"


def user_suite_path(expectations_dir: str | Path, flow: Flow, pair: Pair) -> Path:
    """``<expectations_dir>/<flow stem>/<pair slug>.user.json``."""
    return Path(expectations_dir) / flow_stem(flow) / f"{pair_slug(pair)}{USER_SUFFIX}"


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}:{exc.lineno}: not a JSON suite: {exc.msg}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text ({exc.reason})") from None
    if not isinstance(data, dict) or not isinstance(data.get("expectations", []), list):
        raise ConfigError(f"{path}: a suite is an object with an 'expectations' list")
    return data


def load_user_suite(path: str | Path):
    """The user suite in ``path`` as a GX ``ExpectationSuite``, or ``None`` when there is
    no such file.

    Raises
    ------
    ConfigError
        The file is not a suite, or an expectation is not one GX knows (names the file and
        the expectation's position).
    """
    path = Path(path)
    if not path.is_file():
        return None
    data = _read(path)
    from audit.gx.suites import _gx

    gx, _ = _gx()
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    expectations = []
    for number, item in enumerate(data.get("expectations", []), start=1):
        if not isinstance(item, dict):
            raise ConfigError(f"{path}: expectation {number}: an object with 'type' and 'kwargs', not {item!r}")
        try:
            config = ExpectationConfiguration(
                type=item["type"],
                kwargs=item.get("kwargs") or {},
                # where it is written, for a warning when it cannot run (summary.user_not_run)
                meta={**(item.get("meta") or {}), WHERE_KEY: f"{path}, expectation {number}"},
                severity=item.get("severity", "critical"),
            )
            expectations.append(config.to_domain_obj())
        except Exception as exc:  # noqa: BLE001 - GX raises many kinds for a bad expectation
            raise ConfigError(f"{path}: expectation {number}: {_reason(exc)}") from None
    return gx.ExpectationSuite(name=str(data.get("name") or path.stem), expectations=expectations)


def _reason(exc: Exception) -> str:
    """Why GX refused an expectation: a missing key, each argument its pydantic model
    rejects (``columnn: extra fields not permitted``), or the first line of the message."""
    if isinstance(exc, KeyError):
        return f"missing {exc.args[0]!r}"
    errors = exc.errors() if callable(getattr(exc, "errors", None)) else None
    if errors:
        return "; ".join(_field_error(e) for e in errors)
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _field_error(error: dict[str, Any]) -> str:
    where = ".".join(str(part) for part in error.get("loc", ()) if part != "__root__")
    return f"{where}: {error.get('msg')}" if where else str(error.get("msg"))


def add_user_expectation(
    expectations_dir: str | Path, flow: Flow, pair: Pair, expectation_type: str, **kwargs: Any
) -> Path:
    """Append one expectation to the pair's user suite (created when missing) and return
    the file; the expectation is checked by GX first, so a bad one never lands."""
    path = user_suite_path(expectations_dir, flow, pair)
    data = _read(path) if path.is_file() else {"name": f"{flow_stem(flow)}.{pair_slug(pair)}.user", "expectations": []}
    data.setdefault("expectations", []).append({"type": expectation_type, "kwargs": kwargs})
    path.parent.mkdir(parents=True, exist_ok=True)
    candidate = path.with_name(path.name + ".tmp")
    candidate.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    try:
        load_user_suite(candidate)
    except ConfigError:
        candidate.unlink()
        raise
    candidate.replace(path)
    return path


def _describe(config: dict[str, Any]) -> str:
    """``expect_column_values_to_match_regex(regex=^\\d{4}$)``: the type and its arguments
    other than the columns."""
    skip = {"column", "column_A", "column_B", "batch_id", "result_format"}
    args = ", ".join(f"{k}={v}" for k, v in sorted((config.get("kwargs") or {}).items()) if k not in skip)
    return f"{config.get('type')}({args})"


def _columns(config: dict[str, Any]) -> list[str]:
    kwargs = config.get("kwargs") or {}
    return [kwargs[k] for k in ("column", "column_A", "column_B") if kwargs.get(k)]


def _row(entry: dict[str, Any], columns: list[str], description: str) -> dict[str, str | None]:
    row: dict[str, str | None] = dict.fromkeys(FINDINGS_COLUMNS)
    for key in KEY_COLUMNS:
        row[key] = None if entry.get(key) is None else str(entry[key])
    for column in columns:
        side, _, path = column.partition(".")
        if side not in ("source", "target") or not path:
            side, path = "target", column
        row[f"{side}_property"] = path
        value = entry.get(column)
        row[f"{side}_value"] = None if value is None else str(value)
    row["expectation"] = description
    return row


def _aggregate_row(result: dict[str, Any], columns: list[str], description: str) -> dict[str, str | None]:
    """The one finding of a failed expectation that names no record: the column (if any)
    and GX's observed value."""
    observed = result.get("observed_value", result.get("unexpected_count"))
    row = _row({c: observed for c in columns}, columns, description)
    if not columns:
        row["target_value"] = None if observed is None else str(observed)
    return row


def user_findings(ctx: PairContext, result: dict[str, Any]) -> pl.DataFrame:
    """One ``expectation_failed`` row per record a user expectation found unexpected."""
    rows = []
    for item in result.get("results", []):
        config = item.get("expectation_config") or {}
        if (config.get("meta") or {}).get("origin") != "user" or item.get("success"):
            continue
        if (item.get("exception_info") or {}).get("raised_exception"):
            continue  # could not run: a warning in the summary, not a finding
        description, columns, result = _describe(config), _columns(config), item.get("result") or {}
        entries = [e for e in result.get("unexpected_index_list") or [] if isinstance(e, dict)]
        rows += [_row(entry, columns, description) for entry in entries]
        if not entries:  # about the whole table or column (a row count, a mean): one row, no record
            rows.append(_aggregate_row(result, columns[:1], description))
    if not rows:
        return empty_findings()
    frame = pl.DataFrame(rows, schema=FINDINGS_SCHEMA)
    return frame.with_columns(
        pair=pl.lit(ctx.pair),
        source_entity=pl.lit(ctx.source_entity),
        target_entity=pl.lit(ctx.target_entity),
        status=pl.lit("expectation_failed"),
    ).select(FINDINGS_COLUMNS)
