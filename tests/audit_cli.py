"""``python -m audit ...`` as a user runs it, for the tests that go through the command line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from poweroffice_fixtures import subprocess_env


def audit_cli(*args: str | Path, **kw) -> subprocess.CompletedProcess:
    """Run ``python -m audit ARGS`` (paths may be given as such) with its output captured
    as text, in the project's environment with an absolute PYTHONPATH unless ``env`` is
    given, so that it runs this tree's package from any working directory."""
    kw.setdefault("env", subprocess_env())
    return subprocess.run([sys.executable, "-m", "audit", *map(str, args)], capture_output=True, text=True, **kw)


def flow_args(flow: Path, source: Path, target: Path, out: Path) -> list[str | Path]:
    """The options naming a flow, its two snapshots and the output of ``audit run`` or
    ``audit writeback plan``."""
    return ["--flow", flow, "--source", source, "--target", target, "--out", out]


def writeback_plan(audited: Path, flow: Path, source: Path, target: Path, out: Path, *extra, **kw):
    """``audit writeback plan`` of the audit output ``audited`` into ``out``."""
    return audit_cli("writeback", "plan", "--audit", audited, *flow_args(flow, source, target, out), *extra, **kw)
