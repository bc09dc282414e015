"""What commands need ships inside the package, so an installed ``audit`` works from any folder."""

from __future__ import annotations

import fnmatch
import os
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from audit.errors import DocumentError
from audit.flow.bundled import BUNDLED_FLOWS
from audit.flow.parser import parse_file
from audit.runs.nightly import DEFAULT_NOTEBOOK

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "audit"
CLONE_FLOWS = sorted((ROOT / "data" / "flows").glob("*.rst"))


@pytest.mark.parametrize("doc", CLONE_FLOWS, ids=[p.name for p in CLONE_FLOWS])
def test_every_flow_of_the_clone_ships_identical_in_the_package(doc):
    assert (BUNDLED_FLOWS / doc.name).read_bytes() == doc.read_bytes()


def test_the_nightly_notebook_ships_identical_to_notebooks_audit():
    assert DEFAULT_NOTEBOOK.read_bytes() == (ROOT / "notebooks" / "audit.ipynb").read_bytes()


def test_pyproject_package_data_covers_every_data_file():
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["audit"]
    files = [p.relative_to(PACKAGE).as_posix() for p in (PACKAGE / "data").rglob("*") if p.is_file()]
    assert files and [f for f in files if not any(fnmatch.fnmatch(f, pat) for pat in patterns)] == []


@pytest.mark.parametrize("name", ["powerofficego-powerofficego", "data/flows/powerofficego-powerofficego.rst"])
def test_a_bundled_flow_is_found_by_name_from_any_folder(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert parse_file(name).title == parse_file(CLONE_FLOWS[0]).title


def test_a_missing_flow_elsewhere_is_not_replaced_by_the_bundled_one(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DocumentError, match="cannot read"):
        parse_file("elsewhere/powerofficego-powerofficego.rst")


def _first_audit() -> list[list[str]]:
    """The commands of the README's "A first audit" block, continuation lines joined."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"## A first audit\s+```console\n(.*?)```", readme, re.S).group(1)
    joined = re.sub(r"\\\n\s*", " ", block)
    return [shlex.split(line[2:].split("#")[0]) for line in joined.splitlines() if line.startswith("$ ")]


def test_the_readmes_first_audit_runs_from_a_temporary_folder(tmp_path):
    codes = []
    for argv in _first_audit():
        assert argv[0] == "audit"
        args = [a.replace("/tmp/", f"{tmp_path}/") for a in argv[1:]]
        env = {**os.environ, "PYTHONPATH": str(PACKAGE.parent)}
        result = subprocess.run(
            [sys.executable, "-m", "audit", *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
        )
        assert "Traceback" not in result.stderr, result.stderr
        codes.append(result.returncode)
    assert codes == [0, 1, 0]  # the demo carries planted drift: the audit exits 1
    assert (tmp_path / "audit" / "report.html").is_file()
