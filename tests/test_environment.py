"""pyproject.toml and environment.yml list the same dependencies; the lock pins them."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
#: conda-forge names that differ from PyPI names.
CONDA_TO_PYPI = {"python-duckdb": "duckdb"}


def _name(requirement: str) -> str:
    name = re.split(r"[<>=!~ ;\[]", requirement.strip(), maxsplit=1)[0]
    return re.sub(r"[-_.]+", "-", name).lower()


def _pyproject() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = {_name(r) for r in project["dependencies"]}
    for extra in project.get("optional-dependencies", {}).values():
        names |= {_name(r) for r in extra}
    return names


def _environment() -> set[str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    names = set()
    for dep in env["dependencies"]:
        if isinstance(dep, str):
            name = _name(dep)
            names.add(CONDA_TO_PYPI.get(name, name))
    return names - {"python", "pip"}


def test_environment_yml_and_pyproject_list_the_same_packages():
    assert _environment() == _pyproject()


def test_environment_yml_uses_conda_forge():
    assert yaml.safe_load((ROOT / "environment.yml").read_text())["channels"] == ["conda-forge"]


def test_every_dependency_is_pinned_in_the_lock():
    pinned = {_name(line) for line in (ROOT / "requirements.lock").read_text().splitlines() if "==" in line}
    assert _pyproject() <= pinned


def test_ci_runs_the_readme_test_command():
    readme_lines = (ROOT / "README.md").read_text().splitlines()
    test_command = readme_lines[2]
    assert "pytest" in test_command
    assert test_command in (ROOT / ".ci" / "run").read_text().splitlines()
