"""The notebooks run under papermill on the demo snapshot, and stay thin and output-free."""

from __future__ import annotations

import json
from pathlib import Path

import papermill as pm
import polars as pl
import pytest
from audit_cli import writeback_plan

from audit.errors import ConfigError
from audit.runs.notebook import AuditParameters, InvestigateParameters, Investigation, plan_tables

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "data" / "flows" / "powerofficego-powerofficego.rst"
DEMO = ROOT / "data" / "demo"
NOTEBOOKS = ["notebooks/audit.ipynb", "notebooks/investigate.ipynb"]


@pytest.fixture(scope="module")
def audited(tmp_path_factory) -> Path:
    """The audit notebook executed by papermill on the demo snapshot."""
    tmp = tmp_path_factory.mktemp("nb")
    pm.execute_notebook(
        str(ROOT / "notebooks/audit.ipynb"),
        str(tmp / "audit.out.ipynb"),
        parameters={"out": str(tmp / "run"), "history": str(tmp / "history")},
        cwd=str(ROOT),
        progress_bar=False,
        kernel_name="python3",
    )
    return tmp


@pytest.mark.parametrize("path", NOTEBOOKS)
def test_notebooks_are_committed_without_outputs_and_with_a_parameters_cell(path):
    nb = json.loads((ROOT / path).read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(not c.get("outputs") and not c.get("execution_count") for c in code)
    assert any("parameters" in c["metadata"].get("tags", []) for c in code)


@pytest.mark.parametrize("path", NOTEBOOKS)
def test_notebooks_define_no_functions_or_classes(path):
    nb = json.loads((ROOT / path).read_text(encoding="utf-8"))
    source = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
    assert "def " not in source and "class " not in source


def test_audit_notebook_writes_outputs_and_report(audited):
    run = audited / "run"
    assert (run / "report.html").exists() and (run / "findings.parquet").exists()
    summary = json.loads((run / "summary.json").read_text())
    assert summary["success"] is False
    nb = json.loads((audited / "audit.out.ipynb").read_text())
    text = json.dumps(nb)
    assert "DRIFT FOUND" in text


def test_investigate_notebook_shows_mismatches_and_writes_decisions(audited):
    decisions = audited / "decisions.csv"
    out_nb = audited / "investigate.out.ipynb"
    pm.execute_notebook(
        str(ROOT / "notebooks/investigate.ipynb"),
        str(out_nb),
        parameters={"out": str(audited / "run"), "decisions": str(decisions), "pair": "Contactperson to"},
        cwd=str(ROOT),
        progress_bar=False,
        kernel_name="python3",
    )
    rows = pl.read_csv(decisions, infer_schema=False)
    assert rows.height >= 2 and set(rows["decision"].fill_null("")) == {""}
    assert set(rows["pair"]) == {"Powerofficego Contactperson to PowerOfficeGo Customer"}
    text = json.dumps(json.loads(out_nb.read_text()))
    assert "mailAddress.city" in text  # the property overview and the lookup were shown


def test_investigate_notebook_adds_a_users_rule_that_the_next_audit_runs(audited):
    from audit.core.engine import run_audit

    expectations = audited / "my-expectations"
    pm.execute_notebook(
        str(ROOT / "notebooks/investigate.ipynb"),
        str(audited / "investigate.rule.ipynb"),
        parameters={
            "out": str(audited / "run"),
            "pair": "Contactperson to",
            "property": "zipCode",
            "rule_regex": "^[0-9]{4}$",
            "expectations": str(expectations),
        },
        cwd=str(ROOT),
        progress_bar=False,
        kernel_name="python3",
    )
    (suite,) = expectations.glob("*/*.user.json")
    rule = json.loads(suite.read_text())["expectations"][0]
    assert rule["kwargs"] == {"column": "target.mailAddress.zipCode", "regex": "^[0-9]{4}$"}
    result = run_audit(
        SEED, DEMO / "source", DEMO / "target", links_dir=DEMO / "global-person.json", expectations_dir=expectations
    )
    failed = result.findings.filter(pl.col("status") == "expectation_failed")
    assert failed.height >= 1 and set(failed["target_property"]) == {"mailAddress.zipCode"}


def test_investigate_notebook_shows_a_writeback_plan_for_review(audited):
    plan = audited / "plan.json"
    made = writeback_plan(audited / "run", SEED, DEMO / "source", DEMO / "target", plan, cwd=ROOT)
    assert made.returncode == 0, made.stderr
    out_nb = audited / "investigate.plan.ipynb"
    pm.execute_notebook(
        str(ROOT / "notebooks/investigate.ipynb"),
        str(out_nb),
        parameters={"out": str(audited / "run"), "plan": str(plan)},
        cwd=str(ROOT),
        progress_bar=False,
        kernel_name="python3",
    )
    changes, skipped, digest = plan_tables(plan)
    text = json.dumps(json.loads(out_nb.read_text()))
    assert f"--approve {digest}" in text
    assert changes.height >= 1 and changes["record"][0] in text
    mismatches = pl.read_parquet(audited / "run" / "findings.parquet").filter(pl.col("status") == "mismatch")
    assert changes.height + skipped.height == mismatches.height


def test_lookup_shows_one_record_on_both_sides(audited):
    inv = Investigation.load(
        InvestigateParameters.check(out=audited / "run", flow=SEED, source=DEMO / "source", target=DEMO / "target")
    )
    mism = inv.mismatches("Contactperson to", "city")
    key = mism["source_key"][0]
    table = inv.lookup("Contactperson to", key)
    row = table.filter(pl.col("source property") == "city")
    assert row["source value"][0] == mism["source_value"][0]
    assert row["target value"][0] == mism["target_value"][0]


def test_secret_looking_parameter_is_refused():
    with pytest.raises(ConfigError, match="secrets"):
        AuditParameters.check(flow=SEED, source=DEMO / "source", target=DEMO / "target", out="x", client_key="abc")


def test_missing_snapshot_parameter_names_the_path(tmp_path):
    with pytest.raises(ConfigError, match="nowhere"):
        AuditParameters.check(flow=SEED, source=tmp_path / "nowhere", target=DEMO / "target", out=tmp_path)
