"""Compact validation frame + suite -> Great Expectations validation result.

:func:`validation_frame` gathers, for one pair, the ``link`` status of every record (or
candidate link) and the compact ``eq__``/``typeok__`` columns of the linked rows (see
:mod:`audit.gx.suites` for why GX looks at these and not at the records), and beside them
(column-wise, not as extra rows) each side's record ids: ``id__source``/``id__target``
(null for a record without one) with ``record__source``/``record__target`` marking the
rows that hold a record of that side, so that the suite's ``id`` unique and not-null
expectations count exactly the ``duplicate_id`` and ``missing_id`` findings while the
table keeps about one row per link and the other expectations scan no extra rows.
:func:`validate` runs a suite over it with an ephemeral, in-memory GX context (no files, analytics and
progress bars off) and returns GX's own result as a JSON-ready dict.

Why GX runs its SQL execution engine on an in-memory DuckDB table
------------------------------------------------------------------
GX's pandas engine copies the whole validation frame once per expectation, so its cost
grows with rows x expectations. Its SQL engine computes each expectation's counts with
one aggregate query and fetches at most ``partial_unexpected_count`` unexpected values.
The frame goes into a process-wide in-memory DuckDB database through Arrow, GX validates
the table through a SQL data source, and the table is dropped afterwards. The semantics
are the record-level ones: every row is one record or candidate link, ``NULL`` is "not
applicable" (GX's SQL map metrics skip nulls as its pandas engine skips NaN), and the
counts in the result (``element_count``, ``unexpected_count``, ``missing_count``) are
per record.

GX reaches DuckDB through SQLAlchemy with duckdb-engine's dialect, subclassed here as
:class:`GxDuckDBDialect` (URL ``duckdb+audit://``): its connections are cursors of the
one in-memory database that holds the tables, and it leaves transactions to DuckDB
(autocommit; GX only reads).

GX's overall ``success`` is false as soon as any expectation fails, warnings included;
:func:`critical_success` gives the verdict over ``critical`` expectations only, which is
what the policy's ``fail_on`` means.
"""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

from audit.core.compare import canonical_column
from audit.core.links import LinkResult
from audit.core.snapshot import EntityFrame
from audit.gx.columns import KEY_COLUMNS, LINK_COLUMN, id_column, record_column

__all__ = ["validation_frame", "validate", "critical_success", "warm_up", "wait_for_warm_up"]

_lock = threading.Lock()
_state: dict[str, Any] = {}
_names = itertools.count()


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
    frame = _link_rows(link, compared, columns, rules)
    records = [record_rows(side, ef) for side, ef in zip(("source", "target"), sides, strict=True)]
    return pl.concat([frame, *records], how="horizontal")


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


def warm_up() -> threading.Thread:
    """Import Great Expectations and build its in-memory context in a background thread.

    Importing GX is slow, pure-Python work (it pulls in altair, jsonschema, ...).
    :func:`audit.core.engine.run_audit` starts this before it reads the snapshots, which is
    native pyarrow and polars work that leaves the interpreter free, so the import runs on
    the otherwise idle core; a pair calls :func:`wait_for_warm_up` before its first use of
    GX, so no two threads ever import GX at once. A failure is left for that first use to
    raise.
    """

    def work() -> None:
        try:
            _source()
        except Exception:  # noqa: BLE001 - the main thread's own import reports it
            pass

    thread = threading.Thread(target=work, name="audit-gx-warm-up", daemon=True)
    _state["warm_up"] = thread
    thread.start()
    return thread


def wait_for_warm_up() -> None:
    """Wait for :func:`warm_up`'s import, when one was started."""
    thread = _state.get("warm_up")
    if thread is not None:
        thread.join()


#: SQLAlchemy URL of the in-memory DuckDB database GX validates in (see the module docstring).
_GX_URL = "duckdb+audit:///:memory:"


def _database():
    """The process's in-memory DuckDB database holding the tables being validated."""
    if "database" not in _state:
        import duckdb

        _state["database"] = duckdb.connect(":memory:")
    return _state["database"]


def _dialect_class():
    """:class:`GxDuckDBDialect`, built on first use (duckdb-engine imports SQLAlchemy)."""
    if "dialect" not in _state:
        from duckdb_engine import ConnectionWrapper
        from duckdb_engine import Dialect as DuckDBDialect

        class _Compiler(DuckDBDialect.statement_compiler):
            """Regular expressions as DuckDB spells them (see :func:`_regex_module`)."""

            def visit_custom_op_binary(self, element, operator, **kw):
                if operator.opstring in ("~", "!~"):
                    left, right = self.process(element.left, **kw), self.process(element.right, **kw)
                    test = f"regexp_matches({left}, {right})"
                    return test if operator.opstring == "~" else f"(NOT {test})"
                return super().visit_custom_op_binary(element, operator, **kw)

        class _Dialect(DuckDBDialect):
            """duckdb-engine's dialect on the audit's in-memory database, in autocommit."""

            driver = "audit"
            supports_statement_cache = False
            statement_compiler = _Compiler

            def connect(self, *cargs: Any, **cparams: Any):
                return ConnectionWrapper(_database().cursor())

            def do_begin(self, dbapi_connection) -> None:
                pass

            def do_rollback(self, dbapi_connection) -> None:
                pass

            def do_commit(self, dbapi_connection) -> None:
                pass

        _state["dialect"] = _Dialect
    return _state["dialect"]


def _regex_module():
    """What GX looks up to spell a regular expression for the DuckDB engine.

    GX's SQL engine knows regular expressions only for the dialects it names, and knows
    DuckDB by none (``expect_column_values_to_match_regex`` then raises "Regex is not
    supported"). duckdb-engine's dialect derives from SQLAlchemy's PostgreSQL dialect, so
    given a module whose ``dialect`` is ours GX writes PostgreSQL's ``~`` / ``!~``, which
    our compiler turns into DuckDB's ``regexp_matches`` (a search, as GX's pandas engine
    does with ``str.contains``; PostgreSQL's ``~`` is one too, DuckDB's ``~`` would be a
    full match).
    """
    from types import SimpleNamespace

    return SimpleNamespace(dialect=_dialect_class())


def __getattr__(name: str):
    # ``GxDuckDBDialect`` is what SQLAlchemy's registry loads for ``duckdb+audit://``.
    if name == "GxDuckDBDialect":
        return _dialect_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _source():
    with _lock:
        if "source" not in _state:
            os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
            import great_expectations as gx
            from great_expectations.data_context.types.base import (
                DataContextConfig,
                InMemoryStoreBackendDefaults,
                ProgressBarsConfig,
            )
            from sqlalchemy.dialects import registry

            registry.register("duckdb.audit", __name__, "GxDuckDBDialect")
            config = DataContextConfig(
                store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
                analytics_enabled=False,
                progress_bars=ProgressBarsConfig(globally=False),
            )
            context = gx.get_context(project_config=config, mode="ephemeral")
            _database()
            _state["source"] = context.data_sources.add_sql("audit", connection_string=_GX_URL)
            _state["source"].get_execution_engine().dialect_module = _regex_module()
        return _state["source"]


def validate(
    frame: pl.DataFrame,
    suite,
    partial_unexpected_count: int = 20,
    user_suite=None,
    index_columns: Sequence[str] = KEY_COLUMNS,
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

    Returns
    -------
    dict
        GX's ``ExpectationSuiteValidationResult`` as JSON-ready data.
    """
    source = _source()
    name = _create_table(frame)
    try:
        asset = source.add_table_asset(name, table_name=name)
        batch = asset.add_batch_definition_whole_table("all").get_batch()
        source.get_execution_engine().dialect_module = _regex_module()
        result = batch.validate(
            suite,
            result_format={"result_format": "BASIC", "partial_unexpected_count": partial_unexpected_count},
        ).to_json_dict()
        if user_suite is not None and user_suite.expectations:
            index = [c for c in index_columns if c in frame.columns]
            own = batch.validate(
                user_suite,
                result_format={
                    "result_format": "COMPLETE",
                    # GX's SQL engine cuts even the complete index list at this count
                    "partial_unexpected_count": max(frame.height, 1),
                    "unexpected_index_column_names": index,
                    "return_unexpected_index_query": False,
                },
            ).to_json_dict()
            result = _merged(result, own)
    finally:
        with _lock:
            if any(a.name == name for a in source.assets):
                source.delete_asset(name)
            _database().execute(f'DROP TABLE IF EXISTS "{name}"')
    return _compact_exceptions(result)


def _create_table(frame: pl.DataFrame) -> str:
    """Copy ``frame`` into a new table of the in-memory database; returns its name."""
    with _lock:
        name = f"pair_{next(_names)}"
        db = _database()
        arrow = frame.to_arrow()
        db.register("audit_frame", arrow)
        try:
            db.execute(f'CREATE TABLE "{name}" AS SELECT * FROM audit_frame')
        finally:
            db.unregister("audit_frame")
        del arrow
    return name


def _merged(result: dict[str, Any], own: dict[str, Any]) -> dict[str, Any]:
    """The suite's result followed by the user's (marked ``origin: user``), with GX's
    statistics and overall success recounted over both."""
    for item in own.get("results", []):
        config = item.setdefault("expectation_config", {})
        config["meta"] = {**(config.get("meta") or {}), "origin": "user"}
    results = [*result.get("results", []), *own.get("results", [])]
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
    result["meta"] = {**(result.get("meta") or {}), "user_suite": own.get("suite_name")}
    return result


def _compact_exceptions(data: dict[str, Any]) -> dict[str, Any]:
    """Replace GX's Python tracebacks (an expectation on a column that does not exist, i.e.
    an unresolved property, raises inside GX) by the message; Data Docs render the
    traceback field as text, so it stays a string."""
    for item in data.get("results", []):
        info = item.get("exception_info") or {}
        if "raised_exception" not in info:  # keyed by metric: {metric: {...}}
            messages = [v.get("exception_message") for v in info.values() if isinstance(v, dict)]
            message = "; ".join(dict.fromkeys(m for m in messages if m)) or "expectation raised"
            item["exception_info"] = {
                "raised_exception": True,
                "exception_traceback": message,
                "exception_message": message,
            }
        elif info.get("exception_traceback"):
            info["exception_traceback"] = info.get("exception_message") or "expectation raised"
    return data


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
