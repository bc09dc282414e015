"""Every v2 exchange of ``audit fetch`` (full and incremental) and of a write-back (also an
``--atomic`` one, whose patches carry ``test`` operations) meets the contract derived from
the official v2 OpenAPI document (``contract_v2``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from contract_v2 import problems, v2_exchanges
from poweroffice_fixtures import fetch_in_pages, settings_for
from writeback_tenants import Tenants, apply_approved, demo_plan
from writeback_tenants import race as _race
from writeback_tenants import victim as _victim

from audit.systems.poweroffice.sim.recorder import Exchange
from audit.systems.poweroffice.sim.server import running_simulator
from audit.systems.poweroffice.transport import ApiClient, HttpStatusError
from audit.writeback import Limits

pytestmark = pytest.mark.usefixtures("po_clean_env")

ROOT = Path(__file__).resolve().parents[1]


def test_a_full_v2_fetch_meets_the_contract(po_rec_sim, tmp_path):
    fetch_in_pages(po_rec_sim, tmp_path / "full", "v2")
    exchanges = v2_exchanges(po_rec_sim.exchanges())
    assert len(exchanges) > 5 and problems(exchanges) == []


def test_an_incremental_v2_fetch_meets_the_contract(po_rec_sim, tmp_path):
    full = fetch_in_pages(po_rec_sim, tmp_path / "full", "v2")
    po_rec_sim.reset_stats()
    fetch_in_pages(po_rec_sim, tmp_path / "delta", "v2", since=full.manifest["watermark"])
    exchanges = v2_exchanges(po_rec_sim.exchanges())
    assert any("lastChangedDateTimeOffsetGreaterThan" in e.query for e in exchanges)
    assert problems(exchanges) == []


def test_v1_shaped_demo_records_served_over_v2_meet_the_contract(tmp_path):
    with running_simulator(ROOT / "data" / "demo" / "source", record=True) as sim:
        fetch_in_pages(sim, tmp_path / "snap", "v2", entities=["customer", "supplier", "contactperson"])
        assert problems(sim.exchanges()) == []


def _zip_codes_as_text(root: Path) -> None:
    """The demo's target contact persons hold their zip codes as JSON numbers (planted
    drift of data files, ``zip_as_number``); the v2 API cannot serve them so
    (``ContactAddressDto.ZipCode`` is a string), so the simulated tenant holds them as text."""
    path = root / "target" / "contactperson.jsonl"
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    for r in records:
        if isinstance((r.get("MailAddress") or {}).get("ZipCode"), int):
            r["MailAddress"]["ZipCode"] = str(r["MailAddress"]["ZipCode"])
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")


def test_a_v2_write_back_meets_the_contract(tmp_path_factory, po_flow, tmp_path):
    root = tmp_path_factory.mktemp("contract-wb")
    plan = demo_plan(root, po_flow, "v2", "latest")
    _zip_codes_as_text(root)
    with Tenants(root, plan, record=True) as t:
        apply_approved(plan, t.gateways(), tmp_path / "j.jsonl")
        exchanges = t.source.exchanges() + t.target.exchanges()
    assert any(e.method == "PATCH" for e in exchanges)
    assert problems(exchanges) == []


def test_an_atomic_v2_write_back_meets_the_contract_also_when_a_test_fails(tmp_path_factory, po_flow, tmp_path):
    root = tmp_path_factory.mktemp("contract-cas")
    plan = demo_plan(root, po_flow, "v2", "latest")
    _zip_codes_as_text(root)
    with Tenants(root, plan, record=True) as t:
        apply_approved(plan, _race(t, _victim(plan)), tmp_path / "j.jsonl", atomic=True, limits=Limits(workers=1))
        exchanges = t.source.exchanges() + t.target.exchanges()
    patches = [e for e in exchanges if e.method == "PATCH"]
    assert any(b'"test"' in e.body for e in patches) and {200, 400} <= {e.status for e in patches}
    assert problems(exchanges) == []


def _raw_patch(sim, path, ops):
    client = ApiClient(settings_for(sim).endpoint("v2"))
    try:
        client.request("PATCH", path, json_body=ops, headers={"Content-Type": "application/json-patch+json"})
    except HttpStatusError as exc:
        return exc.status
    finally:
        client.close()
    return 200


def test_error_answers_of_the_simulator_meet_the_contract(po_rec_sim, tmp_path):
    assert _raw_patch(po_rec_sim, "/Customers/1", [{"op": "replace", "path": "/Id", "value": 9}]) == 400
    assert _raw_patch(po_rec_sim, "/Customers/999", [{"op": "replace", "path": "/Name", "value": "x"}]) == 404
    statuses = {e.status for e in v2_exchanges(po_rec_sim.exchanges())}
    assert {400, 404} <= statuses and problems(po_rec_sim.exchanges()) == []


def test_the_check_catches_a_null_mail_address():
    body = json.dumps([{"Id": 1, "MailAddress": None}]).encode()
    bad = Exchange("GET", "/v2/Customers", {}, 200, {}, b"", {"Content-Type": "application/json"}, body)
    (found,) = problems([bad], requests=False)
    assert found.startswith("GET /v2/Customers") and "None for not nullable" in found


def test_the_check_catches_a_patch_sent_as_plain_json():
    ops = json.dumps([{"op": "replace", "path": "/Name", "value": "x"}]).encode()
    bad = Exchange("PATCH", "/v2/Customers/1", {}, 200, {"Content-Type": "application/json"}, ops)
    (found,) = problems([bad], responses=False)
    assert "mimetype not found: application/json" in found and "application/json-patch+json" in found
