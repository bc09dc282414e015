"""The investigate notebook's API: the audit's own snapshots, any record id, any status."""

from __future__ import annotations

import json
from pathlib import Path

import papermill as pm
import polars as pl
import pytest

from audit.core.engine import run_audit, write_outputs
from audit.demo.generator import generate
from audit.errors import ConfigError, InputError
from audit.flow.parser import parse_file
from audit.runs.investigate import InvestigateParameters, Investigation

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "data" / "flows" / "powerofficego-powerofficego.rst"
PERSONS = "Contactperson to"


@pytest.fixture(scope="module")
def audited(tmp_path_factory) -> Path:
    """An audit of tenants that are not the bundled demo (another seed, elsewhere)."""
    root = tmp_path_factory.mktemp("inv")
    flow = parse_file(SEED)
    generate(root, flow, records=40, seed=3)
    result = run_audit(flow, root / "source", root / "target", links_dir=root / "global-person.json")
    write_outputs(result, root / "audit")
    return root


@pytest.fixture
def inv(audited, monkeypatch) -> Investigation:
    monkeypatch.chdir(ROOT)  # where data/demo, the notebook's old default, is at hand
    return Investigation.load(InvestigateParameters.check(out=audited / "audit"))


def test_with_only_out_the_snapshots_are_those_the_audit_read(inv, audited):
    assert Path(inv.source.directory) == audited / "source"
    row = inv.mismatches(PERSONS, "mailAddress.city", "mismatch").row(0, named=True)
    shown = inv.lookup(PERSONS, row["source_key"]).filter(pl.col("source property") == row["source_property"])
    assert shown["source value"][0] == row["source_value"]


def test_a_record_id_is_accepted_as_given(audited):
    assert InvestigateParameters.check(out=audited / "audit", record=5000079).record == "5000079"


def test_an_unknown_property_says_so_and_lists_the_valid_ones(inv):
    with pytest.raises(ConfigError, match=r"'cty' is not a property of .*its properties: .*mailAddress\.city"):
        inv.mismatches(PERSONS, "cty")


def test_a_property_is_found_by_its_target_path_too(inv):
    assert inv.property_of(PERSONS, "MAILADDRESS.CITY") == "city"


def test_a_pair_without_properties_charts_a_note_not_an_error(inv):
    assert "no mapped properties" in inv.mismatch_chart("Supplier")


@pytest.mark.parametrize(
    ("pair", "status"),
    [("Supplier", "ambiguous_link"), ("Customer to", "unresolved_property"), (PERSONS, "missing_in_target")],
)
def test_every_status_can_be_listed(inv, pair, status):
    rows = inv.mismatches(pair, status=status)
    assert rows.height and set(rows["status"]) == {status}


@pytest.mark.parametrize(("status", "side"), [("missing_in_target", "source"), ("missing_in_source", "target")])
def test_a_record_only_one_side_has_is_looked_up_on_that_side(inv, status, side):
    table = inv.lookup_first(PERSONS, inv.mismatches(PERSONS, status=status))
    assert table[f"{side} value"].drop_nulls().len() > 0


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("summary.json", "{bad", r"summary\.json:1: not valid JSON"),
        ("summary.json", "[]", r"summary\.json: expected a JSON object"),
        ("findings.parquet", "not parquet", r"findings\.parquet: cannot be read"),
    ],
)
def test_a_damaged_output_file_is_refused_naming_it(audited, tmp_path, name, content, message):
    out = tmp_path / "audit"
    out.mkdir()
    for kept in ("summary.json", "findings.parquet"):
        (out / kept).write_bytes((audited / "audit" / kept).read_bytes())
    (out / name).write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match=message):
        Investigation.load(InvestigateParameters.check(out=out))


def test_an_unknown_status_is_refused(audited):
    with pytest.raises(ConfigError, match="not a finding status"):
        InvestigateParameters.check(out=audited / "audit", status="missing")


def test_the_notebook_runs_with_only_out_on_a_pair_without_properties(audited, tmp_path):
    out_nb = tmp_path / "investigate.out.ipynb"
    pm.execute_notebook(
        str(ROOT / "notebooks/investigate.ipynb"),
        str(out_nb),
        parameters={"out": str(audited / "audit"), "pair": "Supplier", "status": "missing_in_target",
                    "record": 2000001},
        cwd=str(ROOT),
        progress_bar=False,
        kernel_name="python3",
    )
    cells = json.loads(out_nb.read_text())["cells"]
    shown = json.dumps([c.get("outputs", []) for c in cells])  # what the notebook printed, not its parameters
    assert "no mapped properties to chart" in shown and "missing_in_target" in shown


def test_the_chart_is_inline_svg_and_needs_no_cdn(inv):
    svg = inv.mismatch_chart(PERSONS)._repr_svg_()
    assert svg.startswith("<svg") and "<script" not in svg and "city" in svg


def test_the_notebooks_chart_output_is_svg_without_vega_scripts(audited, tmp_path):
    out_nb = tmp_path / "investigate.chart.ipynb"
    pm.execute_notebook(
        str(ROOT / "notebooks/investigate.ipynb"), str(out_nb),
        parameters={"out": str(audited / "audit"), "pair": PERSONS},
        cwd=str(ROOT), progress_bar=False, kernel_name="python3",
    )
    outputs = [o for c in json.loads(out_nb.read_text())["cells"] for o in c.get("outputs", [])]
    assert any("image/svg+xml" in o.get("data", {}) for o in outputs)
    text = json.dumps(outputs)
    assert "cdn.jsdelivr" not in text and "vega-embed" not in text


def test_add_rule_writes_the_rule_on_the_property_s_target_column(inv, tmp_path):
    import json

    path = inv.add_rule(tmp_path / "expectations", prop="zipCode", regex=r"^\d{4}$")
    (rule,) = json.loads(path.read_text(encoding="utf-8"))["expectations"]
    assert rule["kwargs"]["regex"] == r"^\d{4}$" and rule["kwargs"]["column"].startswith("target.")


def test_add_rule_refuses_a_side_that_is_neither_source_nor_target(inv, tmp_path):
    with pytest.raises(ValueError, match="side must be 'source' or 'target'"):
        inv.add_rule(tmp_path / "expectations", prop="zipCode", side="left", regex="x")
