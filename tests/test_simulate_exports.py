"""``audit simulate`` says how to point the toolkit at it; a missing key names its side's variable."""

from __future__ import annotations

import subprocess
import sys

import pytest
from poweroffice_fixtures import FAKE_SECRET, subprocess_env

from audit.errors import ConfigError
from audit.systems.poweroffice.settings import tenant_settings


def _simulate(seed, env: dict[str, str]) -> tuple[subprocess.Popen, list[str]]:
    """Start ``audit simulate`` and read its banner up to the last line it prints."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "audit", "simulate", "--snapshot", str(seed), "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    lines = []
    while not lines or "POWEROFFICE_V1_URL" not in lines[-1] and "your environment" not in lines[-1]:
        line = proc.stdout.readline()
        assert line, proc.stderr.read()
        lines.append(line.strip())
    return proc, lines


def _exports(lines: list[str]) -> dict[str, str]:
    pairs = (line.removeprefix("export ").split("=", 1) for line in lines if line.startswith("export "))
    return dict(pairs)


def test_the_printed_export_lines_let_a_fetch_reach_the_simulator(po_clean_env, po_seed, tmp_path):
    proc, lines = _simulate(po_seed, subprocess_env())
    try:
        exports = _exports(lines)
        fetch = subprocess.run(
            [sys.executable, "-m", "audit", "fetch", "--api", "v2", "--out", str(tmp_path / "snap")],
            env=subprocess_env(exports), capture_output=True, text=True, timeout=120,
        )
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert exports["POWEROFFICE_CLIENT_KEY"] == "sim-demo-client-key"
    assert fetch.returncode == 0, fetch.stderr
    assert (tmp_path / "snap" / "customer.jsonl").is_file()


def test_keys_from_the_environment_are_not_printed(po_clean_env, po_seed):
    proc, lines = _simulate(po_seed, subprocess_env({"POWEROFFICE_CLIENT_KEY": FAKE_SECRET}))
    proc.terminate()
    proc.wait(timeout=10)
    assert FAKE_SECRET not in "\n".join(lines)
    assert "POWEROFFICE_CLIENT_KEY" not in _exports(lines) and "POWEROFFICE_V2_URL" in _exports(lines)


def test_a_missing_key_of_a_tenant_names_that_sides_variable():
    settings = tenant_settings(
        "target", {"POWEROFFICE_TARGET_APPLICATION_KEY": "a", "POWEROFFICE_SUBSCRIPTION_KEY": "s"}, None
    )
    with pytest.raises(ConfigError, match=r"\(target tenant\) needs POWEROFFICE_TARGET_CLIENT_KEY or POWEROFFICE_CL"):
        settings.endpoint("v2")
