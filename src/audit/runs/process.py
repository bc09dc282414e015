"""Settings of a short-lived ``audit run`` process, made before polars or Great
Expectations is imported.

``audit run`` reads the snapshots, audits and exits; these settings trade nothing the run
needs for CPU time (measured at 1M records per entity, ``bench/RESULTS.md``):

- polars' allocator (jemalloc) hands freed memory back to the system after half a second
  by default, and the audit allocates and frees gigabytes in waves (each file read, each
  join), so the same pages are given back and faulted in again: 1.5-2 s of system time at
  1M records. With decay off the process keeps and reuses what it freed; peak memory
  rises about 5 %. pyarrow's allocator (mimalloc) does the same after 10 ms; keeping its
  pages too saves another 0.5 s of system time (peak memory +10 %). Each is set only
  when the environment does not set it itself (``_RJEM_MALLOC_CONF``,
  ``MIMALLOC_PURGE_DELAY``; the libraries read them when they are loaded).
- ``jsonschema`` builds a grammar for RFC 3987 IRIs when it is imported and the optional
  ``rfc3987-syntax`` package is installed (Jupyter's dependencies install it), which is
  a second of CPU inside Great Expectations' import (GX imports altair, altair imports
  jsonschema). The run validates no JSON Schema with ``iri`` formats, so the package is
  kept out of this process: jsonschema then only leaves those two formats unchecked, as
  it does wherever the package is not installed. GX's validation does not use it.
- Great Expectations imports every core expectation, and the one for KL divergence
  imports ``scipy.stats`` and ``altair`` (for its own statistics and charts): 1 s of CPU,
  as much as the rest of GX's import. The audit uses neither, so both stand in as
  placeholder modules that import the real module the first time any of its attributes
  is used (then everything works as before, a moment later). The standard library's
  ``importlib.util.LazyLoader`` cannot do this on Python 3.11: the ``import`` statement
  itself reads the module's ``__spec__``, which makes it load at once.

None of this applies to notebooks or other processes that import :mod:`audit`: only the
``audit run`` command calls :func:`prepare_batch_run`.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import types

__all__ = ["prepare_batch_run", "ALLOCATOR_SETTING", "DEFERRED_MODULES"]

#: polars' jemalloc: keep freed pages for reuse instead of returning them to the system
#: (pyarrow's mimalloc: ``MIMALLOC_PURGE_DELAY=-1``).
ALLOCATOR_SETTING = "dirty_decay_ms:-1,muzzy_decay_ms:-1"


#: Modules imported only when first used (see above).
DEFERRED_MODULES = ("scipy.stats", "altair")


class _ImportedOnFirstUse(types.ModuleType):
    """Stands in ``sys.modules`` for a module until one of its attributes is looked up."""

    def __getattr__(self, attr: str):  # only called for attributes the placeholder lacks
        if sys.modules.get(self.__name__) is self:
            sys.modules.pop(self.__name__, None)  # (another thread may have been first)
        return getattr(importlib.import_module(self.__name__), attr)


def _defer(name: str) -> None:
    if name in sys.modules:
        return
    try:
        spec = importlib.util.find_spec(name)  # imports the parent package only
    except (ImportError, ValueError):
        return
    if spec is None:
        return
    placeholder = _ImportedOnFirstUse(name)
    placeholder.__spec__ = spec  # read by the import statement; not being initialised
    sys.modules[name] = placeholder


def prepare_batch_run() -> None:
    """Apply the settings above; a no-op for what is already loaded."""
    if "polars" not in sys.modules:
        os.environ.setdefault("_RJEM_MALLOC_CONF", ALLOCATOR_SETTING)
    if "pyarrow" not in sys.modules:
        os.environ.setdefault("MIMALLOC_PURGE_DELAY", "-1")
    if "jsonschema" not in sys.modules:
        sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[assignment]
    for name in DEFERRED_MODULES:
        _defer(name)
