# ruff: noqa: E501  (inline record tables read best on one line each)
"""The write-back's direction policy and planner, on small inline tables (no server)."""

from __future__ import annotations

import json

import polars as pl
import pytest
from conftest import flow, pair, prop, records

from audit.core.engine import run_audit
from audit.core.snapshot import Snapshot
from audit.core.values import ValueSpec
from audit.errors import ConfigError
from audit.writeback import build_plan, decide, load_plan, write_plan
from audit.writeback.plan import DECISION_COLUMNS

# -------------------------------------------------------------------------- decide()


def test_latest_the_side_changed_last_wins():
    d = decide("latest", "Oslo", "Bergen", "2024-05-01T10:00:00", "2024-03-01T10:00:00")
    assert d.winner == "source" and d.loser == "target"
    assert d.rule.startswith("latest: source changed 2024-05-01T10:00:00")


def test_latest_compares_instants_not_text():
    d = decide("latest", "a", "b", "2024-05-01T12:00:00+02:00", "2024-05-01T10:30:00Z")
    assert d.winner == "target"


def test_non_empty_beats_empty_even_when_the_empty_side_is_newer():
    d = decide("latest", "", "kari@example.no", "2024-12-01T00:00:00", "2024-01-01T00:00:00")
    assert d.winner == "target"
    assert d.rule == "non-empty beats empty: source is empty"


def test_equal_stamps_decide_nothing_a_stamp_without_offset_being_norwegian_local_time():
    d = decide("latest", "a", "b", "2024-01-01T01:00:00", "2024-01-01T00:00:00+00:00")
    assert d.winner is None and d.skip == "undecided"


def test_a_local_time_stamp_is_not_read_as_utc_in_latest_wins():
    # 10:30 Oslo summer time is 08:30 UTC, earlier than the target's 09:00 UTC
    d = decide("latest", "a", "b", "2024-06-01T10:30:00", "2024-06-01T09:00:00Z")
    assert d.winner == "target"


def test_the_zone_of_stamps_without_offset_is_configurable():
    d = decide("latest", "a", "b", "2024-06-01T10:30:00", "2024-06-01T09:00:00Z", spec=ValueSpec(zone="UTC"))
    assert d.winner == "source"


def test_whitespace_is_a_value_not_empty_unless_trimmed():
    assert decide("latest", " ", "b", "2024-01-01T00:00:00Z", "2024-01-01T00:00:00Z").skip == "undecided"
    trimmed = ValueSpec(normalizers=("trim",))
    assert decide("latest", " ", "b", spec=trimmed).winner == "target"


def test_missing_stamp_decides_nothing():
    d = decide("latest", "a", "b", None, "2024-01-01T00:00:00")
    assert d.winner is None and "no lastChanged on source" in d.rule


@pytest.mark.parametrize("policy", ["source", "target"])
def test_source_or_target_wins_whatever_the_stamps(policy):
    d = decide(policy, "a", "b", "2020-01-01T00:00:00", "2024-01-01T00:00:00")
    assert d.winner == policy
    assert d.rule == f"{policy} wins (policy)"


def test_a_winning_empty_value_never_blanks_out_the_other_side():
    assert decide("source", None, "Oslo").winner is None
    assert decide("target", "Oslo", "").skip == "undecided"
    assert decide("target", "Oslo", "  ", spec=ValueSpec(normalizers=("trim",))).skip == "undecided"


def test_a_persons_decision_overrides_the_policy():
    assert decide("latest", "a", "b", "2024-05-01", "2024-01-01", decision="target").winner == "target"
    assert decide("source", "a", "b", decision="skip").skip == "decision: skip"
    with pytest.raises(ValueError):
        decide("latest", "a", "b", decision="both")


# -------------------------------------------------------------------------- build_plan()

# v1 contact persons (source) <-> v2 customers (target), linked by id.
SOURCE_CP = """
id | partyId | firstName | lastName | emailAddress       | city   | lastChanged         | isActive
1  | 10      | Kari      | Nordmann | kari@example.no    | Oslo   | 2024-05-01T10:00:00 | true
2  | 10      | Ola       | Hansen   |                    | Bergen | 2024-05-01T10:00:00 | true
3  | 11      | Åse       | Berg     | ase@example.no     | Tromsø | 2024-01-01T10:00:00 | false
"""
TARGET_CUST = """
Id | FirstName | LastName | EmailAddress        | MailAddress.Id | MailAddress.City | MailAddress.LastChangedDateTimeOffset | LastChangedDateTimeOffset
1  | Kari      | Nordmann | kari@example.no     | 501            | Bergen           | 2024-02-01T00:00:00                   | 2024-09-01T00:00:00
2  | Ola       | Hansen   | ola@example.no      | 502            | Bergen           | 2024-02-01T00:00:00                   | 2024-02-01T00:00:00
3  | Åse       | Berge    | ase@example.no      | 503            | Tromsø           | 2024-02-01T00:00:00                   | 2024-03-01T00:00:00
"""
PAIR = pair(
    "Contactperson",
    "Customer",
    [
        prop("firstName", "firstName"),
        prop("lastName", "LastName"),
        prop("emailAddress", "emailAddress"),
        prop("city", "mailAddress.city"),
    ],
)


def _audit(source_table=SOURCE_CP, target_table=TARGET_CUST, the_pair=PAIR):
    s = Snapshot.from_records({"contactperson": records(source_table)})
    t = Snapshot.from_records({"customer": records(target_table)})
    result = run_audit(flow(the_pair), s, t, link_by_id=True)
    return result, s, t


def _by_record(plan):
    return {(c.corrected.record_id, c.field): c for c in plan.changes}


def test_latest_plan_corrects_the_older_side_with_the_field_on_its_generation():
    result, s, t = _audit()
    plan = build_plan(result.findings, s, t, summary=result.summary)
    changes = _by_record(plan)
    # record 1: city; the mail address (2024-02) is older than the contact (2024-05): target corrected
    city = changes[(1, "MailAddress.City")]
    assert (city.corrected.side, city.corrected.generation, city.corrected.entity) == (
        "target",
        "v2",
        "customer",
    )
    assert (city.old_value, city.new_value) == ("Bergen", "Oslo")
    assert city.field_v1 == "mailAddress.city"
    # the guard stamps are the corrected record's, as the audit read them
    assert city.last_changed == "2024-09-01T00:00:00"
    assert city.address_last_changed == "2024-02-01T00:00:00"
    # record 3: last name; the customer (2024-03) is newer than the contact (2024-01): the
    # v1 contact person is corrected (POST /Customer/{parentId}/Contact/)
    last = changes[(3, "lastName")]
    assert (last.corrected.side, last.corrected.generation, last.corrected.entity) == ("source", "v1", "contactperson")


def test_non_empty_beats_empty_in_the_plan():
    result, s, t = _audit()
    plan = build_plan(result.findings, s, t, summary=result.summary)
    # record 2: the source e-mail is empty; the target's value wins: the v1 contact is written
    email = _by_record(plan)[(2, "emailAddress")]
    assert email.corrected.side == "source" and email.rule == "non-empty beats empty: source is empty"


def test_target_policy_never_writes_the_target():
    result, s, t = _audit()
    plan = build_plan(result.findings, s, t, summary=result.summary, policy="target")
    assert plan.changes and all(c.corrected.side == "source" for c in plan.changes)
    mismatches = result.findings.filter(pl.col("status") == "mismatch").height
    assert len(plan.changes) + plan.header["counts"]["skipped"] == mismatches


def test_source_policy_writes_every_target_mismatch():
    result, s, t = _audit()
    plan = build_plan(result.findings, s, t, summary=result.summary, policy="source")
    got = sorted((c.corrected.record_id, c.field, c.new_value) for c in plan.changes)
    # record 2's e-mail is empty on the source: source-wins never blanks the target out
    assert got == [(1, "MailAddress.City", "Oslo"), (3, "LastName", "Berg")]
    assert {s.skipped for s in plan.skipped} == {"undecided"}


def _decisions(rows):
    return pl.DataFrame(rows, schema={c: pl.String for c in DECISION_COLUMNS}, orient="row")


def test_decisions_override_the_policy_row_by_row():
    result, s, t = _audit()
    heading = PAIR.heading
    table = _decisions(
        [
            (heading, "1", "1", "city", "mailAddress.city", "Oslo", "Bergen", "skip"),
            (heading, "3", "3", "lastName", "LastName", "Berg", "Berge", "source"),
        ]
    )
    plan = build_plan(result.findings, s, t, summary=result.summary, decisions=table)
    changes = _by_record(plan)
    assert (1, "MailAddress.City") not in changes
    assert changes[(3, "LastName")].rule == "decision: source (decisions CSV)"
    assert any(x.skipped == "decision: skip" and x.source_key == "1" for x in plan.skipped)


def test_a_decision_made_on_other_values_is_not_applied():
    result, s, t = _audit()
    table = _decisions([(PAIR.heading, "3", "3", "lastName", "LastName", "Berg", "Bergh", "source")])
    plan = build_plan(result.findings, s, t, summary=result.summary, decisions=table)
    assert (3, "LastName") not in _by_record(plan)
    assert any(x.skipped == "decision for other values" for x in plan.skipped)


def test_a_bad_decision_is_refused():
    result, s, t = _audit()
    table = _decisions([(PAIR.heading, "3", "3", "lastName", "LastName", "Berg", "Berge", "both")])
    with pytest.raises(ConfigError, match="both"):
        build_plan(result.findings, s, t, summary=result.summary, decisions=table)


def test_read_only_fields_are_reported_and_never_planned():
    the_pair = pair("Contactperson", "Customer", [prop("isActive", "isActive", "boolean")])
    s = Snapshot.from_records({"contactperson": records(SOURCE_CP)})
    t = Snapshot.from_records(
        {"customer": records("Id | IsActive | LastChangedDateTimeOffset\n3 | true | 2024-01-01T00:00:00")}
    )
    findings = run_audit(flow(the_pair), s, t, link_by_id=True).findings
    assert findings.filter(pl.col("status") == "mismatch").height == 1
    plan = build_plan(findings, s, t, policy="source")
    assert plan.changes == []
    assert [x.skipped for x in plan.skipped] == ["read-only"]


def test_dates_are_written_in_the_corrected_generations_format():
    the_pair = pair("Contactperson", "Customer", [prop("dateOfBirth", "dateOfBirth")])
    s = Snapshot.from_records(
        {
            "contactperson": records(
                'id | dateOfBirth | lastChanged\n1 | "1980-01-02T00:00:00" | 2024-05-01T00:00:00'
            )
        }
    )
    t = Snapshot.from_records(
        {
            "customer": records(
                'Id | DateOfBirth | LastChangedDateTimeOffset\n1 | "1981-01-02" | 2024-01-01T00:00:00'
            )
        }
    )
    result = run_audit(flow(the_pair), s, t, link_by_id=True)
    plan = build_plan(result.findings, s, t, summary=result.summary)
    (change,) = plan.changes
    assert (change.field, change.new_value) == ("DateOfBirth", "1980-01-02")


def test_the_hash_covers_the_changes_and_survives_the_file(tmp_path):
    result, s, t = _audit()
    plan = build_plan(
        result.findings, s, t, summary=result.summary, policy="source", created_at="2024-01-01T00:00:00"
    )
    path = write_plan(plan, tmp_path / "plan.json")
    loaded = load_plan(path)
    assert loaded.hash == plan.hash and len(plan.hash) == 64
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["header"]["counts"]["changes"] == 2 and data["header"]["policy"] == "source"
    data["changes"][0]["new_value"] = "Drammen"
    path.write_text(json.dumps(data), encoding="utf-8")
    assert load_plan(path).hash != plan.hash
    # a header note does not change what was approved
    data["changes"][0]["new_value"] = plan.changes[0].new_value
    data["header"]["note"] = "reviewed by Kari"
    path.write_text(json.dumps(data), encoding="utf-8")
    assert load_plan(path).hash == plan.hash
