"""Usage errors of every command are exit 2 with typer's message, never a traceback or 1."""

from __future__ import annotations

import subprocess
import sys

import pytest

from audit import __version__


def _audit(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "audit", *args], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["run"], "Missing option '--flow'"),
        (["bogus"], "No such command 'bogus'"),
        (["run", "--sourc", "x"], "No such option: --sourc"),
        (["demo-data", "--records", "abc"], "Invalid value for '--records'"),
        (["report", "out", "--max-rows", "-1"], "Invalid value for '--max-rows'"),
        (["writeback", "apply"], "Missing argument"),
    ],
)
def test_a_usage_error_exits_2_with_typer_message_and_no_traceback(args, says):
    result = _audit(*args)
    assert result.returncode == 2
    assert says in result.stderr and "Usage: audit" in result.stderr
    assert "Traceback" not in result.stderr


def test_version_prints_the_package_version():
    result = _audit("--version")
    assert (result.returncode, result.stdout.strip()) == (0, f"audit {__version__}")
