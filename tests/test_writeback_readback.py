"""A write-back believes only what it reads back: a change is ``applied`` only when the
API said success and the record read back holds the new value; otherwise ``failed`` with
the API's own words in the journal."""

from __future__ import annotations

import pytest
from writeback_tenants import Tenants, apply_approved

from audit.writeback import Limits
from audit.writeback.journal import fold

pytestmark = pytest.mark.usefixtures("po_clean_env")

# docs/api/rest/apicalls.md, "Error handling": HTTP 200, success false, no data
V1_REFUSAL = {
    "success": False,
    "validation": {"errorLogReference": "2sxuf3bp2jq-0810110719", "summary": "Kunden er låst", "exception": "Business"},
}


def _customer_changes(plan):
    return [c for c in plan.changes if c.corrected.entity == "customer"]


def test_a_refused_v1_write_is_failed_with_poweroffices_message(v1_demo, tmp_path):
    root, plan = v1_demo
    customers = _customer_changes(plan)
    assert customers
    with Tenants(root, plan) as t:
        t.source.script("POST", "/v1/Customer", body=V1_REFUSAL, times=len(customers))
        result = apply_approved(plan, t.gateways(), tmp_path / "j.jsonl", limits=Limits(workers=1, max_failures=1000))
    state = fold(tmp_path / "j.jsonl")
    for c in customers:
        assert state[c.id]["status"] == "failed"
        assert "Kunden er låst" in state[c.id]["detail"]
    assert not any(o.status == "applied" for o in result.outcomes if o.change in customers)


def test_a_v2_success_answer_without_the_change_is_failed(v2_demo, tmp_path):
    root, plan = v2_demo
    c = _customer_changes(plan)[0]
    with Tenants(root, plan) as t:
        path = "/v2" + t.gateways()[c.corrected.tenant].route("customer", c.corrected.record_id, None)
        t.sim(c.corrected.tenant).script("PATCH", path, status=200, body={"Id": c.corrected.record_id})
        apply_approved(plan, t.gateways(), tmp_path / "j.jsonl", limits=Limits(workers=1, max_failures=1000))
    event = fold(tmp_path / "j.jsonl")[c.id]
    assert event["status"] == "failed" and "does not hold the new value" in event["detail"]


def test_a_v2_problem_details_answer_is_failed_with_its_title_and_detail(v2_demo, tmp_path):
    root, plan = v2_demo
    c = _customer_changes(plan)[0]
    problem = {"Type": "about:blank", "Title": "Bad Request", "Status": 400, "Detail": "Nummeret er i bruk"}
    with Tenants(root, plan) as t:
        path = "/v2" + t.gateways()[c.corrected.tenant].route("customer", c.corrected.record_id, None)
        t.sim(c.corrected.tenant).script("PATCH", path, status=400, body=problem)
        apply_approved(plan, t.gateways(), tmp_path / "j.jsonl", limits=Limits(workers=1, max_failures=1000))
    event = fold(tmp_path / "j.jsonl")[c.id]
    assert event["status"] == "failed"
    assert "Bad Request" in event["detail"] and "Nummeret er i bruk" in event["detail"]


def test_an_applied_change_was_read_back(v2_demo, tmp_path):
    root, plan = v2_demo
    with Tenants(root, plan) as t:
        apply_approved(plan, t.gateways(), tmp_path / "j.jsonl")
    applied = [e for e in fold(tmp_path / "j.jsonl").values() if e["status"] == "applied"]
    assert applied and all("read back: the record holds the new value" in e["detail"] for e in applied)
