"""run_audit on small inline snapshots: findings, summary and GX verdict per rule."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from conftest import flow, pair, prop, records

from audit.core.engine import run_audit, write_outputs
from audit.core.findings import FINDINGS_COLUMNS
from audit.core.snapshot import Snapshot
from audit.errors import ConfigError
from audit.flow.model import Condition
from audit.flow.parser import parse_file

SEED = Path(__file__).resolve().parents[1] / "data" / "flows" / "powerofficego-powerofficego.rst"

CONTACT_TO_CUSTOMER = pair(
    "Contactperson",
    "Customer",
    [
        prop("city", "mailAddress.city"),
        prop("id", "id"),
        prop("lastChanged", "lastChanged"),
        prop("zipCode", "mailAddress.zipCode"),
        prop("dateOfBirth", "dateOfBirth"),
    ],
)


def _snap(entity: str, table: str) -> Snapshot:
    return Snapshot.from_records({entity: records(table)})


def _rows(result, status=None):
    frame = result.findings
    if status:
        frame = frame.filter(pl.col("status") == status)
    return frame.select(
        "source_key", "target_key", "source_property", "status", "source_value", "target_value"
    ).rows()


def _prop_summary(result, source_path):
    return next(p for p in result.summary["pairs"][0]["properties"] if p["source"] == source_path)


V1_CONTACTS = """
    id | city   | zipCode | lastChanged           | dateOfBirth
    1  | Oslo   | "0150"  | "2024-01-01T10:00:00" | "1985-03-14T00:00:00"
    2  | Bergen | "5003"  | "2024-01-01T10:00:00" | null
"""


def test_linked_records_in_sync_give_no_findings_and_success():
    source = _snap("contactperson", V1_CONTACTS)
    target = _snap(
        "customer",
        """
        Id | MailAddress.City | MailAddress.ZipCode | LastChangedDateTimeOffset | DateOfBirth
        1  | Oslo             | "0150"              | "2024-06-01T08:00:00Z"    | "1985-03-14"
        2  | Bergen           | "5003"              | "2024-06-01T08:00:00Z"    | ""
    """,
    )
    result = run_audit(flow(CONTACT_TO_CUSTOMER), source, target, link_by_id=True)
    assert result.findings.height == 0
    assert result.success and result.exit_code == 0


def test_gx_critical_verdict_agrees_with_findings():
    source = _snap("contactperson", V1_CONTACTS)
    target = _snap(
        "customer",
        """
        Id | MailAddress.City | MailAddress.ZipCode | LastChangedDateTimeOffset | DateOfBirth
        1  | Oslo             | "150"               | "2024-06-01T08:00:00Z"    | "1985-03-14"
        2  | Bergen           | "5003"              | "2024-06-01T08:00:00Z"    | null
    """,
    )
    result = run_audit(flow(CONTACT_TO_CUSTOMER), source, target, link_by_id=True)
    assert result.success is False
    assert result.summary["pairs"][0]["gx"]["critical_success"] is False
    failed = [
        r
        for r in result.gx_results[result.pairs[0].slug]["results"]
        if not r["success"] and r["expectation_config"]["severity"] == "critical"
    ]
    assert [r["expectation_config"]["meta"]["statuses"] for r in failed] == [["mismatch"]]


def test_differing_zip_codes_are_one_mismatch_row_with_both_values():
    source = _snap("contactperson", V1_CONTACTS)
    target = _snap(
        "customer",
        """
        Id | MailAddress.City | MailAddress.ZipCode | DateOfBirth
        1  | Oslo             | "150"               | "1985-03-14"
        2  | Bergen           | "5003"              | null
    """,
    )
    result = run_audit(flow(CONTACT_TO_CUSTOMER), source, target, link_by_id=True)
    assert _rows(result, "mismatch") == [("1", "1", "zipCode", "mismatch", "0150", "150")]


def test_last_changed_differences_are_informational_not_mismatch():
    source = _snap("contactperson", V1_CONTACTS)
    target = _snap(
        "customer",
        """
        Id | MailAddress.City | MailAddress.ZipCode | LastChangedDateTimeOffset | DateOfBirth
        1  | Oslo             | "0150"              | "2030-01-01T00:00:00Z"    | "1985-03-14"
        2  | Bergen           | "5003"              | "2030-01-01T00:00:00Z"    | null
    """,
    )
    result = run_audit(flow(CONTACT_TO_CUSTOMER), source, target, link_by_id=True)
    assert result.findings.height == 0
    summary = _prop_summary(result, "lastChanged")
    assert (summary["mode"], summary["differing"], summary["failing"]) == ("informational", 2, 0)


def test_summary_shows_how_each_path_resolved():
    source = _snap("contactperson", V1_CONTACTS)
    target = _snap(
        "customer",
        """
        Id | MailAddress.City | MailAddress.ZipCode | LastChangedDateTimeOffset | DateOfBirth
        1  | Oslo             | "0150"              | "2024-06-01T08:00:00Z"    | "1985-03-14"
    """,
    )
    result = run_audit(flow(CONTACT_TO_CUSTOMER), source, target, link_by_id=True)
    assert _prop_summary(result, "city")["target_resolution"] == {
        "path": "mailAddress.city",
        "column": "MailAddress.City",
        "via": "case",
    }
    assert _prop_summary(result, "lastChanged")["target_resolution"] == {
        "path": "lastChanged",
        "column": "LastChangedDateTimeOffset",
        "via": "alias",
    }


def test_contact_date_of_birth_on_a_v2_target_is_unresolved_property():
    the_pair = pair(
        "Customer", "Contactperson", [prop("dateOfBirth", "dateOfBirth"), prop("firstName", "firstName")]
    )
    source = _snap(
        "customer",
        """
        id | firstName | dateOfBirth
        1  | Kari      | "1985-03-14T00:00:00"
    """,
    )
    target = _snap(
        "contactperson",
        """
        Id | FirstName | MailAddress.City
        1  | Kari      | Oslo
    """,
    )
    result = run_audit(flow(the_pair), source, target, link_by_id=True)
    assert result.findings.select("source_property", "target_property", "status").rows() == [
        ("dateOfBirth", "dateOfBirth", "unresolved_property")
    ]
    assert _prop_summary(result, "dateOfBirth")["unresolved"] == ["target"]
    assert result.success is False


def test_records_without_counterpart_are_listed_and_only_missing_in_target_fails():
    the_pair = pair("Contactperson", "Customer", [prop("firstName", "firstName")])
    source = _snap(
        "contactperson",
        """
        id | firstName
        1  | Kari
    """,
    )
    target = _snap(
        "customer",
        """
        Id | FirstName
        1  | Kari
        2  | Own
    """,
    )
    result = run_audit(flow(the_pair), source, target, link_by_id=True)
    assert _rows(result) == [(None, "2", None, "missing_in_source", None, None)]
    assert result.success is True


def test_source_record_without_target_fails_the_audit():
    the_pair = pair("Contactperson", "Customer", [prop("firstName", "firstName")])
    source = _snap(
        "contactperson",
        """
        id | firstName
        1  | Kari
        3  | Lost
    """,
    )
    target = _snap(
        "customer",
        """
        Id | FirstName
        1  | Kari
    """,
    )
    result = run_audit(flow(the_pair), source, target, link_by_id=True)
    assert _rows(result) == [("3", None, None, "missing_in_target", None, None)]
    assert result.success is False


def test_merge_rule_pair_records_link_method_and_coverage():
    the_pair = pair("Supplier", "Address", rules=[("MailAddress.Id", "id")])
    source = _snap(
        "supplier",
        """
        id | mailAddress.id
        1  | 100
        2  | 101
    """,
    )
    target = _snap(
        "address",
        """
        Id  | City
        100 | Oslo
    """,
    )
    result = run_audit(flow(the_pair), source, target, link_by_id=True)
    summary = result.summary["pairs"][0]
    assert (summary["link_method"], summary["linked"], summary["missing_in_target"]) == ("merge_rules", 1, 1)
    assert summary["link"]["merge_rules"][0]["source_resolution"]["column"] == "mailAddress.id"


def test_ambiguous_merge_links_are_findings_with_rule_and_value():
    the_pair = pair("Supplier", "Address", rules=[("MailAddress.Id", "id")])
    source = _snap(
        "supplier",
        """
        id | mailAddress.id
        1  | 100
        2  | 100
    """,
    )
    target = _snap(
        "address",
        """
        Id  | City
        100 | Oslo
    """,
    )
    result = run_audit(flow(the_pair), source, target, link_by_id=True)
    assert result.findings.select(
        "source_key",
        "target_key",
        "source_property",
        "target_property",
        "status",
        "source_value",
        "target_value",
    ).rows() == [
        ("1", "100", "MailAddress.Id", "id", "ambiguous_link", "100", "100"),
        ("2", "100", "MailAddress.Id", "id", "ambiguous_link", "100", "100"),
    ]


def test_links_file_pairs_records_and_id_is_not_compared():
    the_pair = pair("Contactperson", "Customer", [prop("id", "id"), prop("firstName", "firstName")])
    source = _snap(
        "contactperson",
        """
        id | firstName
        1  | Kari
    """,
    )
    target = _snap(
        "customer",
        """
        Id  | FirstName
        500 | Kari
    """,
    )
    links = {("contactperson", "customer"): pl.DataFrame({"source_id": ["1"], "target_id": ["500"]})}
    result = run_audit(flow(the_pair), source, target, links=links, link_by_id=True)
    assert result.summary["pairs"][0]["link_method"] == "links_file"
    assert result.findings.height == 0
    assert _prop_summary(result, "id")["mode"] == "link_key"


def test_integer_declared_target_holding_text_is_a_type_violation():
    the_pair = pair("Customer", "Contactperson", [prop("code", "code", datatype="integer")])
    source = _snap(
        "customer",
        """
        id | code
        1  | "abc"
    """,
    )
    target = _snap(
        "contactperson",
        """
        id | code
        1  | "abc"
    """,
    )
    result = run_audit(flow(the_pair), source, target, link_by_id=True)
    assert _rows(result) == [("1", "1", "code", "type_violation", "abc", "abc")]


def test_unevaluable_condition_is_said_in_the_summary():
    the_pair = pair(
        "Customer", "Contactperson", [prop("orgNo", "orgNo", conditions=[Condition("wd:Q20", "NoSuch.Path")])]
    )
    source = _snap(
        "customer",
        """
        id | orgNo
        1  | "1"
    """,
    )
    target = _snap(
        "contactperson",
        """
        id | orgNo
        1  | "2"
    """,
    )
    result = run_audit(flow(the_pair), source, target, link_by_id=True)
    summary = _prop_summary(result, "orgNo")
    assert summary["conditions"][0]["evaluable"] is False and summary["checked"] == 0
    assert result.findings.height == 0


def test_policy_can_ignore_a_property():
    from audit.core.policy import PropertyRule, load_policy

    the_pair = pair("Contactperson", "Customer", [prop("firstName", "firstName")])
    source = _snap("contactperson", "id | firstName\n1 | Kari")
    target = _snap("customer", "id | firstName\n1 | Kåre")
    policy = load_policy(overrides=[PropertyRule(path="firstName", mode="ignore")])
    result = run_audit(flow(the_pair), source, target, policy=policy, link_by_id=True)
    assert result.findings.height == 0 and _prop_summary(result, "firstName")["mode"] == "ignore"


def test_seed_flow_audits_all_three_pairs_with_their_link_methods():
    seed = parse_file(SEED)
    source = Snapshot.from_records(
        {
            "supplier": records("id | mailAddress.id\n1 | 100"),
            "contactperson": records("id | firstName | lastName\n1 | Kari | Nordmann"),
            "customer": records("id | firstName | LastName\n1 | Kari | Nordmann"),
        }
    )
    target = Snapshot.from_records(
        {
            "address": records("Id | City\n100 | Oslo"),
            "customer": records("Id | FirstName | LastName\n1 | Kari | Nordmann"),
            "contactperson": records("Id | FirstName | LastName\n1 | Kari | Nordmann"),
        }
    )
    result = run_audit(seed, source, target, link_by_id=True)
    assert [p["link_method"] for p in result.summary["pairs"]] == ["merge_rules", "id", "id"]
    assert [p["linked"] for p in result.summary["pairs"]] == [1, 1, 1]


def test_findings_have_exactly_the_contract_columns_as_text(tmp_path):
    the_pair = pair("Contactperson", "Customer", [prop("firstName", "firstName")])
    source = _snap("contactperson", "id | firstName\n1 | Kari\n2 | Ola")
    target = _snap("customer", "Id | FirstName\n1 | Kåre")
    result = run_audit(flow(the_pair), source, target, link_by_id=True)
    assert tuple(result.findings.columns) == FINDINGS_COLUMNS
    assert set(result.findings.dtypes) == {pl.String}
    paths = write_outputs(result, tmp_path)
    assert pl.read_parquet(paths["findings_parquet"]).equals(result.findings)


@pytest.mark.parametrize("status", ["mismatch", "missing_in_target"])
def test_every_failing_record_is_listed_not_a_sample(status):
    n = 250
    the_pair = pair("Contactperson", "Customer", [prop("firstName", "firstName")])
    source = Snapshot.from_records({"contactperson": [{"id": i, "firstName": f"s{i}"} for i in range(n)]})
    if status == "mismatch":
        target = Snapshot.from_records({"customer": [{"Id": i, "FirstName": f"t{i}"} for i in range(n)]})
    else:
        target = Snapshot.from_records({"customer": [{"Id": -1, "FirstName": "x"}]})
    result = run_audit(flow(the_pair), source, target, link_by_id=True)
    assert result.findings.filter(pl.col("status") == status).height == n


def test_reading_in_the_background_raises_the_error_a_sequential_read_meets_first(tmp_path):
    from audit.demo.generator import generate
    from audit.errors import SnapshotError
    from audit.flow.parser import parse_file

    seed = parse_file(Path(__file__).resolve().parents[1] / "data" / "flows" / "powerofficego-powerofficego.rst")
    demo = generate(tmp_path / "demo", seed, records=20)
    bad = demo.source / "customer.jsonl"
    bad.write_bytes(bad.read_bytes() + b'{"id": 77, "name": "Bl\xe5b\xe6r"}\n')
    (demo.target / "address.jsonl").unlink()
    with pytest.raises(SnapshotError) as info:
        run_audit(seed, demo.source, demo.target, link_by_id=True)
    assert "customer.jsonl" in str(info.value) and "address" not in str(info.value)


def test_a_bad_file_of_the_last_pair_is_named_after_earlier_files_were_let_go(tmp_path):
    from audit.demo.generator import generate
    from audit.errors import SnapshotError
    from audit.flow.parser import parse_file

    seed = parse_file(Path(__file__).resolve().parents[1] / "data" / "flows" / "powerofficego-powerofficego.rst")
    demo = generate(tmp_path / "demo", seed, records=20)
    last = demo.target / "contactperson.jsonl"  # read last, for the third pair
    last.write_bytes(last.read_bytes() + b'{"Id": 77, "FirstName": 5}\n')
    with pytest.raises(SnapshotError, match=r"contactperson.jsonl:\d+: mixed types in field 'FirstName'"):
        run_audit(seed, demo.source, demo.target, link_by_id=True)


def test_summary_names_the_profile_each_side_was_read_with():
    source = _snap("contactperson", V1_CONTACTS)
    target = _snap("customer", V1_CONTACTS.replace("firstName", "name"))
    known = run_audit(flow(CONTACT_TO_CUSTOMER), source, target, link_by_id=True).summary["profiles"]
    hubspot = flow(CONTACT_TO_CUSTOMER, source_system="Hubspot")
    unknown = run_audit(hubspot, source, target, link_by_id=True).summary["profiles"]
    assert known == {"source": "powerofficego", "target": "powerofficego"}
    assert unknown == {"source": "generic", "target": "powerofficego"}


def test_one_entity_type_links_id_to_id_without_being_told():
    the_pair = pair("Customer", "Customer", [prop("firstName", "firstName")])
    source = _snap("customer", "id | firstName\n1 | Kari")
    result = run_audit(flow(the_pair), source, source)
    assert result.summary["pairs"][0]["link_method"] == "id" and result.success


def test_two_entity_types_without_links_are_refused():
    source = _snap("contactperson", V1_CONTACTS)
    target = _snap("customer", "Id | MailAddress.City\n1 | Oslo")
    with pytest.raises(ConfigError, match="Contactperson -> Customer"):
        run_audit(flow(CONTACT_TO_CUSTOMER), source, target)


def test_a_well_linked_pair_has_no_link_warning():
    source = _snap("contactperson", V1_CONTACTS)
    target = _snap("customer", "Id | MailAddress.City\n1 | Oslo\n2 | Bergen")
    result = run_audit(flow(CONTACT_TO_CUSTOMER), source, target, link_by_id=True)
    assert result.summary["pairs"][0]["link_warning"] is None and result.summary["warnings"] == []


def test_a_pair_linking_under_half_is_warned_about_in_the_summary():
    source = _snap("contactperson", V1_CONTACTS)
    target = _snap("customer", "Id | MailAddress.City\n1 | Oslo\n7 | Bergen\n8 | Bergen")
    result = run_audit(flow(CONTACT_TO_CUSTOMER), source, target, link_by_id=True)
    assert result.summary["pairs"][0]["link_warning"] is None  # 1 of 2 is half: not under it
    target = _snap("customer", "Id | MailAddress.City\n7 | Oslo\n8 | Bergen")
    warning = run_audit(flow(CONTACT_TO_CUSTOMER), source, target, link_by_id=True).summary["warnings"][0]
    assert "only 0 of 2 source records" in warning and "link method id" in warning
