"""The suite's ``id`` unique and not-null expectations count exactly the ``duplicate_id``
and ``missing_id`` findings."""

from __future__ import annotations

import polars as pl
from conftest import flow, pair, prop

from audit.core.engine import run_audit
from audit.core.snapshot import Snapshot

CUSTOMERS = pair("Customer", "Contactperson", [prop("firstName", "firstName")])
SOURCE = [
    {"id": 1, "firstName": "Ola"},
    {"id": 2, "firstName": "Kari"},
    {"id": 2, "firstName": "K"},
    {"id": 2, "firstName": "Kari"},  # an exact copy of the second record: counted once
    {"firstName": "Anon"},
    {"id": None, "firstName": "Null"},
    {"id": 3, "firstName": "Per"},
]
TARGET = [{"id": "1", "firstName": "Ola"}, {"id": "7", "firstName": "Per"}, {"id": "7", "firstName": "Pål"},
          {"id": " ", "firstName": "Blank"}]  # fmt: skip


def _audit():
    snap_s = Snapshot.from_records({"customer": SOURCE})
    snap_t = Snapshot.from_records({"contactperson": TARGET})
    return run_audit(flow(CUSTOMERS), snap_s, snap_t, link_by_id=True)


def _gx(result, check: str, side: str) -> dict:
    (item,) = [
        r
        for r in result.gx_results[result.pairs[0].slug]["results"]
        if r["expectation_config"]["meta"].get("check") == check and r["expectation_config"]["meta"].get("side") == side
    ]
    return item


def _findings(result, status: str, side: str) -> int:
    return result.findings.filter((pl.col("status") == status) & pl.col(f"{side}_property").is_not_null()).height


def test_the_unique_id_expectation_counts_the_duplicate_id_findings_of_each_side():
    result = _audit()
    for side, expected in (("source", 2), ("target", 2)):
        item = _gx(result, "id_unique", side)
        assert item["success"] is False
        assert item["result"]["unexpected_count"] == _findings(result, "duplicate_id", side) == expected


def test_the_not_null_id_expectation_counts_the_missing_id_findings_of_each_side():
    result = _audit()
    for side, expected in (("source", 2), ("target", 1)):
        item = _gx(result, "id_present", side)
        assert item["success"] is False
        assert item["result"]["unexpected_count"] == _findings(result, "missing_id", side) == expected


def test_the_id_expectations_look_at_every_record_of_the_side_once():
    result = _audit()
    summary = result.summary["pairs"][0]
    assert _gx(result, "id_present", "source")["result"]["element_count"] == summary["source_records"] + 2
    assert _gx(result, "id_present", "target")["result"]["element_count"] == summary["target_records"] + 1


def test_unique_ids_meet_both_expectations_and_fail_nothing():
    snap_s = Snapshot.from_records({"customer": [{"id": 1, "firstName": "Ola"}, {"id": 2, "firstName": "Kari"}]})
    snap_t = Snapshot.from_records({"contactperson": [{"id": 1, "firstName": "Ola"}, {"id": 2, "firstName": "Kari"}]})
    result = run_audit(flow(CUSTOMERS), snap_s, snap_t, link_by_id=True)
    for check in ("id_unique", "id_present"):
        for side in ("source", "target"):
            assert _gx(result, check, side)["success"] is True
    assert result.summary["pairs"][0]["gx"]["critical_success"] is True


def test_id_expectations_are_critical_because_the_policy_fails_on_their_statuses():
    result = _audit()
    assert result.summary["pairs"][0]["gx"]["critical_success"] is False
    assert _gx(result, "id_unique", "source")["expectation_config"]["severity"] == "critical"


def test_the_unique_id_expectation_lists_the_shared_ids_it_counts():
    result = _audit()
    assert sorted(map(str, _gx(result, "id_unique", "source")["result"]["partial_unexpected_list"])) == ["2", "2"]
    assert sorted(_gx(result, "id_unique", "target")["result"]["partial_unexpected_list"]) == ["7", "7"]


def test_sides_without_id_problems_are_counted_by_gx_and_asked_for_no_samples():
    from audit.core.pair import id_samples
    from audit.core.policy import default_policy

    records = [{"id": 1, "firstName": "Ola"}, {"id": 2, "firstName": "Kari"}]
    snap_s, snap_t = Snapshot.from_records({"customer": records}), Snapshot.from_records({"contactperson": records})
    policy = default_policy()
    assert id_samples(policy, snap_s.entity("customer"), snap_t.entity("contactperson")) == 0
    dup = Snapshot.from_records({"customer": [*records, {"id": 2, "firstName": "K"}]})
    assert (
        id_samples(policy, dup.entity("customer"), snap_t.entity("contactperson")) == policy.gx_partial_unexpected_count
    )
    result = run_audit(flow(CUSTOMERS), snap_s, snap_t, link_by_id=True)
    for side in ("source", "target"):
        item = _gx(result, "id_unique", side)
        assert item["success"] is True and item["result"]["unexpected_count"] == 0
        assert item["result"]["element_count"] == 2 and item["result"]["partial_unexpected_list"] == []
