"""Settings of a short-lived ``audit run`` process, made before polars or Great
Expectations is imported. Only the ``audit run`` command calls :func:`prepare_batch_run`;
notebooks and other processes that import :mod:`audit` are left as they are.

- Allocators keep freed pages for reuse (polars' jemalloc: ``_RJEM_MALLOC_CONF``, pyarrow's
  mimalloc: ``MIMALLOC_PURGE_DELAY``): the run allocates and frees large frames in waves,
  and giving the pages back only to fault them in again costs system time. Each is set
  only when the environment does not set it.
- ``rfc3987-syntax`` is kept out of the process: jsonschema builds an IRI grammar on import
  when it is installed, and nothing the run loads checks an ``iri`` format
  (``tests/test_process.py`` proves it).
- ``scipy.stats`` and ``altair``, imported by one Great Expectations expectation the audit
  never uses, stand in ``sys.modules`` as placeholders that import the real module on first
  attribute use. ``importlib.util.LazyLoader`` does not defer them on Python 3.11 (the import
  statement reads ``__spec__``, which loads the module).

Measurements of each setting: ``bench/RESULTS.md`` ("Process settings of audit run").
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
