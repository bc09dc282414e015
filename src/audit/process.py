"""Settings of a short-lived ``audit run`` process, made before polars or Great
Expectations is imported.

``audit run`` reads the snapshots, audits and exits; these settings trade nothing the run
needs for CPU time (measured at 1M records per entity, ``bench/RESULTS.md``):

- polars' allocator (jemalloc) hands freed memory back to the system after half a second
  by default, and the audit allocates and frees gigabytes in waves (each file read, each
  join), so the same pages are given back and faulted in again: 1.5-2 s of system time at
  1M records. With decay off the process keeps and reuses what it freed; peak memory
  rises about 5 %. It is set only when the environment does not set
  ``_RJEM_MALLOC_CONF`` itself (polars reads it when it is loaded).
- ``jsonschema`` builds a grammar for RFC 3987 IRIs when it is imported and the optional
  ``rfc3987-syntax`` package is installed (Jupyter's dependencies install it), which is
  a second of CPU inside Great Expectations' import (GX imports altair, altair imports
  jsonschema). The run validates no JSON Schema with ``iri`` formats, so the package is
  kept out of this process: jsonschema then only leaves those two formats unchecked, as
  it does wherever the package is not installed. GX's validation does not use it.

Neither applies to notebooks or other processes that import :mod:`audit`: only the
``audit run`` command calls :func:`prepare_batch_run`.
"""

from __future__ import annotations

import os
import sys

__all__ = ["prepare_batch_run", "ALLOCATOR_SETTING"]

#: polars' jemalloc: keep freed pages for reuse instead of returning them to the system.
ALLOCATOR_SETTING = "dirty_decay_ms:-1,muzzy_decay_ms:-1"


def prepare_batch_run() -> None:
    """Apply the settings above; a no-op for what is already loaded."""
    if "polars" not in sys.modules:
        os.environ.setdefault("_RJEM_MALLOC_CONF", ALLOCATOR_SETTING)
    if "jsonschema" not in sys.modules:
        sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[assignment]
