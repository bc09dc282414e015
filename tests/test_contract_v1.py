"""The written v1 rules (``contract/v1-rules.yaml``, each citing its documentation page)
hold on recorded exchanges of ``audit fetch`` (full and incremental), a write-back and
the simulator's refusals."""

from __future__ import annotations

import json

import pytest
from contract_v1 import CHECKS, rule_ids, violations
from poweroffice_fixtures import fetch_in_pages, settings_for
from writeback_tenants import Tenants, apply_approved

from audit.systems.poweroffice.sim.recorder import Exchange
from audit.systems.poweroffice.transport import ApiClient

pytestmark = pytest.mark.usefixtures("po_clean_env")


def test_every_written_rule_has_a_check_and_a_source():
    assert rule_ids() == list(CHECKS)


def test_a_full_v1_fetch_keeps_the_rules(po_rec_sim, tmp_path):
    fetch_in_pages(po_rec_sim, tmp_path / "full", "v1")
    exchanges = po_rec_sim.exchanges()
    assert any("$orderby" in e.query for e in exchanges)
    assert violations(exchanges) == []


def test_an_incremental_v1_fetch_keeps_the_rules(po_rec_sim, tmp_path):
    full = fetch_in_pages(po_rec_sim, tmp_path / "full", "v1")
    po_rec_sim.reset_stats()
    fetch_in_pages(po_rec_sim, tmp_path / "delta", "v1", since=full.manifest["watermark"])
    exchanges = po_rec_sim.exchanges()
    assert any("$filter" in e.query for e in exchanges)
    assert violations(exchanges) == []


def test_a_v1_write_back_keeps_the_rules(v1_demo, tmp_path):
    root, plan = v1_demo
    with Tenants(root, plan, record=True) as t:
        apply_approved(plan, t.gateways(), tmp_path / "j.jsonl")
        exchanges = t.source.exchanges()
    assert any(e.method == "POST" and "/Contact" in e.path for e in exchanges)
    assert violations(exchanges) == []


def test_the_simulators_refusals_keep_the_rules(po_rec_sim):
    client = ApiClient(settings_for(po_rec_sim).endpoint("v1"))
    try:
        for params in ({"$filter": "lastChanged ge datetimeoffset'2024-01-01'"}, {"$top": 1}):
            client.get("/Customer/", params=params)
        client.get("/Customer/999")
    finally:
        client.close()
    refused = [e for e in po_rec_sim.exchanges() if json.loads(e.response_body).get("success") is False]
    assert len(refused) == 3 and violations(po_rec_sim.exchanges(), requests=False) == []


def test_the_checks_catch_paging_without_orderby():
    bad = Exchange("GET", "/v1/Customer/", {"$skip": "0", "$top": "10"}, 200)
    found = violations([bad], responses=False)
    assert [v.split(":")[0] for v in found] == ["paging-needs-orderby"]


def test_the_checks_catch_the_camelcase_filter_and_a_4xx_refusal():
    body = json.dumps({"success": False, "message": "x", "data": None}).encode()
    bad = Exchange("GET", "/v1/Customer/", {"$filter": "lastChanged ge datetimeoffset'2024'"}, 400, {}, b"", {}, body)
    found = {v.split(":")[0] for v in violations([bad])}
    assert {"filter-in-parentheses", "filter-pascalcase", "refusal-is-200"} <= found
