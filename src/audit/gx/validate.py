"""Validation frame + suites -> Great Expectations validation result.

:func:`validation_frame` gathers, for one pair, one row per linked pair of records,
unlinked record and ambiguous candidate link: its ``link`` status, the records' keys and
each compared property's values on both sides as the value model normalises them, named
by the flow's paths (:mod:`audit.gx.columns`); beside them (column-wise, not as extra
rows) each side's record ids, so that the suite's ``id`` unique and not-null expectations
count exactly the ``duplicate_id`` and ``missing_id`` findings while the table keeps about
one row per link. :func:`validate` runs the pair's suite, and the user's own
(:mod:`audit.gx.user_suites`), over it with GX's SQL engine on DuckDB
(:mod:`audit.gx.database`) and returns GX's own result as a JSON-ready dict.

GX's overall ``success`` is false as soon as any expectation fails, warnings included;
:func:`critical_success` gives the verdict over ``critical`` expectations only, which is
what the policy's ``fail_on`` means.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

from audit.core.compare import canonical_column
from audit.core.links import LinkResult
from audit.core.snapshot import EntityFrame
from audit.gx.columns import KEY_COLUMNS, LINK_COLUMN, id_column, record_column
from audit.gx.database import source, table, wait_for_warm_up, warm_up

__all__ = [
    "validation_frame",
    "records_frame",
    "validate",
    "joined",
    "critical_success",
    "warm_up",
    "wait_for_warm_up",
]


def validation_frame(
    link: LinkResult,
    compared: pl.DataFrame,
    sides: tuple[EntityFrame, EntityFrame],
    columns: Mapping[str, tuple[str, str]],
    rules: Sequence[str] = (),
) -> pl.DataFrame:
    """The rows the pair's suite validates, with its readable columns.

    Parameters
    ----------
    link : LinkResult
    compared : pl.DataFrame
        The linked frame after :func:`audit.core.compare.compare_linked` with
        ``keep_texts``.
    sides : (EntityFrame, EntityFrame)
        The pair's source and target entities, for the id columns (:func:`record_rows`).
    columns : mapping
        ``{property key: (source column, target column)}``
        (:func:`audit.gx.columns.value_columns`); properties whose canonical texts are not in
        ``compared`` (unresolved paths) get no columns.
    rules : sequence of str
        The columns of the merge rules whose paths resolved (all null).

    Returns
    -------
    pl.DataFrame
        ``link``, ``source_key``, ``target_key``, the value columns and the rule columns
        (null outside linked rows), and each side's ``record`` / ``record id`` columns.
        Its height is the largest of the parts (usually the link rows); shorter parts are
        padded with nulls, which every expectation skips.
    """
    return pl.concat([_link_rows(link, compared, columns, rules), records_frame(sides)], how="horizontal")


def records_frame(sides: tuple[EntityFrame, EntityFrame]) -> pl.DataFrame:
    """Both sides' :func:`record_rows` side by side (the shorter padded with nulls): all the
    suite's id expectations look at, so a run validates them as soon as the pair's files
    are read (:func:`audit.gx.suites.build_suite` ``part="ids"``)."""
    records = [record_rows(side, ef) for side, ef in zip(("source", "target"), sides, strict=True)]
    return pl.concat(records, how="horizontal")


def record_rows(side: str, ef: EntityFrame) -> pl.DataFrame:
    """One row per record of one side: ``<side> record`` (1) and ``<side> record id``.

    The ids are those the audit kept (exact copies counted once,
    :mod:`audit.core.problems`), followed by a null per record without an id; integer ids
    stay integers (cheaper for DuckDB to group), others are read as text, as
    :func:`audit.core.problems.entity_problems` compares them.
    """
    ids = ef.frame.get_column(ef.id_column)
    if not ids.dtype.is_integer():
        ids = ids.cast(pl.String)
    missing = ef.problems.missing.height
    if missing:
        ids = pl.concat([ids, pl.Series([None] * missing, dtype=ids.dtype)])
    return pl.DataFrame({record_column(side): pl.repeat(1, ids.len(), eager=True, dtype=pl.Int8), id_column(side): ids})


def _link_rows(
    link: LinkResult, compared: pl.DataFrame, columns: Mapping[str, tuple[str, str]], rules: Sequence[str]
) -> pl.DataFrame:
    """The ``link`` status, record keys and value columns of every linked pair, unlinked
    record and ambiguous candidate link."""
    values = []
    for key, names in columns.items():
        texts = [canonical_column(side, key) for side in ("source", "target")]
        if all(t in compared.columns for t in texts):
            values += [pl.col(t).alias(n) for t, n in zip(texts, names, strict=True)]
    keys = [pl.col(k).cast(pl.String) for k in KEY_COLUMNS]
    linked = compared.select(
        pl.lit("linked").alias(LINK_COLUMN), *keys, *values, *[pl.lit(None, dtype=pl.Int8).alias(r) for r in rules]
    )
    others = [linked]
    for status, frame in (
        ("missing_in_target", link.missing_in_target),
        ("missing_in_source", link.missing_in_source),
        ("ambiguous_link", link.ambiguous),
    ):
        if frame.height:
            rows = frame.select([pl.col(k).cast(pl.String) for k in KEY_COLUMNS if k in frame.columns])
            others.append(rows.with_columns(pl.lit(status).alias(LINK_COLUMN)))
    return pl.concat(others, how="diagonal_relaxed") if len(others) > 1 else linked


def validate(
    frame: pl.DataFrame,
    suite,
    partial_unexpected_count: int = 20,
    user_suite=None,
    index_columns: Sequence[str] = KEY_COLUMNS,
    then: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Validate one pair's frame against its suite (and the user's own suite).

    Parameters
    ----------
    frame : pl.DataFrame
        From :func:`validation_frame`.
    suite : great_expectations.ExpectationSuite
        The generated suite: GX lists ``partial_unexpected_count`` unexpected values.
    partial_unexpected_count : int
        How many unexpected values GX lists per expectation.
    user_suite : great_expectations.ExpectationSuite, optional
        The user's expectations, validated on the same table with the complete list of
        unexpected rows and their ``index_columns`` (each becomes a finding); their results
        follow the suite's, marked ``meta.origin = "user"``.
    then : dict, optional
        The result of the rest of the pair's suite validated on another frame (its id
        expectations, :func:`records_frame`), placed after this suite's (:func:`joined`).

    Returns
    -------
    dict
        GX's ``ExpectationSuiteValidationResult`` as JSON-ready data.
    """
    gx_source = source()
    with table(frame) as name:
        asset = gx_source.add_table_asset(name, table_name=name)
        try:
            batch = asset.add_batch_definition_whole_table("all").get_batch()
            result = batch.validate(
                suite,
                result_format={"result_format": "BASIC", "partial_unexpected_count": partial_unexpected_count},
            ).to_json_dict()
            if then is not None:
                result = joined(result, then)
            if user_suite is not None and user_suite.expectations:
                result = _merged(result, _validate_own(batch, user_suite, frame, index_columns))
        finally:
            gx_source.delete_asset(name)
    return _compact_exceptions(result)


def _validate_own(batch, user_suite, frame: pl.DataFrame, index_columns: Sequence[str]) -> dict[str, Any]:
    """The user's suite on the same batch, with every unexpected row and its keys."""
    return batch.validate(
        user_suite,
        result_format={
            "result_format": "COMPLETE",
            # GX's SQL engine cuts even the complete index list at this count
            "partial_unexpected_count": max(frame.height, 1),
            "unexpected_index_column_names": [c for c in index_columns if c in frame.columns],
            "return_unexpected_index_query": False,
        },
    ).to_json_dict()


def _merged(result: dict[str, Any], own: dict[str, Any]) -> dict[str, Any]:
    """The suite's result followed by the user's (marked ``origin: user``)."""
    for item in own.get("results", []):
        config = item.setdefault("expectation_config", {})
        config["meta"] = {**(config.get("meta") or {}), "origin": "user"}
    result = joined(result, own)
    result["meta"] = {**(result.get("meta") or {}), "user_suite": own.get("suite_name")}
    return result


def joined(result: dict[str, Any], more: Mapping[str, Any]) -> dict[str, Any]:
    """``result`` followed by the results of ``more`` (another validation of the same
    pair), with GX's statistics and overall success recounted over both."""
    results = [*result.get("results", []), *more.get("results", [])]
    passed = sum(1 for item in results if item.get("success"))
    result = dict(result)
    result["results"] = results
    result["success"] = passed == len(results)
    result["statistics"] = {
        **(result.get("statistics") or {}),
        "evaluated_expectations": len(results),
        "successful_expectations": passed,
        "unsuccessful_expectations": len(results) - passed,
        "success_percent": 100.0 * passed / len(results) if results else None,
    }
    return result


def _compact_exceptions(data: dict[str, Any]) -> dict[str, Any]:
    """Replace GX's Python tracebacks (an expectation on a column that does not exist, i.e.
    an unresolved property, raises inside GX) by the first line of each distinct message
    (a database error, such as DuckDB rejecting a user's regex, goes on with the SQL of
    every metric that failed); Data Docs render the traceback field as text, so it stays a
    string."""
    for item in data.get("results", []):
        info = item.get("exception_info") or {}
        if "raised_exception" not in info:  # keyed by metric: {metric: {...}}
            message = _first_lines(v.get("exception_message") for v in info.values() if isinstance(v, dict))
            item["exception_info"] = {
                "raised_exception": True,
                "exception_traceback": message,
                "exception_message": message,
            }
        elif info.get("exception_traceback"):
            message = _first_lines([info.get("exception_message")])
            info["exception_message"] = info["exception_traceback"] = message
    return data


def _first_lines(messages) -> str:
    firsts = [m.strip().splitlines()[0] for m in messages if m and m.strip()]
    return "; ".join(dict.fromkeys(firsts)) or "expectation raised"


def critical_success(result: dict[str, Any]) -> bool:
    """True when every ``critical`` expectation of a GX result that could run succeeded.

    An expectation that raised (its column does not exist: a property or merge rule whose
    path did not resolve, or a user's typo) has no verdict on the records; the path is
    judged by its ``expect_column_to_exist`` expectation (``unresolved_property``), and
    the run's summary names every expectation that could not run.
    """
    for item in result.get("results", []):
        if (item.get("exception_info") or {}).get("raised_exception"):
            continue
        config = item.get("expectation_config") or {}
        if config.get("severity", "critical") == "critical" and not item.get("success"):
            return False
    return True
