"""The history knows a run's tenants by a stable label, not by the (dated) snapshot path."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl
from outdir_factory import HEADER, PAIR, summary, table, write_outdir

from audit.core.engine import run_audit
from audit.core.tenant_label import tenant_label
from audit.reporting import history
from audit.reporting.report import build_report
from audit.runs.nightly import Job, parameters_for

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "data" / "flows" / "powerofficego-powerofficego.rst"
DEMO = ROOT / "data" / "demo"
FINDINGS = f"""
{HEADER}
{PAIR} | 1 | 11 | city | mailAddress.city | mismatch | Oslo | Bergen
"""


def _fetched_run(tmp_path: Path, day: int, **labels) -> Path:
    """A run on the snapshots fetched that night: new dated folders, the same tenants."""
    body = summary(
        started_at=f"2024-05-{day:02d}T02:00:00+00:00",
        source=f"snapshots/2024-05-{day:02d}/source",
        target=f"snapshots/2024-05-{day:02d}/target",
    )
    return write_outdir(tmp_path / f"run{day}", table(FINDINGS), {**body, **labels})


def test_runs_on_new_snapshot_folders_of_the_same_labels_form_one_trend(tmp_path):
    store = tmp_path / "store"
    for day in (1, 2):
        history.record_run(_fetched_run(tmp_path, day, source_label="Tenant A", target_label="Tenant B"), store)

    assert len(history.trend(store, source="Tenant A", target="Tenant B")) == 2
    assert history.compare_last(store).previous_run_id is not None


def test_runs_without_labels_are_told_apart_by_path(tmp_path):
    store = tmp_path / "store"
    for day in (1, 2):
        history.record_run(_fetched_run(tmp_path, day), store)

    assert history.compare_last(store).previous_run_id is None


def test_an_older_history_file_reads_with_its_paths_as_labels(tmp_path):
    store = tmp_path / "store"
    history.record_run(_fetched_run(tmp_path, 1), store)
    (file,) = (store / "runs").glob("*.parquet")
    old = pl.read_parquet(file).drop("source_label", "target_label")
    old.with_columns(pl.lit(1, pl.Int32).alias("schema_version")).write_parquet(file)

    t = history.trend(store)
    assert t["source_label"].to_list() == ["snapshots/2024-05-01/source"]


def test_the_label_is_the_given_one_then_the_manifests_tenant_then_the_path(tmp_path):
    (tmp_path / "manifest.json").write_text(json.dumps({"tenant": "Tenant A"}), encoding="utf-8")
    assert tenant_label("Job label", tmp_path) == "Job label"
    assert tenant_label("", tmp_path) == "Tenant A"
    assert tenant_label(None, tmp_path / "no-manifest") == str(tmp_path / "no-manifest")


def test_the_audit_summary_records_the_manifests_tenant_and_a_given_label(tmp_path):
    source = shutil.copytree(DEMO / "source", tmp_path / "2024-05-01" / "source")
    (source / "manifest.json").write_text(json.dumps({"tenant": "Tenant A", "api": "v1"}), encoding="utf-8")

    result = run_audit(SEED, source, DEMO / "target", DEMO / "global-person.json", labels={"target": "Tenant B"})

    assert (result.summary["source_label"], result.summary["target_label"]) == ("Tenant A", "Tenant B")


def test_a_nightly_api_side_is_labelled_by_its_job_and_a_snapshot_side_left_to_the_audit(tmp_path):
    job = Job(name="live", flow=SEED, source={"api": "v2"}, target=DEMO / "target")
    params = parameters_for(job, tmp_path, tmp_path / "history")
    assert (params["source_label"], params["target_label"]) == ("live: source (v2 API)", "")


def test_the_report_names_the_tenants_by_label_with_their_paths(tmp_path):
    out = _fetched_run(tmp_path, 1, source_label="Tenant A", target_label="Tenant B")
    html = build_report(out, data_docs=False).read_text(encoding="utf-8")
    assert '<b class="tenant">Tenant A</b> <span class="via">(snapshots/2024-05-01/source)</span>' in html
