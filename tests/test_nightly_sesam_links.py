"""A nightly job whose link source is a Sesam node and dataset, read before the audit from
the simulator's Sesam endpoint on 127.0.0.1."""

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
from audit.runs.nightly_links import SesamLinks
from audit.systems.poweroffice.sim.server import running_simulator

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "data" / "flows" / "powerofficego-powerofficego.rst"
DEMO = ROOT / "data" / "demo"
SERVED = DEMO / "global-person.json"
JWT = "FAKE-SESAM-JWT-nightly-4be1a9"


def _config(tmp_path: Path, links) -> Path:
    job = {"name": "demo", "flow": str(SEED), "source": str(DEMO / "source"), "target": str(DEMO / "target")}
    body = {"out": str(tmp_path / "nightly"), "history": str(tmp_path / "history"), "jobs": [{**job, "links": links}]}
    path = tmp_path / "nightly.yaml"
    path.write_text(yaml.safe_dump(body), encoding="utf-8")
    return path


def _nightly(config: Path, jwt: str | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "SESAM_JWT"}
    env.update(PYTHONPATH=str(ROOT / "src"), SESAM_PAGE_SIZE="25")
    if jwt is not None:
        env["SESAM_JWT"] = jwt
    return subprocess.run(
        [sys.executable, "-m", "audit", "nightly", "--config", str(config)],
        capture_output=True,
        text=True,
        cwd=config.parent,  # the test's folder: no `.env` of the clone is read
        env=env,
        timeout=600,
    )


def _run_dir(tmp_path: Path) -> Path:
    (run,) = list((tmp_path / "nightly" / "demo").iterdir())
    return run


@pytest.fixture
def node(monkeypatch):
    monkeypatch.setenv("SESAM_JWT", JWT)
    with running_simulator(None, sesam_datasets={"global-person": SERVED}, fault_rate=0.4, seed=5) as sim:
        yield sim


def test_the_job_reads_the_dataset_into_its_run_folder_and_audits_with_it(tmp_path, node):
    result = _nightly(_config(tmp_path, {"node": node.base_url, "dataset": "global-person"}), JWT)
    assert result.returncode == 1, result.stdout + result.stderr
    run = _run_dir(tmp_path)
    assert json.loads((run / "links" / "global-person.json").read_text()) == json.loads(SERVED.read_text())
    summary = json.loads((run / "summary.json").read_text())
    assert [p["link_method"] for p in summary["pairs"]] == ["merge_rules", "sesam", "sesam"]
    assert node.sesam.faults > 0


def test_the_jwt_is_in_no_file_and_no_output_of_the_job(tmp_path, node):
    result = _nightly(_config(tmp_path, {"node": node.base_url, "dataset": "global-person"}), JWT)
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(files) > 10
    assert [p for p in files if JWT.encode() in p.read_bytes()] == []
    assert JWT not in result.stdout and JWT not in result.stderr


def test_without_a_jwt_the_job_stops_before_the_audit_with_exit_2(tmp_path, node):
    result = _nightly(_config(tmp_path, {"node": node.base_url, "dataset": "global-person"}), None)
    assert result.returncode == 2 and "SESAM_JWT" in result.stdout
    assert not (_run_dir(tmp_path) / "audit.ipynb").exists()


def test_a_refused_jwt_fails_the_job_with_exit_3(tmp_path, node):
    result = _nightly(_config(tmp_path, {"node": node.base_url, "dataset": "global-person"}), "not-the-node-jwt")
    assert result.returncode == 3 and "refused" in result.stdout
    assert "not-the-node-jwt" not in result.stdout + result.stderr


def test_an_unknown_dataset_is_bad_configuration_exit_2(tmp_path, node):
    result = _nightly(_config(tmp_path, {"node": node.base_url, "dataset": "global-nothing"}), JWT)
    assert result.returncode == 2 and "no such dataset" in result.stdout


def test_the_notebook_is_given_the_run_folders_export(tmp_path):
    job = Job(name="x", flow=SEED, source=DEMO, target=DEMO, links={"node": "https://n.sesam.cloud", "dataset": "gp"})
    assert parameters_for(job, tmp_path, tmp_path / "h")["links"] == str(tmp_path / "links" / "gp.json")


def test_a_node_without_a_dataset_is_refused_naming_the_field(tmp_path):
    with pytest.raises(ConfigError, match="dataset"):
        load_config(_config(tmp_path, {"node": "https://n.sesam.cloud"}))


def test_a_links_file_is_still_a_path(tmp_path):
    job = load_config(_config(tmp_path, str(SERVED))).jobs[0]
    assert job.links == SERVED and not isinstance(job.links, SesamLinks)
