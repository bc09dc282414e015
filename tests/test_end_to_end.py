"""The audit of demo tenants finds exactly the planted drift: nothing missed, nothing extra."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from audit_cli import audit_cli, flow_args

from audit.core.engine import run_audit
from audit.demo.generator import FINDING_KEYS, generate
from audit.errors import ConfigError
from audit.flow.parser import parse_file

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "data" / "flows" / "powerofficego-powerofficego.rst"
#: The project's own suites (the demo plants records failing its zip-code rule)
EXPECTATIONS = ROOT / "expectations"


def _identities(frame: pl.DataFrame) -> set[tuple[str, ...]]:
    return set(frame.select(FINDING_KEYS).fill_null("").iter_rows())


def _assert_exact(found: pl.DataFrame, expected: pl.DataFrame) -> None:
    got, want = _identities(found), _identities(expected)
    assert not (want - got), f"missed: {sorted(want - got)[:10]}"
    assert not (got - want), f"extra: {sorted(got - want)[:10]}"


@pytest.mark.parametrize(
    "mode,source_api,target_api",
    [
        ("two-tenants", "v1", "v2"),
        ("two-tenants", "v2", "v1"),
        ("two-tenants", "v2", "v2"),
        ("self", "v1", "v1"),
        ("self", "v2", "v2"),
    ],
)
def test_planted_drift_is_found_exactly(tmp_path, mode, source_api, target_api):
    flow = parse_file(SEED)
    demo = generate(
        tmp_path / "demo", flow, records=120, seed=11, mode=mode, source_api=source_api, target_api=target_api
    )
    result = run_audit(flow, demo.source, demo.target, demo.links, expectations_dir=EXPECTATIONS)
    _assert_exact(result.findings, demo.expected)
    assert result.success is False
    assert {p["link_method"] for p in result.summary["pairs"]} == {"merge_rules", "sesam"}
    assert result.summary["warnings"] == []


def test_parquet_demo_audits_like_jsonl(tmp_path):
    flow = parse_file(SEED)
    demo = generate(tmp_path / "demo", flow, records=60, fmt="parquet")
    _assert_exact(
        run_audit(flow, demo.source, demo.target, demo.links, expectations_dir=EXPECTATIONS).findings, demo.expected
    )


@pytest.mark.parametrize("mode", ["two-tenants", "self"])
def test_the_demo_ids_are_unrelated_so_id_matching_links_nothing(tmp_path, mode):
    flow = parse_file(SEED)
    demo = generate(tmp_path / "demo", flow, records=60, mode=mode)
    summary = run_audit(flow, demo.source, demo.target, link_by_id=True).summary
    every = [p for p in summary["pairs"] if p["link_method"] == "id"]
    assert len(every) == 2 and all(p["linked"] == 0 for p in every)
    assert len(summary["warnings"]) == 2


def test_the_demo_without_links_stops_naming_the_pair(tmp_path):
    flow = parse_file(SEED)
    demo = generate(tmp_path / "demo", flow, records=30)
    with pytest.raises(ConfigError, match="Contactperson -> Customer"):
        run_audit(flow, demo.source, demo.target)


def test_audit_run_on_the_bundled_demo_finds_the_expected_findings(tmp_path):
    out = tmp_path / "out"
    demo = ROOT / "data" / "demo"
    links = demo / "global-person.json"
    result = audit_cli("run", *flow_args(SEED, demo / "source", demo / "target", out), "--links", links)
    assert result.returncode == 1, result.stderr
    expected = pl.read_csv(ROOT / "data/demo/expected_findings.csv", infer_schema=False)
    _assert_exact(pl.read_parquet(out / "findings.parquet"), expected)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["success"] is False
