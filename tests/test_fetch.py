"""``audit fetch`` and :func:`audit.systems.poweroffice.fetch.fetch_snapshot`, against the real simulator."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from audit_cli import audit_cli, flow_args
from poweroffice_fixtures import (
    CONTACT_PERSONS,
    CUSTOMERS,
    FAKE_SECRET,
    SUPPLIERS,
    many_customers,
    read_jsonl,
    settings_for,
    subprocess_env,
    write_snapshot,
)

from audit.errors import ConfigError
from audit.systems.poweroffice.fetch import fetch_snapshot
from audit.systems.poweroffice.sim.server import DEMO_SUBSCRIPTION_KEY, Faults, Keys, running_simulator
from audit.systems.poweroffice.transport import MalformedResponse

FLOW = Path(__file__).resolve().parents[1] / "data" / "flows" / "powerofficego-powerofficego.rst"

pytestmark = pytest.mark.usefixtures("po_clean_env")


def audit(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "audit", *args],
        capture_output=True,
        text=True,
        env=subprocess_env(env),
        timeout=60,
    )


def fetch(sim, out: Path, api="v2", **kw):
    return fetch_snapshot(
        out, api, settings=settings_for(sim, **kw.pop("settings", {})), progress=False, **kw
    )


def patch(sim, path: str, ops: list[dict]) -> dict:
    headers = {"Ocp-Apim-Subscription-Key": DEMO_SUBSCRIPTION_KEY}
    tok = requests.post(
        sim.v2_token_url,
        headers={
            **headers,
            "Authorization": "Basic "
            + base64.b64encode(f"{sim.keys.application_key}:{sim.keys.client_key}".encode()).decode(),
        },
        data={"grant_type": "client_credentials"},
    ).json()["access_token"]
    r = requests.patch(
        sim.v2_url + path,
        json=ops,
        headers={**headers, "Authorization": f"Bearer {tok}", "Content-Type": "application/json-patch+json"},
    )
    assert r.status_code == 200, r.text
    return r.json()


def snapshot_files(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.iterdir()) if p.name != "manifest.json"}


# -- the command ----------------------------------------------------------------------


def test_audit_fetch_writes_one_jsonl_per_entity_and_a_manifest(po_sim, tmp_path):
    out = tmp_path / "snap"
    done = audit("fetch", "--api", "v2", "--out", str(out), "--tenant", "Demo AS", env=po_sim.env())
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "address.jsonl",
        "contactperson.jsonl",
        "customer.jsonl",
        "manifest.json",
        "supplier.jsonl",
    ]
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["counts"] == {"customer": 3, "supplier": 2, "contactperson": 3, "address": 4}
    assert (manifest["api"], manifest["tenant"], manifest["base_url"]) == ("v2", "Demo AS", po_sim.v2_url)


def test_a_fetch_shows_no_progress_bar_when_stderr_is_not_a_terminal(po_sim, tmp_path):
    done = audit("fetch", "--api", "v1", "--out", str(tmp_path / "snap"), env=po_sim.env())
    assert (done.returncode, done.stderr) == (0, "")


def test_fetched_records_are_exactly_the_records_the_api_returned(po_sim, tmp_path):
    fetch(po_sim, tmp_path / "snap")
    lines = (tmp_path / "snap" / "customer.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == CUSTOMERS
    assert '"Name":"Bjørn Ærlig"' in lines[0] and '"ZipCode":"0150"' in lines[0]


def test_address_snapshot_holds_the_mail_addresses_of_customers_and_suppliers_by_id(po_sim, tmp_path):
    fetch(po_sim, tmp_path / "snap", entities=["address"])
    addresses = read_jsonl(tmp_path / "snap" / "address.jsonl")
    assert [a["Id"] for a in addresses] == [501, 502, 504, 503]
    assert addresses[0] == CUSTOMERS[0]["MailAddress"]


def test_a_v1_fetch_of_the_flows_entities_writes_v1_records(po_sim, tmp_path):
    out = tmp_path / "snap"
    done = audit("fetch", "--api", "v1", "--out", str(out), "--flow", str(FLOW), env=po_sim.env())
    assert done.returncode == 0, done.stderr
    contacts = read_jsonl(out / "contactperson.jsonl")
    assert [c["id"] for c in contacts] == [7, 8, 9]
    assert contacts[0]["firstName"] == "Kåre" and contacts[0]["zipCode"] == "0150"


def test_manifest_watermark_is_the_latest_last_changed_seen(po_sim, tmp_path):
    result = fetch(po_sim, tmp_path / "snap")
    assert result.manifest["watermark"] == "2024-01-05T10:00:00+00:00"
    assert result.manifest["watermarks"]["customer"] == "2024-01-04T09:30:00.1234567+01:00"


# -- incremental ----------------------------------------------------------------------


def _edit(po_sim):
    patch(po_sim, "/Customers/2", [{"op": "replace", "path": "/MailAddress/City", "value": "Harstad"}])
    patch(po_sim, "/Customers/4", [{"op": "replace", "path": "/EmailAddress", "value": "post@kjokken.no"}])
    patch(po_sim, "/ContactPersons/3/9", [{"op": "replace", "path": "/FirstName", "value": "Øyvind"}])


def test_incremental_fetch_onto_the_snapshot_equals_a_full_fetch(po_sim, tmp_path):
    fetch(po_sim, tmp_path / "snap")
    watermark = json.loads((tmp_path / "snap" / "manifest.json").read_text())["watermark"]
    _edit(po_sim)
    delta = fetch(po_sim, tmp_path / "snap", since=watermark)
    fetch(po_sim, tmp_path / "fresh")
    assert delta.manifest["complete"] is True and delta.manifest["base"] == str(tmp_path / "snap")
    for entity in ("customer", "supplier", "contactperson", "address"):
        ids = "Id"
        got = sorted(read_jsonl(tmp_path / "snap" / f"{entity}.jsonl"), key=lambda r: r[ids])
        want = sorted(read_jsonl(tmp_path / "fresh" / f"{entity}.jsonl"), key=lambda r: r[ids])
        assert got == want, entity


def test_incremental_fetch_catches_an_address_only_edit(po_sim, tmp_path):
    fetch(po_sim, tmp_path / "snap")
    watermark = json.loads((tmp_path / "snap" / "manifest.json").read_text())["watermark"]
    patch(po_sim, "/Customers/2", [{"op": "replace", "path": "/MailAddress/City", "value": "Harstad"}])
    fetch(po_sim, tmp_path / "snap", since=watermark)
    cities = {a["Id"]: a["City"] for a in read_jsonl(tmp_path / "snap" / "address.jsonl")}
    assert cities[502] == "Harstad"


def test_manifest_says_what_was_read_in_full_and_what_as_changes(po_sim, tmp_path):
    full = fetch(po_sim, tmp_path / "snap")
    delta = fetch(po_sim, tmp_path / "snap", since=full.manifest["watermark"])
    reads = delta.manifest["read"]
    assert {e: r["mode"] for e, r in reads.items()} == {
        "customer": "full",
        "supplier": "full",
        "contactperson": "changes",
        "address": "full",
    }
    assert "address-only edit" in reads["address"]["why"]


def test_contact_persons_are_read_as_changes_only(po_sim, tmp_path):
    full = fetch(po_sim, tmp_path / "snap")
    _edit(po_sim)
    po_sim.reset_stats()
    delta = fetch(po_sim, tmp_path / "snap", since=full.manifest["watermark"])
    assert po_sim.stats()["records_served"].get("contactperson", 0) == 1
    assert delta.manifest["counts"]["contactperson"] == len(CONTACT_PERSONS)


def test_without_addresses_parties_are_read_as_changes(po_sim, tmp_path):
    full = fetch(po_sim, tmp_path / "snap", entities=["customer"])
    _edit(po_sim)
    po_sim.reset_stats()
    delta = fetch(po_sim, tmp_path / "snap", entities=["customer"], since=full.manifest["watermark"])
    assert po_sim.stats()["records_served"].get("customer", 0) == 1  # customer 4; 2's address-only edit not
    assert delta.manifest["counts"]["customer"] == 3 and delta.manifest["complete"] is True


def test_since_without_a_base_writes_a_partial_snapshot(po_sim, tmp_path):
    full = fetch(po_sim, tmp_path / "full")
    delta = fetch(po_sim, tmp_path / "delta", since=full.manifest["watermark"])
    assert delta.manifest["complete"] is False and delta.manifest["base"] is None


def test_audit_run_refuses_a_partial_snapshot_naming_it(po_sim, tmp_path):
    full = fetch(po_sim, tmp_path / "full")
    fetch(po_sim, tmp_path / "delta", since=full.manifest["watermark"])
    result = audit_cli("run", *flow_args(FLOW, tmp_path / "full", tmp_path / "delta", tmp_path / "out"), "--link-by-id")
    assert result.returncode == 2, result.stderr
    assert str(tmp_path / "delta" / "manifest.json") in result.stderr and "partial" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_base_of_the_other_generation_is_refused(po_sim, tmp_path):
    fetch(po_sim, tmp_path / "v1snap", api="v1")
    with pytest.raises(ConfigError, match="not a complete v2 snapshot"):
        fetch(po_sim, tmp_path / "out", since="2024-01-01T00:00:00Z", base=tmp_path / "v1snap")


# -- faults ---------------------------------------------------------------------------


@pytest.mark.parametrize("api", ["v2", "v1"])
def test_a_fetch_through_injected_5xx_and_dropped_connections_equals_a_clean_fetch(tmp_path, api):
    seed = write_snapshot(
        tmp_path / "seed",
        {"customer": many_customers(60), "supplier": SUPPLIERS, "contactperson": CONTACT_PERSONS},
    )
    tuning = {"page_size": 5, "max_attempts": 12}
    with running_simulator(seed) as clean_sim:
        fetch(clean_sim, tmp_path / "clean", api=api, settings=tuning)
    with running_simulator(seed, faults=Faults(error_rate=0.1, drop_rate=0.1, seed=11)) as faulty:
        fetch(faulty, tmp_path / "faulty", api=api, settings=tuning)
        stats = faulty.stats()
    assert stats["injected_errors"] > 0 and stats["dropped"] > 0
    assert snapshot_files(tmp_path / "faulty") == snapshot_files(tmp_path / "clean")


def test_rate_limited_fetch_reports_no_429_to_the_caller(tmp_path):
    seed = write_snapshot(tmp_path / "seed", {"customer": many_customers(12)})
    # five requests (a token, four pages) against two a second: the third within a second is refused
    with running_simulator(seed, rate_limit=2) as s:
        result = fetch(s, tmp_path / "snap", entities=["customer"], settings={"page_size": 4})
        stats = s.stats()
    assert stats["rate_limited"] > 0
    assert result.manifest["counts"]["customer"] == 12


# -- failures -------------------------------------------------------------------------


def test_wrong_application_key_exits_3_naming_the_key_without_the_secret(po_sim, tmp_path):
    done = audit(
        "fetch",
        "--api",
        "v2",
        "--out",
        str(tmp_path / "snap"),
        env={**po_sim.env(), "POWEROFFICE_APPLICATION_KEY": FAKE_SECRET},
    )
    assert done.returncode == 3
    assert "the application key / client key was refused by the token endpoint" in done.stderr
    assert FAKE_SECRET not in done.stderr + done.stdout


def test_wrong_subscription_key_exits_3_naming_the_subscription_key(po_sim, tmp_path):
    done = audit(
        "fetch",
        "--api",
        "v2",
        "--out",
        str(tmp_path / "snap"),
        env={**po_sim.env(), "POWEROFFICE_SUBSCRIPTION_KEY": FAKE_SECRET},
    )
    assert done.returncode == 3
    assert "the subscription key was refused" in done.stderr
    assert FAKE_SECRET not in done.stderr + done.stdout


def test_missing_keys_exit_2_naming_the_variables(tmp_path):
    done = audit("fetch", "--api", "v1", "--out", str(tmp_path / "snap"))
    assert done.returncode == 2
    assert "POWEROFFICE_APPLICATION_KEY, POWEROFFICE_CLIENT_KEY" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_since_that_is_not_a_timestamp_exits_2(po_sim, tmp_path):
    done = audit(
        "fetch", "--api", "v2", "--out", str(tmp_path / "snap"), "--since", "i går", env=po_sim.env()
    )
    assert done.returncode == 2 and "not an ISO-8601 timestamp" in done.stderr


def test_an_unknown_entity_exits_2(po_sim, tmp_path):
    done = audit(
        "fetch",
        "--api",
        "v2",
        "--out",
        str(tmp_path / "snap"),
        "--entities",
        "customer,invoice",
        env=po_sim.env(),
    )
    assert done.returncode == 2 and "unknown PowerOffice Go entity 'invoice'" in done.stderr


def test_a_record_without_id_fails_the_fetch_with_exit_3_and_no_snapshot(po_sim, tmp_path):
    po_sim.script("GET", "/v2/ContactPersons", body=[{"FirstName": "Uten", "LastName": "Id"}])
    out = tmp_path / "snap"
    done = audit("fetch", "--api", "v2", "--out", str(out), env=po_sim.env())
    assert done.returncode == 3
    assert "contactperson record 1 of page 1" in done.stderr and "has no 'Id'" in done.stderr
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".snap")] == []


def test_a_failed_fetch_keeps_the_previous_snapshot_intact(po_sim, tmp_path):
    out = tmp_path / "snap"
    fetch(po_sim, out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    po_sim.script("GET", "/v2/Suppliers", body=b"<html>Bad gateway</html>")
    with pytest.raises(MalformedResponse, match="not JSON"):
        fetch(po_sim, out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_an_out_directory_with_other_files_is_not_replaced(po_sim, tmp_path):
    out = tmp_path / "notes"
    out.mkdir()
    (out / "viktig.txt").write_text("ikke slett", encoding="utf-8")
    done = audit("fetch", "--api", "v2", "--out", str(out), env=po_sim.env())
    assert done.returncode == 2 and "refusing to replace" in done.stderr
    assert (out / "viktig.txt").read_text(encoding="utf-8") == "ikke slett"


def test_debug_logs_of_a_fetch_show_no_key_and_no_token(po_seed, tmp_path):
    keys = Keys(application_key=FAKE_SECRET, client_key="klientnøkkel-9", subscription_key="abonnement-8")
    with running_simulator(po_seed, keys=keys) as s:
        done = audit(
            "fetch",
            "--api",
            "v2",
            "--out",
            str(tmp_path / "snap"),
            env={**s.env(), "AUDIT_LOG_LEVEL": "DEBUG"},
        )
    assert done.returncode == 0, done.stderr
    assert "GET" in done.stderr  # the debug log did run
    for secret in (
        FAKE_SECRET,
        "klientnøkkel-9",
        "abonnement-8",
        base64.b64encode(f"{FAKE_SECRET}:klientnøkkel-9".encode()).decode(),
    ):
        assert secret not in done.stderr + done.stdout


def test_a_fetched_decimal_keeps_its_digits_in_the_snapshot(po_sim, tmp_path):
    po_sim.script("GET", "/v2/Customers", body=b'[{"Id": 7, "Name": "Des", "CreditLimit": 150.50}]')
    out = tmp_path / "snap"
    fetch(po_sim, out, entities=["customer"])
    assert '"CreditLimit":150.50' in (out / "customer.jsonl").read_text(encoding="utf-8")
