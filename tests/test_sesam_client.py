"""`audit sesam-links` against the simulator's Sesam node on 127.0.0.1: pages, faults, JWT."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from audit.systems.poweroffice.sim.server import running_simulator
from audit.systems.sesam.client import entities_url, read_dataset
from audit.systems.sesam.settings import SesamSettings

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo"
JWT = "FAKE-SESAM-JWT-9f2c41d7e0"
CP, CU = "~:powerofficego-contactperson:", "~:powerofficego-customer:"


@pytest.fixture
def export(tmp_path) -> Path:
    """23 entities, two of them deleted."""
    entities = [
        {"_id": f"p{i}", "_updated": i, "_deleted": i in (4, 17), "$ids": [f"{CP}{i}", f"{CU}{900 + i}"]}
        for i in range(23)
    ]
    path = tmp_path / "served.json"
    path.write_text(json.dumps(entities), encoding="utf-8")
    return path


def _settings(**over) -> SesamSettings:
    env = {"SESAM_JWT": JWT, "SESAM_PAGE_SIZE": "5", **over}
    return SesamSettings.from_env(env, dotenv_path=None)


def _run(*args: str, env: dict, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "audit", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src"), **env},
        cwd=cwd,
        timeout=120,
    )


def _sesam_links(tmp_path, served: Path, dataset: str, out: Path, env: dict, **sim_options):
    """``audit sesam-links`` of ``dataset``, run from ``tmp_path``, against a simulated node
    that serves ``served`` as ``global-person``."""
    with running_simulator(None, sesam_datasets={"global-person": served}, **sim_options) as sim:
        args = ("--node", sim.base_url, "--dataset", dataset, "--out", str(out))
        return _run("sesam-links", *args, env=env, cwd=tmp_path)


def test_the_written_export_holds_every_entity_the_node_serves_in_order(tmp_path, export, monkeypatch):
    monkeypatch.setenv("SESAM_JWT", JWT)
    with running_simulator(None, sesam_datasets={"global-person": export}) as sim:
        result = read_dataset(sim.base_url, "global-person", tmp_path / "out.json", settings=_settings())
    assert json.loads((tmp_path / "out.json").read_text()) == json.loads(export.read_text())
    assert (result.entities, result.deleted, result.pages) == (23, 2, 5)


def test_a_file_out_of_updated_order_is_served_and_read_whole_in_updated_order(tmp_path, export, monkeypatch):
    monkeypatch.setenv("SESAM_JWT", JWT)
    entities = json.loads(export.read_text())
    shuffled = tmp_path / "shuffled.json"
    shuffled.write_text(json.dumps(entities[::-1]), encoding="utf-8")
    with running_simulator(None, sesam_datasets={"global-person": shuffled}) as sim:
        read_dataset(sim.base_url, "global-person", tmp_path / "out.json", settings=_settings())
    assert json.loads((tmp_path / "out.json").read_text()) == entities


def test_injected_faults_are_retried_and_lose_nothing(tmp_path, export, monkeypatch):
    monkeypatch.setenv("SESAM_JWT", JWT)
    with running_simulator(None, sesam_datasets={"global-person": export}, fault_rate=0.4, seed=3) as sim:
        result = read_dataset(sim.base_url + "/api", "global-person", tmp_path / "out.json", settings=_settings())
        faults = sim.sesam.faults
    # 503/429 answers of the Sesam node, and the simulator's dropped connections
    assert faults > 0 and result.retries >= faults and result.requests == result.pages + result.retries
    assert json.loads((tmp_path / "out.json").read_text()) == json.loads(export.read_text())


def test_the_read_export_links_the_audit_like_the_served_file(tmp_path, monkeypatch):
    monkeypatch.setenv("SESAM_JWT", JWT)
    served = DEMO / "global-person.json"
    with running_simulator(None, sesam_datasets={"global-person": served}) as sim:
        read_dataset(sim.base_url, "global-person", tmp_path / "gp.json", settings=_settings(SESAM_PAGE_SIZE="40"))
    from audit.core.sesam_links import read_export

    assert read_export(tmp_path / "gp.json").identifiers.equals(read_export(served).identifiers)


def test_entities_url_takes_the_node_with_or_without_api():
    assert entities_url("https://n.sesam.cloud/api/", "global-person") == entities_url(
        "https://n.sesam.cloud", "global-person"
    )
    assert entities_url("http://x", "a b").endswith("/api/datasets/a%20b/entities")


def test_command_writes_the_export_and_never_shows_the_jwt(tmp_path, export, monkeypatch):
    monkeypatch.setenv("SESAM_JWT", JWT)  # the node's JWT
    env = {"SESAM_JWT": JWT, "SESAM_PAGE_SIZE": "4", "AUDIT_LOG_LEVEL": "DEBUG"}
    out = tmp_path / "links" / "global-person.json"
    run = _sesam_links(tmp_path, export, "global-person", out, env, fault_rate=0.3, seed=3)
    assert run.returncode == 0, run.stderr
    assert "23 entities (2 deleted)" in run.stdout and "GET " in run.stderr  # requests were logged
    assert JWT not in run.stdout + run.stderr and JWT not in out.read_text()
    assert json.loads(out.read_text()) == json.loads(export.read_text())


def test_a_refused_jwt_exits_3_naming_the_variable_and_keeps_the_old_file(tmp_path, export, monkeypatch):
    monkeypatch.setenv("SESAM_JWT", JWT)  # the node's JWT; the command gets another
    out = tmp_path / "gp.json"
    out.write_text("old")
    run = _sesam_links(tmp_path, export, "global-person", out, {"SESAM_JWT": "FAKE-WRONG-JWT-000000"})
    assert run.returncode == 3 and "SESAM_JWT" in run.stderr and "Traceback" not in run.stderr
    assert "FAKE-WRONG-JWT-000000" not in run.stdout + run.stderr
    assert out.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["gp.json", "served.json"]


def test_without_a_jwt_the_command_exits_2(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "SESAM_JWT"}
    run = subprocess.run(
        [sys.executable, "-m", "audit", "sesam-links", "--node", "http://127.0.0.1:9", "--dataset", "g", "--out", "x"],
        capture_output=True,
        text=True,
        env={**env, "PYTHONPATH": str(ROOT / "src")},
        cwd=tmp_path,
        timeout=60,
    )
    assert run.returncode == 2 and "SESAM_JWT is not set" in run.stderr


def test_an_unknown_dataset_exits_2(tmp_path, export, monkeypatch):
    monkeypatch.setenv("SESAM_JWT", JWT)
    run = _sesam_links(tmp_path, export, "nope", tmp_path / "o.json", {"SESAM_JWT": JWT})
    assert run.returncode == 2 and "no such dataset" in run.stderr


@pytest.mark.parametrize("node", ["notaurl", "http://", "ftp://node.example"])
def test_a_node_that_is_not_an_http_url_exits_2_naming_it(tmp_path, node):
    out = str(tmp_path / "o.json")
    result = _run("sesam-links", "--node", node, "--dataset", "d", "--out", out, env={"SESAM_JWT": JWT}, cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"--node {node!r}: not an http(s) URL" in result.stderr
