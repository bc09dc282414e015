"""Smaller things a new user tripped over: approval messages, JSON error positions, the run
summary's properties, and ``writeback plan`` on the audit's own inputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from audit.cli import output
from audit.core.engine import run_audit, write_outputs
from audit.core.snapshot import read_snapshot
from audit.demo.generator import generate
from audit.errors import EXIT_INPUT, ConfigError, InputError, SnapshotError
from audit.flow.parser import parse_file
from audit.reporting.rundir import read_summary
from audit.writeback import apply_plan, load_plan
from audit.writeback.from_audit import plan_from_audit
from audit.writeback.model import Plan, write_plan

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "data" / "flows" / "powerofficego-powerofficego.rst"
DEMO = ROOT / "data" / "demo"


@pytest.fixture(scope="module")
def audited(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("small") / "audit"
    write_outputs(run_audit(SEED, DEMO / "source", DEMO / "target", links_dir=DEMO / "global-person.json"), out)
    return out


def test_a_mistyped_approval_says_the_hash_does_not_match(tmp_path):
    plan = load_plan(write_plan(Plan(header={}, changes=[]), tmp_path / "plan.json"))
    with pytest.raises(ConfigError, match="does not match the plan's hash") as caught:
        apply_plan(plan, {}, approve="0123abcd", dry_run=False, journal_path=str(tmp_path / "j"))
    assert "changed after review" not in str(caught.value)


def test_apply_without_approval_sends_to_the_review_and_hides_the_hash(tmp_path):
    plan = Plan(header={}, changes=[])
    with pytest.raises(ConfigError, match="review the plan first with a dry run") as caught:
        apply_plan(plan, {}, dry_run=False, journal_path=str(tmp_path / "j"))
    assert plan.hash not in str(caught.value)


def test_a_json_error_in_a_snapshot_keeps_its_position(tmp_path):
    (tmp_path / "customer.jsonl").write_text('{"id": 1}\n{"id": 2, "name": "Kari\n', encoding="utf-8")
    with pytest.raises(SnapshotError, match=r"customer.jsonl:2: not valid JSON \(Unterminated string .* column 19\)"):
        read_snapshot(tmp_path, ["customer"])


def test_a_json_error_in_a_summary_keeps_its_position(tmp_path):
    (tmp_path / "summary.json").write_text('{"success": tru}', encoding="utf-8")
    with pytest.raises(InputError, match="at column 13"):
        read_summary(tmp_path)


def _summary(failing: int) -> dict:
    props = [{"source": f"p{i}", "target": f"q{i}", "checked": 10, "failing": 1} for i in range(failing)]
    pair = {"pair": "A to B", "link_coverage": 1.0, "link_method": "id", "linked": 10, "source_records": 10,
            "target_records": 10, "missing_in_target": 0, "missing_in_source": 0, "ambiguous_links": 0,
            "properties": props}
    return {"success": False, "findings": failing, "pairs": [pair]}


def test_the_run_summary_prints_every_property_when_there_are_few(capsys):
    output.audit_summary(_summary(4))
    text = capsys.readouterr().out
    assert all(f"p{i} -> q{i}" in text for i in range(4)) and "more properties" not in text


def test_the_run_summary_cuts_a_long_list(capsys):
    output.audit_summary(_summary(12))
    assert "... 9 more properties with findings" in capsys.readouterr().out


def test_writeback_plan_takes_flow_and_snapshots_from_the_audit(audited, tmp_path):
    plan = plan_from_audit(audited, None, None, None, tmp_path / "plan.json")
    assert plan.changes and plan.header["source"] == str(DEMO / "source")


def test_writeback_plan_refuses_snapshots_the_audit_did_not_read(audited, tmp_path):
    generate(tmp_path / "other", parse_file(SEED), records=40, seed=3)
    with pytest.raises(ConfigError, match="the audit read") as caught:
        plan_from_audit(audited, SEED, tmp_path / "other" / "source", None, tmp_path / "plan.json")
    assert caught.value.exit_code == EXIT_INPUT and not (tmp_path / "plan.json").exists()


def test_writeback_plan_refuses_a_copy_with_other_record_counts(audited, tmp_path):
    import shutil

    copy = shutil.copytree(DEMO / "source", tmp_path / "copy")
    lines = (copy / "customer.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    (copy / "customer.jsonl").write_text("".join(lines[:-1]), encoding="utf-8")
    summary = json.loads((audited / "summary.json").read_text(encoding="utf-8"))
    summary["source"] = str(tmp_path / "gone")  # the audit's folder is not there from here
    (tmp_path / "audit").mkdir()
    for name in ("findings.parquet", "findings.csv"):
        shutil.copy(audited / name, tmp_path / "audit" / name)
    (tmp_path / "audit" / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"holds 99 Customer records, the audit read 100"):
        plan_from_audit(tmp_path / "audit", SEED, copy, DEMO / "target", tmp_path / "plan.json")


def test_writeback_plan_without_the_audits_summary_says_it_is_missing(tmp_path):
    from audit.errors import ConfigError
    from audit.writeback.audit_inputs import audit_inputs

    with pytest.raises(ConfigError, match=r"summary.json: does not exist, so it names no flow; give --flow"):
        audit_inputs(tmp_path, {}, {"flow": None, "source": None, "target": None})
