"""``audit nightly``: papermill runs of the audit notebook, their files and exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from audit.errors import ConfigError
from audit.runs.nightly import Job, load_config, parameters_for
from audit.systems.poweroffice.sim.server import Keys, running_simulator

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "data" / "flows" / "powerofficego-powerofficego.rst"
DEMO = ROOT / "data" / "demo"
FAKE = Keys(
    application_key="FAKE-APP-KEY-7f3a9c",
    client_key="FAKE-CLIENT-KEY-51d2e8",
    subscription_key="FAKE-SUB-KEY-c0ffee",
)


def _config(tmp_path: Path, jobs: list[dict], **extra) -> Path:
    path = tmp_path / "nightly.yaml"
    body = {"out": str(tmp_path / "nightly"), "history": str(tmp_path / "history"), "jobs": jobs, **extra}
    path.write_text(yaml.safe_dump(body), encoding="utf-8")
    return path


def _demo_job(**over) -> dict:
    job = {"name": "demo", "flow": str(SEED), "source": str(DEMO / "source"), "target": str(DEMO / "target")}
    job["links"] = str(DEMO / "global-person.json")
    job["expectations"] = str(ROOT / "expectations")  # the project's own zip-code rule
    job.update(over)
    return job


def _nightly(config: Path, env: dict | None = None, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "audit", "nightly", "--config", str(config), *extra],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        timeout=600,
    )


def _run_dir(tmp_path: Path, name: str = "demo") -> Path:
    (run,) = list((tmp_path / "nightly" / name).iterdir())
    return run


def test_nightly_on_the_demo_finds_drift_and_keeps_notebook_html_and_report(tmp_path):
    result = _nightly(_config(tmp_path, [_demo_job()]))
    assert result.returncode == 1, result.stderr
    run = _run_dir(tmp_path)
    for name in ("audit.ipynb", "audit.html", "report.html", "summary.json", "findings.parquet"):
        assert (run / name).exists(), name
    nb = json.loads((run / "audit.ipynb").read_text())
    assert any(c.get("outputs") for c in nb["cells"] if c["cell_type"] == "code")
    assert "report:" in result.stdout and str(run / "report.html") in result.stdout
    assert list((tmp_path / "history" / "runs").glob("*.parquet"))


def test_the_nightly_run_lists_records_failing_the_users_zip_code_rule(tmp_path):
    import polars as pl

    result = _nightly(_config(tmp_path, [_demo_job()]))
    assert result.returncode == 1, result.stderr
    run = _run_dir(tmp_path)
    failed = pl.read_parquet(run / "findings.parquet").filter(pl.col("status") == "expectation_failed")
    assert "41319" in set(failed["target_value"]) and set(failed["target_property"]) == {"mailAddress.zipCode"}
    report = (run / "report.html").read_text(encoding="utf-8")
    assert "expectation_failed" in report and "expect_column_values_to_match_regex(regex=^\\d{4}$)" in report


def test_a_failing_cell_leaves_the_notebook_with_the_error_and_exit_2(tmp_path):
    result = _nightly(_config(tmp_path, [_demo_job(source=str(tmp_path / "no-such-snapshot"))]))
    assert result.returncode == 2
    run = _run_dir(tmp_path)
    nb = json.loads((run / "audit.ipynb").read_text())
    errors = [o for c in nb["cells"] for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert errors and errors[0]["ename"] == "ConfigError"
    assert "no-such-snapshot" in errors[0]["evalue"]
    assert (run / "audit.html").exists()
    assert "ConfigError" in result.stdout


def _kernels(tmp_dir: Path) -> list[str]:
    """Command lines of running Jupyter kernels whose connection file is in ``tmp_dir``
    (papermill writes it with ``tempfile``, so a job run with ``TMPDIR=tmp_dir`` starts only
    such kernels; other processes' kernels are none of this test's business)."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if "ipykernel_launcher" in cmd and str(tmp_dir) in cmd:
            found.append(cmd)
    return found


def test_a_job_past_its_timeout_is_stopped_with_its_kernel_and_exit_3(tmp_path):
    job_tmp = tmp_path / "job-tmp"
    job_tmp.mkdir()
    config = _config(tmp_path, [_demo_job()], timeout_minutes=0.08)
    result = _nightly(config, {"TMPDIR": str(job_tmp)})
    assert result.returncode == 3
    assert "timed out" in result.stdout
    assert (_run_dir(tmp_path) / "audit.ipynb").exists()  # the partial notebook is kept
    assert _kernels(job_tmp) == []


def test_unreadable_config_exits_2_naming_the_file(tmp_path):
    bad = tmp_path / "nightly.yaml"
    bad.write_text("jobs: [ {name: x, flow: a.rst\n", encoding="utf-8")
    result = _nightly(bad)
    assert result.returncode == 2 and f"{bad}:2: not valid YAML" in result.stderr and "Traceback" not in result.stderr


def test_config_without_jobs_is_refused(tmp_path):
    path = tmp_path / "n.yaml"
    path.write_text("jobs: []\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="jobs"):
        load_config(path)


def test_a_bad_tenant_or_link_mapping_names_only_its_own_problem(tmp_path):
    job = _demo_job(source={"api": "v3"}, links={"node": "ftp://n", "dataset": "gp"})
    with pytest.raises(ConfigError) as caught:
        load_config(_config(tmp_path, [job]))
    assert str(caught.value) == (
        f"{tmp_path / 'nightly.yaml'}: jobs.0.source.api: Input should be 'v1' or 'v2'; "
        "jobs.0.links.node: String should match pattern '^https?://\\S+$'"
    )


def test_paths_relative_to_the_nightly_file_are_found_beside_it(tmp_path):
    (tmp_path / "my-expectations").mkdir()
    (tmp_path / "flow.rst").write_text(SEED.read_text(encoding="utf-8"), encoding="utf-8")
    job = load_config(_config(tmp_path, [_demo_job(flow="flow.rst", expectations="my-expectations")])).jobs[0]
    assert (job.flow, job.expectations) == (tmp_path / "flow.rst", tmp_path / "my-expectations")


def test_a_job_passes_its_link_source_to_the_notebook(tmp_path):
    links = DEMO / "global-person.json"
    params = parameters_for(Job(name="x", flow=SEED, source=DEMO, target=DEMO, links=links), tmp_path, tmp_path / "h")
    assert (params["links"], params["link_by_id"]) == (str(links), False)


def test_parameters_never_carry_a_secret_named_field(tmp_path):
    params = parameters_for(Job(name="x", flow=SEED, source=DEMO, target=DEMO), tmp_path, tmp_path / "h")
    assert not [k for k in params if "key" in k.lower() or "token" in k.lower()]


def test_fetching_job_with_fake_keys_leaves_them_in_no_output_file(tmp_path):
    with running_simulator(DEMO / "source", keys=FAKE) as sim:
        env = {k: v for k, v in sim.env().items()}
        result = _nightly(_config(tmp_path, [_demo_job(source={"api": "v2"}, source_label="tenant A (v2 API)")]), env)
    assert result.returncode == 1, result.stdout + result.stderr
    run = _run_dir(tmp_path)
    assert (run / "snapshots" / "source" / "customer.jsonl").exists()
    secrets = [FAKE.application_key, FAKE.client_key, FAKE.subscription_key]
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(files) > 10
    for path in files:
        data = path.read_bytes()
        for secret in secrets:
            assert secret.encode() not in data, f"{secret} found in {path}"
    for secret in secrets:
        assert secret not in result.stdout and secret not in result.stderr
