"""Settings of the ``audit run`` process (``audit.runs.process``), checked in fresh interpreters."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PROBE = """
import os, sys
from audit.runs.process import prepare_batch_run
prepare_batch_run()
import jsonschema
from great_expectations.expectations import ExpectColumnValuesToNotBeNull
print(os.environ.get("_RJEM_MALLOC_CONF"), os.environ.get("MIMALLOC_PURGE_DELAY"))
print("rfc3987_syntax loaded" if sys.modules.get("rfc3987_syntax") else "rfc3987_syntax not loaded")
print("iri" in jsonschema.Draft202012Validator.FORMAT_CHECKER.checkers)
print("scipy.stats._stats_py" in sys.modules, "altair.vegalite" in sys.modules)
from scipy import stats
import altair as alt
print(round(stats.entropy([0.5, 0.5], [0.9, 0.1]), 4), alt.Chart.__name__, type(sys.modules["scipy.stats"]).__name__)
"""


def _probe(env: dict[str, str]) -> list[str]:
    run = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    return run.stdout.splitlines()


def test_batch_run_keeps_freed_memory_skips_the_iri_grammar_and_defers_unused_modules():
    env = {k: v for k, v in os.environ.items() if k not in ("_RJEM_MALLOC_CONF", "MIMALLOC_PURGE_DELAY")}
    allocator, loaded, iri, deferred, _ = _probe(env)
    assert allocator == "dirty_decay_ms:-1,muzzy_decay_ms:-1 -1"
    assert loaded == "rfc3987_syntax not loaded"
    assert iri == "False"  # jsonschema leaves only the iri formats unchecked
    assert deferred == "False False"  # GX imported without loading scipy.stats or altair


def test_deferred_modules_work_when_they_are_used():
    used = _probe(dict(os.environ))[4]
    assert used == "0.5108 Chart module"  # loaded on first use, then the real module


def test_an_allocator_setting_from_the_environment_is_kept():
    env = {**os.environ, "_RJEM_MALLOC_CONF": "background_thread:true", "MIMALLOC_PURGE_DELAY": "100"}
    assert _probe(env)[0] == "background_thread:true 100"


IRI_PROBE = """
import re, sys
from pathlib import Path
from audit.runs.process import prepare_batch_run
prepare_batch_run()
from audit.core.engine import run_audit, write_outputs
result = run_audit(sys.argv[1], sys.argv[2], sys.argv[3])
write_outputs(result, sys.argv[4])
uses = re.compile(r'''["']format["']\\s*[:=]\\s*["']iri(-reference)?["']|format\\s*=\\s*["']iri''')
roots = set()
for name, module in list(sys.modules.items()):
    path = getattr(module, "__file__", None)
    top = name.split(".")[0]
    if path and top not in ("jsonschema", "audit") and "site-packages" in path:
        # the loaded top-level package's directory, or a single-file module itself (its
        # parent would be all of site-packages, loaded or not)
        top_file = getattr(sys.modules.get(top), "__file__", None) or path
        roots.add(Path(top_file).parent if top_file.endswith("__init__.py") else Path(top_file))
files = [f for root in roots for f in ([root] if root.is_file() else root.rglob("*")) if f.suffix in (".json", ".py")]
hits = [str(f) for f in files if uses.search(f.read_text(errors="replace"))]
print(len(roots), hits)
"""


def test_nothing_audit_run_loads_checks_an_iri_format(tmp_path):
    """``prepare_batch_run`` keeps ``rfc3987-syntax`` out, which leaves jsonschema's ``iri``
    formats unchecked; no schema or code of any package the audit loads asks for them."""
    root = Path(__file__).resolve().parents[1]
    args = [str(root / "data/flows/powerofficego-powerofficego.rst"), str(root / "data/demo/source")]
    args += [str(root / "data/demo/target"), str(tmp_path / "out")]
    run = subprocess.run([sys.executable, "-c", IRI_PROBE, *args], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    packages, hits = run.stdout.split(" ", 1)
    assert int(packages) > 20  # polars, pyarrow, great_expectations, sqlalchemy, ...
    assert hits.strip() == "[]"
    assert (tmp_path / "out" / "findings.csv").exists()
