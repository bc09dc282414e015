"""A write-back believes only what it reads back: a change is ``applied`` only when the
API said success and the record read back holds the new value; otherwise ``failed`` with
the API's own words in the journal."""

from __future__ import annotations

import pytest
from test_writeback_apply import _apply, _demo, _Tenants

from audit.writeback import Limits
from audit.writeback.journal import fold

pytestmark = pytest.mark.usefixtures("po_clean_env")

# docs/api/rest/apicalls.md, "Error handling": HTTP 200, success false, no data
V1_REFUSAL = {
    "success": False,
    "validation": {"errorLogReference": "2sxuf3bp2jq-0810110719", "summary": "Kunden er låst", "exception": "Business"},
}


@pytest.fixture(scope="module")
def flow():
    from test_writeback_apply import FLOW

    from audit.flow.parser import parse_file

    return parse_file(FLOW)


@pytest.fixture(scope="module")
def v1_plan(tmp_path_factory, flow):
    root = tmp_path_factory.mktemp("rb-v1")
    return root, _demo(root, flow, "v1", "target")


@pytest.fixture(scope="module")
def v2_plan(tmp_path_factory, flow):
    root = tmp_path_factory.mktemp("rb-v2")
    return root, _demo(root, flow, "v2", "latest")


def _customer_changes(plan):
    return [c for c in plan.changes if c.corrected.entity == "customer"]


def test_a_refused_v1_write_is_failed_with_poweroffices_message(v1_plan, tmp_path):
    root, plan = v1_plan
    customers = _customer_changes(plan)
    assert customers
    with _Tenants(root, plan) as t:
        t.source.script("POST", "/v1/Customer", body=V1_REFUSAL, times=len(customers))
        result = _apply(plan, t.gateways(), tmp_path / "j.jsonl", limits=Limits(workers=1, max_failures=1000))
    state = fold(tmp_path / "j.jsonl")
    for c in customers:
        assert state[c.id]["status"] == "failed"
        assert "Kunden er låst" in state[c.id]["detail"]
    assert not any(o.status == "applied" for o in result.outcomes if o.change in customers)


def test_a_v2_success_answer_without_the_change_is_failed(v2_plan, tmp_path):
    root, plan = v2_plan
    c = _customer_changes(plan)[0]
    with _Tenants(root, plan) as t:
        path = "/v2" + t.gateways()[c.corrected.tenant].route("customer", c.corrected.record_id, None)
        t.sim(c.corrected.tenant).script("PATCH", path, status=200, body={"Id": c.corrected.record_id})
        _apply(plan, t.gateways(), tmp_path / "j.jsonl", limits=Limits(workers=1, max_failures=1000))
    event = fold(tmp_path / "j.jsonl")[c.id]
    assert event["status"] == "failed" and "does not hold the new value" in event["detail"]


def test_a_v2_problem_details_answer_is_failed_with_its_title_and_detail(v2_plan, tmp_path):
    root, plan = v2_plan
    c = _customer_changes(plan)[0]
    problem = {"Type": "about:blank", "Title": "Bad Request", "Status": 400, "Detail": "Nummeret er i bruk"}
    with _Tenants(root, plan) as t:
        path = "/v2" + t.gateways()[c.corrected.tenant].route("customer", c.corrected.record_id, None)
        t.sim(c.corrected.tenant).script("PATCH", path, status=400, body=problem)
        _apply(plan, t.gateways(), tmp_path / "j.jsonl", limits=Limits(workers=1, max_failures=1000))
    event = fold(tmp_path / "j.jsonl")[c.id]
    assert event["status"] == "failed"
    assert "Bad Request" in event["detail"] and "Nummeret er i bruk" in event["detail"]


def test_an_applied_change_was_read_back(v2_plan, tmp_path):
    root, plan = v2_plan
    with _Tenants(root, plan) as t:
        _apply(plan, t.gateways(), tmp_path / "j.jsonl")
    applied = [e for e in fold(tmp_path / "j.jsonl").values() if e["status"] == "applied"]
    assert applied and all("read back: the record holds the new value" in e["detail"] for e in applied)
