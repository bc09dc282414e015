"""The committed expectation suites under expectations/ match what the flow generates."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import flow, pair, prop

from audit.core.policy import default_policy
from audit.core.values import BOOL_VALUES, CANONICAL_RE
from audit.flow.parser import parse_file
from audit.gx.suites import build_suite, suite_dict, suite_path, suite_text

ROOT = Path(__file__).resolve().parents[1]
FLOWS = sorted((ROOT / "data" / "flows").glob("*.rst"))


@pytest.mark.parametrize("doc", FLOWS, ids=[d.name for d in FLOWS])
def test_committed_suites_are_not_stale(doc):
    parsed = parse_file(doc)
    policy = default_policy()
    for the_pair in parsed.pairs:
        path = suite_path(ROOT / "expectations", parsed, the_pair)
        assert path.is_file(), f"{path} missing: run `audit suites`"
        assert path.read_text(encoding="utf-8") == suite_text(parsed, the_pair, policy), (
            f"{path} is stale: run `audit suites`"
        )


def _expectations(the_pair, policy=None):
    data = suite_dict(build_suite(flow(the_pair), the_pair, policy or default_policy()))
    return [
        (
            e["type"],
            e["kwargs"].get("column") or (e["kwargs"].get("column_A"), e["kwargs"].get("column_B")),
            e["severity"],
        )
        for e in data["expectations"]
    ]


def test_compared_property_is_expected_to_exist_and_agree_on_the_real_columns():
    exps = _expectations(pair("Contactperson", "Customer", [prop("firstName", "firstName")]))
    assert exps[2:-4] == [
        ("expect_column_to_exist", "target.firstName", "critical"),
        ("expect_column_pair_values_to_be_equal", ("source.firstName", "target.firstName"), "critical"),
    ]


def test_agreement_skips_only_rows_where_both_values_are_missing():
    the_pair = pair("Contactperson", "Customer", [prop("firstName", "firstName")])
    suite = build_suite(flow(the_pair), the_pair, default_policy())
    (pair_equal,) = [e for e in suite.expectations if e.expectation_type == "expect_column_pair_values_to_be_equal"]
    assert pair_equal.ignore_row_if == "both_values_are_missing"


def test_integer_decimal_and_boolean_targets_get_a_type_expectation_on_their_canonical_text():
    the_pair = pair(
        "Contactperson",
        "Customer",
        [prop("a", "a", "integer"), prop("b", "b", "decimal"), prop("c", "c", "boolean"), prop("d", "d", "string")],
    )
    data = suite_dict(build_suite(flow(the_pair), the_pair, default_policy()))
    typed = {
        e["kwargs"]["column"]: e["kwargs"].get("regex") or e["kwargs"].get("value_set")
        for e in data["expectations"]
        if e["meta"].get("check") == "target_type"
    }
    # the value model's canonical text of each type (checked against type_ok in test_values_props)
    assert typed == {
        "target.a": CANONICAL_RE["integer"],
        "target.b": CANONICAL_RE["decimal"],
        "target.c": list(BOOL_VALUES),
    }


def test_two_properties_on_one_path_get_distinct_columns():
    the_pair = pair("Contactperson", "Customer", [prop("name", "firstName"), prop("name", "lastName")])
    exps = _expectations(the_pair)
    pairs = [column for kind, column, _ in exps if kind == "expect_column_pair_values_to_be_equal"]
    assert pairs == [
        ("source.name", "target.firstName"),
        ("source.name [p01_name__lastName]", "target.lastName"),
    ]


def test_informational_property_agreement_is_a_warning():
    exps = _expectations(pair("Contactperson", "Customer", [prop("lastChanged", "lastChanged")]))
    assert exps[2:-4] == [
        ("expect_column_to_exist", "target.lastChanged", "critical"),
        ("expect_column_pair_values_to_be_equal", ("source.lastChanged", "target.lastChanged"), "warning"),
    ]


def test_missing_in_source_is_a_warning_level_expectation_by_default():
    exps = _expectations(pair("Contactperson", "Customer"))
    assert exps[:-4] == [
        ("expect_column_values_to_be_in_set", "link", "critical"),
        ("expect_column_values_to_be_in_set", "link", "warning"),
    ]


def test_each_side_s_ids_are_expected_unique_and_not_null_after_the_properties():
    exps = _expectations(pair("Contactperson", "Customer", [prop("firstName", "firstName")]))
    assert exps[-4:] == [
        ("expect_column_values_to_be_unique", "source record id", "critical"),
        ("expect_column_values_to_not_be_null", "source record id", "critical"),
        ("expect_column_values_to_be_unique", "target record id", "critical"),
        ("expect_column_values_to_not_be_null", "target record id", "critical"),
    ]


def test_the_not_null_id_expectation_looks_only_at_the_side_s_record_rows():
    the_pair = pair("Contactperson", "Customer")
    data = suite_dict(build_suite(flow(the_pair), the_pair, default_policy()))
    conditions = [e["kwargs"].get("row_condition") for e in data["expectations"][-4:]]
    assert conditions[0] is None and conditions[2] is None
    assert (conditions[1]["column"]["name"], conditions[1]["parameter"]) == ("source record", 1)
    assert (conditions[3]["column"]["name"], conditions[3]["parameter"]) == ("target record", 1)


def test_id_expectations_are_warnings_when_the_policy_tolerates_their_statuses(tmp_path):
    from audit.core.policy import load_policy

    path = tmp_path / "policy.yaml"
    path.write_text("fail_on:\n  duplicate_id: false\n  missing_id: false\n")
    exps = _expectations(pair("Contactperson", "Customer"), load_policy(path))
    assert {severity for _, _, severity in exps[-4:]} == {"warning"}


def test_suite_json_round_trips_through_gx():
    import great_expectations as gx

    data = json.loads(
        suite_text(flow(pair("A", "B", [prop("x", "x")])), pair("A", "B", [prop("x", "x")]), default_policy())
    )
    assert len(gx.ExpectationSuite(**data).expectations) == len(data["expectations"])
