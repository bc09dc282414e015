"""The committed demo's value-model drift: an offset date, a local-time stamp and a
duplicate id, as the audit and the write-back read them."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from audit.core.engine import run_audit
from audit.writeback.direction import decide, parse_stamp

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo"
SEED = ROOT / "data" / "flows" / "powerofficego-powerofficego.rst"


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _people() -> dict[str, list[str]]:
    """Each record identifier of the Sesam export -> the identifiers of its live entity."""
    people: dict[str, list[str]] = {}
    for entity in json.loads((DEMO / "global-person.json").read_text(encoding="utf-8")):
        if not entity["_deleted"]:
            for ni in entity["$ids"]:
                people[ni] = entity["$ids"]
    return people


def _customer_of(contact_id: int) -> int:
    person = _people()[f"~:powerofficego-contactperson:{contact_id}"]
    (customer,) = [ni for ni in person if ni.startswith("~:powerofficego-customer:")]
    return int(customer.rsplit(":", 1)[1])


@pytest.fixture(scope="module")
def audit():
    return run_audit(SEED, DEMO / "source", DEMO / "target", DEMO / "global-person.json")


def _local_time_people() -> list[tuple[str, str]]:
    """(source contact person's stamp, target customer's stamp) of the planted local-time people."""
    customers = {c["Id"]: c for c in _lines(DEMO / "target" / "customer.jsonl")}
    pairs = []
    for contact in _lines(DEMO / "source" / "contactperson.jsonl"):
        if contact["lastChanged"].endswith("Z"):
            pairs.append((contact["lastChanged"], customers[_customer_of(contact["id"])]["LastChangedDateTimeOffset"]))
    return pairs


def test_the_demo_plants_a_utc_stamp_against_the_same_instant_in_oslo_local_time():
    pairs = _local_time_people()
    assert len(pairs) == 2
    for utc, local in pairs:
        assert "+" not in local and not local.endswith("Z")
        assert parse_stamp(utc) == parse_stamp(local)  # read in Europe/Oslo
        assert parse_stamp(local, zone="UTC") > parse_stamp(utc)  # read as UTC it would look later


def test_latest_wins_reads_the_demo_s_local_stamp_as_oslo_time_and_decides_nothing():
    for utc, local in _local_time_people():
        decision = decide("latest", "Oslo", "Bergen", source_stamp=utc, target_stamp=local)
        assert decision.winner is None and decision.skip == "undecided", decision.rule
        assert decide("latest", "Oslo", "Bergen", utc, local, spec=None).winner is None


def test_the_demo_has_the_norwegian_midnight_against_the_plain_date():
    contacts = {c["id"]: c for c in _lines(DEMO / "source" / "contactperson.jsonl")}
    customers = {c["Id"]: c for c in _lines(DEMO / "target" / "customer.jsonl")}
    (contact,) = [c for c in contacts.values() if c.get("dateOfBirth") == "1985-03-14T00:00:00+01:00"]
    assert customers[_customer_of(contact["id"])]["DateOfBirth"] == "1985-03-14"


def test_the_audit_is_silent_on_offset_dates_and_local_time_stamps(audit):
    planted = {
        str(c["id"])
        for c in _lines(DEMO / "source" / "contactperson.jsonl")
        if "+0" in (c.get("dateOfBirth") or "") or c["lastChanged"].endswith("Z")
    }
    assert len(planted) == 4
    hits = audit.findings.filter(pl.col("source_key").is_in(list(planted)))
    assert hits.height == 0


def test_the_duplicate_id_is_two_findings_and_an_ambiguous_link(audit):
    dups = audit.findings.filter(pl.col("status") == "duplicate_id")
    assert dups.height == 2 and dups["source_key"].n_unique() == 1
    key = dups["source_key"][0]
    ambiguous = audit.findings.filter((pl.col("status") == "ambiguous_link") & (pl.col("source_key") == key))
    assert ambiguous.height == 1
