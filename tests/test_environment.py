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


#: Declared packages that src/ uses without importing them, and why.
USED_WITHOUT_IMPORT = {
    "pandas": "the notebooks hand findings to users as pandas frames (polars' .to_pandas())",
    "papermill": "nightly runs it as a child process (python -m papermill)",
    "jupyterlab": "where users open the notebooks",
    "ipykernel": "the kernel papermill executes the notebooks in",
}


def _src_imports() -> set[str]:
    import ast

    found = set()
    for path in (ROOT / "src").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return found


def _runtime_dependencies() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {_name(r) for r in project["dependencies"]}


def test_every_package_src_imports_is_declared():
    import sys
    from importlib.metadata import packages_distributions

    dists = packages_distributions()
    third_party = {m for m in _src_imports() if m not in sys.stdlib_module_names and m != "audit"}
    undeclared = {m for m in third_party if not {_name(d) for d in dists.get(m, [m])} & _runtime_dependencies()}
    assert undeclared == set()


def test_every_declared_package_is_imported_or_has_a_stated_use():
    from importlib.metadata import packages_distributions

    dists = packages_distributions()
    imported = {_name(d) for m in _src_imports() for d in dists.get(m, [])}
    assert _runtime_dependencies() - imported - set(USED_WITHOUT_IMPORT) == set()
