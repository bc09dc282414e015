"""Scripted nightly audits: run the audit notebook with papermill for each configured job.

A nightly configuration (YAML) lists jobs, each a flow and two tenants::

    out: reports/nightly          # one folder per job and run below this
    history: reports/history      # the run history the report's trend comes from
    timeout_minutes: 30           # wall clock, per job
    jobs:
      - name: demo
        flow: data/flows/powerofficego-powerofficego.rst
        source: data/demo/source
        target: data/demo/target
        links: data/demo/global-person.json   # Sesam export or links-file directory,
        # or read from a node first: {node: https://..., dataset: global-person}
        source_label: Demo source tenant
        target_label: Demo target tenant

For every job the runner

- executes ``notebooks/audit.ipynb`` with papermill in a child process, killed when the
  wall-clock timeout passes;
- always keeps the executed notebook (``audit.ipynb``) and an HTML export of it
  (``audit.html``) in the run folder, also when a cell failed (papermill then leaves
  its error banner and the failing cell's traceback in the notebook);
- leaves the audit outputs and ``report.html`` (written by the notebook) beside them.

Exit codes follow the toolkit's contract: 0 every job in sync, 1 drift found, 2 bad input
or configuration, 3 an outside system failed (or a job ran past its timeout). With
several jobs the most severe code wins (3 over 2 over 1 over 0).

Secrets never pass through notebook parameters: the notebook's code reads them from the
environment or ``.env``; :func:`run_job` refuses parameters whose names look like keys.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib.resources import files
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from audit.core.yaml_file import read_yaml
from audit.errors import EXIT_DRIFT, EXIT_EXTERNAL, EXIT_INPUT, EXIT_OK, AuditError, ConfigError
from audit.runs.nightly_links import SesamLinks, export_path, fetch_links
from audit.runs.parameters import SECRET_NAME, path_or, problems

#: The audit notebook, shipped in the package (a copy of ``notebooks/audit.ipynb``; a test
#: keeps them identical), so ``audit nightly`` works from any folder.
DEFAULT_NOTEBOOK = Path(str(files("audit") / "data" / "notebooks" / "audit.ipynb"))

#: Exception names raised in the notebook, mapped to exit codes.
_EXTERNAL_ERRORS = {"ExternalError", "ApiError", "AuthError", "ApiUnreachable"}


class ApiSide(BaseModel):
    """A tenant read from the PowerOffice Go API at run time. Its keys and URLs come from
    the environment (or ``.env``): ``POWEROFFICE_SOURCE_*`` / ``POWEROFFICE_TARGET_*``
    override the plain ``POWEROFFICE_*`` variables for that side."""

    model_config = ConfigDict(extra="forbid")

    api: Literal["v1", "v2"]


class Job(BaseModel):
    """One audit: a flow and its two tenants (snapshot directories, or the API)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    flow: Path
    source: path_or(ApiSide)
    target: path_or(ApiSide)
    links: path_or(SesamLinks) | None = None
    link_by_id: bool = False
    config: Path | None = None
    expectations: Path | None = None
    source_label: str = ""
    target_label: str = ""


class NightlyConfig(BaseModel):
    """The nightly configuration file."""

    model_config = ConfigDict(extra="forbid")

    jobs: list[Job] = Field(min_length=1)
    out: Path = Path("reports/nightly")
    history: Path = Path("reports/history")
    timeout_minutes: float = Field(default=60, gt=0)
    notebook: Path | None = None
    kernel: str | None = None


def load_config(path: str | Path) -> NightlyConfig:
    """Read and check a nightly YAML file; problems name the file and the field."""
    path = Path(path)
    raw = read_yaml(path, "nightly file")
    try:
        config = NightlyConfig.model_validate(raw or {})
    except ValidationError as exc:
        raise ConfigError(f"{path}: {problems(exc, root='')}") from None
    base = path.parent
    for job in config.jobs:
        for attr in ("flow", "source", "target", "links", "config", "expectations"):
            value = getattr(job, attr)
            if isinstance(value, Path) and not value.is_absolute() and not value.exists() and (base / value).exists():
                setattr(job, attr, base / value)
    return config


@dataclass
class JobResult:
    """What one nightly job left behind."""

    name: str
    exit_code: int
    run_dir: Path
    notebook: Path
    html: Path | None
    report: Path | None
    message: str
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in self.__dict__.items()}


@dataclass
class NightlyResult:
    jobs: list[JobResult] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        codes = {j.exit_code for j in self.jobs}
        for code in (EXIT_EXTERNAL, EXIT_INPUT, EXIT_DRIFT):
            if code in codes:
                return code
        return EXIT_OK


def parameters_for(job: Job, run_dir: Path, history: Path) -> dict[str, Any]:
    """The papermill parameters of one job (paths as text; never a secret)."""
    links = export_path(job.links, run_dir) if isinstance(job.links, SesamLinks) else job.links
    params: dict[str, Any] = {
        "flow": str(job.flow),
        "links": str(links) if links else "",
        "link_by_id": job.link_by_id,
        "config": str(job.config) if job.config else "",
        "expectations": str(job.expectations) if job.expectations else "",
        "out": str(run_dir),
        "history": str(history),
    }
    for side in ("source", "target"):
        spec = getattr(job, side)
        label = getattr(job, f"{side}_label")
        if isinstance(spec, ApiSide):
            # the history knows the tenant by this label, not by the run's dated snapshot folder
            params[side] = ""
            params[f"{side}_api"] = spec.api
            params[f"{side}_label"] = label or f"{job.name}: {side} ({spec.api} API)"
        else:
            # no label: the audit takes the snapshot manifest's tenant, else the path
            params[side] = str(spec)
            params[f"{side}_label"] = label
    bad = [name for name in params if SECRET_NAME.search(name)]
    if bad:
        raise ConfigError(f"secrets must come from the environment, not notebook parameters: {bad}")
    return params


def _error_name(notebook: Path) -> tuple[str, str] | None:
    """The exception name and value of the failing cell of an executed notebook."""
    try:
        nb = json.loads(notebook.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    for cell in nb.get("cells", []):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                return out.get("ename", ""), out.get("evalue", "")
    return None


def export_html(notebook: Path) -> Path | None:
    """An HTML export of an executed notebook next to it (``None`` if it cannot be read)."""
    import nbformat
    from nbconvert import HTMLExporter

    try:
        nb = nbformat.read(str(notebook), as_version=4)
    except (OSError, ValueError):
        return None
    body, _ = HTMLExporter().from_notebook_node(nb)
    html = notebook.with_suffix(".html")
    html.write_text(body, encoding="utf-8")
    return html


def run_job(job: Job, config: NightlyConfig, stamp: str) -> JobResult:
    """Execute the audit notebook for one job and classify how it ended."""
    run_dir = config.out / job.name / stamp
    run_dir.mkdir(parents=True, exist_ok=True)
    notebook_out = run_dir / "audit.ipynb"
    params_file = run_dir / "parameters.yaml"
    params_file.write_text(yaml.safe_dump(parameters_for(job, run_dir, config.history)), encoding="utf-8")
    cmd = _papermill_command(config, notebook_out, params_file)
    started = time.monotonic()
    if isinstance(job.links, SesamLinks):
        try:
            fetch_links(job.links, run_dir)
        except AuditError as exc:
            seconds = round(time.monotonic() - started, 2)
            return JobResult(job.name, exc.exit_code, run_dir, notebook_out, None, None, f"sesam links: {exc}", seconds)
    proc, timed_out = _run_with_timeout(cmd, config.timeout_minutes * 60)
    seconds = time.monotonic() - started
    html = export_html(notebook_out) if notebook_out.exists() else None
    report = run_dir / "report.html"
    report = report if report.exists() else None
    if timed_out:
        code, message = EXIT_EXTERNAL, f"timed out after {config.timeout_minutes:g} minutes"
    elif proc is not None and proc.returncode == 0:
        code, message = _finished(run_dir / "summary.json")
    else:
        code, message = _failed(proc, notebook_out)
    return JobResult(job.name, code, run_dir, notebook_out, html, report, message, round(seconds, 2))


def _papermill_command(config: NightlyConfig, notebook_out: Path, params_file: Path) -> list[str]:
    cmd = [
        sys.executable,
        "-m",
        "papermill",
        str(config.notebook or DEFAULT_NOTEBOOK),
        str(notebook_out),
        "-f",
        str(params_file),
        "--no-progress-bar",
        "--cwd",
        str(Path.cwd()),
    ]
    return cmd + ["-k", config.kernel] if config.kernel else cmd


def _finished(summary: Path) -> tuple[int, str]:
    """Exit code and message of a notebook that ran to the end: the audit's verdict."""
    try:
        success = json.loads(summary.read_text(encoding="utf-8"))["success"]
    except (OSError, ValueError, KeyError):
        return EXIT_INPUT, f"the notebook ran but wrote no readable {summary}"
    return (EXIT_OK, "in sync") if success else (EXIT_DRIFT, "drift found")


def _failed(proc: subprocess.CompletedProcess | None, notebook_out: Path) -> tuple[int, str]:
    """Exit code and message of a failed run: the failing cell's exception, else
    papermill's last line of stderr."""
    error = _error_name(notebook_out) if notebook_out.exists() else None
    if error:
        ename, evalue = error
        code = EXIT_EXTERNAL if ename in _EXTERNAL_ERRORS else EXIT_INPUT
        return code, f"{ename}: {evalue}".strip()
    tail = (proc.stderr if proc else "").strip().splitlines()[-1:] or ["papermill failed"]
    return EXIT_INPUT, tail[0]


def _run_with_timeout(cmd: list[str], timeout: float) -> tuple[subprocess.CompletedProcess | None, bool]:
    """Run papermill in its own process group; past ``timeout`` seconds the whole group
    (papermill and the kernel it started) is killed."""
    with subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    ) as popen:
        try:
            out, err = popen.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(popen.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            popen.communicate()
            return None, True
        return subprocess.CompletedProcess(cmd, popen.returncode, out, err), False


def run_nightly(config: NightlyConfig, now: datetime | None = None) -> NightlyResult:
    """Run every job of the configuration; results in order."""
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y%m%dT%H%M%SZ")
    result = NightlyResult()
    for job in config.jobs:
        result.jobs.append(run_job(job, config, stamp))
    return result
