"""The benchmark harness runs (its timings are not checked here; see ``bench/RESULTS.md``)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_bench_runs_every_tool_over_the_same_pairs_and_counts_the_same_drift(tmp_path):
    run = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "bench_audit.py"), "--sizes", "100", "--repeat", "1",
         "--data", str(tmp_path / "data"), "--out", str(tmp_path / "out")],  # fmt: skip
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    (results,) = (tmp_path / "out").glob("results-*.json")
    sizes = json.loads(results.read_text(encoding="utf-8"))["sizes"]["100"]
    assert set(sizes) == {"audit", "datacompy-polars", "datacompy-pandas", "floor"}
    assert all(tool["ok"] for tool in sizes.values())
    others = {sizes[t]["cells_differing"] for t in ("datacompy-polars", "datacompy-pandas", "floor")}
    assert len(others) == 1  # the three agree on what differs
    # the audit counts fewer: "" against a missing value is no drift under its default policy
    assert 0 < sizes["audit"]["cells_differing"] < others.pop()
    assert "| 100 | audit |" in run.stdout
