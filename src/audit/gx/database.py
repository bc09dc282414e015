"""Where Great Expectations validates: its SQL engine on an in-memory DuckDB database.

Why GX runs its SQL execution engine on DuckDB
----------------------------------------------
GX's pandas engine copies the whole frame once per expectation, so its cost grows with
rows x expectations. Its SQL engine computes each expectation's counts with one query and
fetches at most ``partial_unexpected_count`` unexpected values. GX reaches DuckDB through
SQLAlchemy with duckdb-engine's dialect, subclassed here as :class:`GxDuckDBDialect`
(URL ``duckdb+audit://``):

- a frame being validated is not copied into the database: :func:`table` lends its Arrow
  data to DuckDB under a fresh name, and every connection GX opens (a new cursor of the
  process's one in-memory database, no pool) sees it as a view, so DuckDB scans the
  frame's own memory;
- transactions are left to DuckDB (autocommit; GX only reads), and a connection's close
  leaves the cursor to the garbage collector, since GX reads some results after it has
  given the connection back;
- regular expressions, which GX knows for DuckDB by no name, are spelled as DuckDB's
  ``regexp_matches`` (:func:`_regex_module`).

The semantics are the record-level ones: every row is one record or candidate link,
``NULL`` is "not applicable" (GX's SQL map metrics skip nulls as its pandas engine skips
NaN), and the counts in a result are per record.
"""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import polars as pl

__all__ = ["source", "table", "warm_up", "wait_for_warm_up", "regex_module"]

#: SQLAlchemy URL of the in-memory DuckDB database GX validates in.
_GX_URL = "duckdb+audit:///:memory:"

_lock = threading.Lock()
_state: dict[str, Any] = {}
_frames: dict[str, Any] = {}
_names = itertools.count()


def _database():
    """The process's in-memory DuckDB database."""
    if "database" not in _state:
        import duckdb

        _state["database"] = duckdb.connect(":memory:")
    return _state["database"]


def _connection():
    """A new cursor of the database that sees every frame lent by :func:`table`."""
    from duckdb_engine import ConnectionWrapper

    class _Connection(ConnectionWrapper):
        def close(self) -> None:  # GX reads some results after closing; the GC closes
            pass

    cursor = _database().cursor()
    for name, arrow in list(_frames.items()):
        cursor.register(name, arrow)
    return _Connection(cursor)


def _dialect_class():
    """:class:`GxDuckDBDialect`, built on first use (duckdb-engine imports SQLAlchemy)."""
    if "dialect" not in _state:
        from duckdb_engine import Dialect as DuckDBDialect

        class _Compiler(DuckDBDialect.statement_compiler):
            """Regular expressions as DuckDB spells them (see :func:`regex_module`)."""

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
                return _connection()

            def has_table(self, connection, table_name, schema=None, **kw) -> bool:
                return table_name in _frames or super().has_table(connection, table_name, schema, **kw)

            def get_columns(self, connection, table_name, schema=None, **kw):
                if table_name in _frames:  # a lent frame: its Arrow schema, not DuckDB's catalog
                    return _arrow_columns(_frames[table_name].schema)
                return super().get_columns(connection, table_name, schema, **kw)

            def do_begin(self, dbapi_connection) -> None:
                pass

            def do_rollback(self, dbapi_connection) -> None:
                pass

            def do_commit(self, dbapi_connection) -> None:
                pass

        _state["dialect"] = _Dialect
    return _state["dialect"]


def _arrow_columns(schema) -> list[dict[str, Any]]:
    """SQLAlchemy's reflection of a lent frame's columns, from its Arrow schema (what the
    catalog queries would answer, without a query per table GX looks at)."""
    import pyarrow as pa
    import sqlalchemy.types as sat

    def kind(t) -> Any:
        if pa.types.is_integer(t):
            return sat.BigInteger() if t.bit_width > 32 else sat.Integer() if t.bit_width == 32 else sat.SmallInteger()
        if pa.types.is_floating(t):
            return sat.Float()
        if pa.types.is_boolean(t):
            return sat.Boolean()
        return sat.String()

    return [{"name": f.name, "type": kind(f.type), "nullable": True, "default": None} for f in schema]


def regex_module():
    """What GX looks up to spell a regular expression for the DuckDB engine.

    GX's SQL engine knows regular expressions only for the dialects it names, and DuckDB
    is not one (``expect_column_values_to_match_regex`` raises "Regex is not supported").
    duckdb-engine's dialect derives from SQLAlchemy's PostgreSQL dialect, so given a
    module whose ``dialect`` is ours GX writes PostgreSQL's ``~`` / ``!~``, which our
    compiler turns into DuckDB's ``regexp_matches``: a search, as PostgreSQL's ``~`` and
    GX's pandas engine (``str.contains``) do (DuckDB's own ``~`` would be a full match).
    """
    from types import SimpleNamespace

    return SimpleNamespace(dialect=_dialect_class())


def __getattr__(name: str):
    # ``GxDuckDBDialect`` is what SQLAlchemy's registry loads for ``duckdb+audit://``.
    if name == "GxDuckDBDialect":
        return _dialect_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def source():
    """GX's SQL data source on the database, in an ephemeral in-memory context (no files,
    analytics and progress bars off), made once per process."""
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
            from sqlalchemy.pool import NullPool

            registry.register("duckdb.audit", __name__, "GxDuckDBDialect")
            config = DataContextConfig(
                store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
                analytics_enabled=False,
                progress_bars=ProgressBarsConfig(globally=False),
            )
            context = gx.get_context(project_config=config, mode="ephemeral")
            _database()
            kwargs = {"poolclass": NullPool}  # every connection is a new cursor (see _connection)
            _state["source"] = context.data_sources.add_sql("audit", connection_string=_GX_URL, kwargs=kwargs)
        found = _state["source"]
    found.get_execution_engine().dialect_module = regex_module()
    return found


@contextmanager
def table(frame: pl.DataFrame) -> Iterator[str]:
    """Lend ``frame`` to the database as a view for the duration of the block; yields
    its name (``pair_<n>``)."""
    name = f"pair_{next(_names)}"
    # Arrow's string views are polars' own strings: lent without a copy (DuckDB reads them)
    _frames[name] = frame.to_arrow(compat_level=pl.CompatLevel.newest())
    try:
        yield name
    finally:
        _frames.pop(name, None)


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
            source()
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
