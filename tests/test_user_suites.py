"""The user's own expectations: read beside the generated suites, run in the audit,
every failing record an ``expectation_failed`` finding."""

from __future__ import annotations

import json

import polars as pl
import pytest
from conftest import flow, pair, prop, records

from audit.core.engine import run_audit
from audit.core.policy import default_policy
from audit.core.snapshot import Snapshot
from audit.errors import ConfigError
from audit.gx.suites import write_suites
from audit.gx.user_suites import add_user_expectation, load_user_suite, user_suite_path

CONTACT_TO_CUSTOMER = pair(
    "Contactperson", "Customer", [prop("id", "id"), prop("zipCode", "mailAddress.zipCode"), prop("email", "email")]
)
SOURCE = """
    id | zipCode | email
    1  | "0150"  | "a@example.no"
    2  | "50031" | "b@example.no"
    3  | "5003"  | "not-an-address"
"""
TARGET = """
    id | mailAddress.zipCode | email
    1  | "0150"              | "a@example.no"
    2  | "50031"             | "b@example.no"
    3  | "5003"              | "not-an-address"
"""
ZIP_RULE = {
    "type": "expect_column_values_to_match_regex",
    "kwargs": {"column": "target.mailAddress.zipCode", "regex": r"^\d{4}$"},
}
MAIL_RULE = {"type": "expect_column_values_to_match_regex", "kwargs": {"column": "source.email", "regex": "@"}}


def _write(tmp_path, expectations, the_pair=CONTACT_TO_CUSTOMER) -> None:
    path = user_suite_path(tmp_path, flow(the_pair), the_pair)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"name": "mine", "expectations": expectations}), encoding="utf-8")


def _audit(tmp_path, expectations_dir=None):
    return run_audit(
        flow(CONTACT_TO_CUSTOMER),
        Snapshot.from_records({"contactperson": records(SOURCE)}),
        Snapshot.from_records({"customer": records(TARGET)}),
        link_by_id=True,
        expectations_dir=expectations_dir if expectations_dir is not None else tmp_path,
    )


def _failed(result):
    frame = result.findings.filter(pl.col("status") == "expectation_failed")
    return frame.select("source_key", "target_key", "target_property", "target_value", "expectation").rows()


def test_a_five_digit_zip_code_fails_the_users_zip_rule_with_key_and_value(tmp_path):
    _write(tmp_path, [ZIP_RULE])
    result = _audit(tmp_path)
    assert _failed(result) == [
        ("2", "2", "mailAddress.zipCode", "50031", r"expect_column_values_to_match_regex(regex=^\d{4}$)")
    ]


def test_synced_records_failing_a_user_rule_fail_the_audit_by_default(tmp_path):
    _write(tmp_path, [ZIP_RULE])
    result = _audit(tmp_path)
    assert result.success is False
    assert result.summary["status_counts"]["expectation_failed"] == 1


def test_without_a_user_suite_the_same_records_are_in_sync(tmp_path):
    assert _audit(tmp_path).success is True


def test_a_rule_on_a_source_column_names_the_source_side(tmp_path):
    _write(tmp_path, [MAIL_RULE])
    frame = _audit(tmp_path).findings.filter(pl.col("status") == "expectation_failed")
    assert frame.select("source_key", "source_property", "source_value", "target_value").rows() == [
        ("3", "email", "not-an-address", None)
    ]


def test_every_failing_record_is_listed_not_only_gx_s_sample(tmp_path):
    many = "\n".join(f'    {i} | "{10000 + i}"' for i in range(1, 31))
    table = "    id | mailAddress.zipCode\n" + many
    the_pair = pair("Contactperson", "Customer", [prop("id", "id"), prop("zipCode", "mailAddress.zipCode")])
    _write(tmp_path, [ZIP_RULE], the_pair)
    source = table.replace("mailAddress.zipCode", "zipCode")
    result = run_audit(
        flow(the_pair),
        Snapshot.from_records({"contactperson": records(source)}),
        Snapshot.from_records({"customer": records(table)}),
        link_by_id=True,
        expectations_dir=tmp_path,
    )
    assert result.findings.filter(pl.col("status") == "expectation_failed").height == 30


def test_user_results_follow_the_generated_ones_marked_as_the_users(tmp_path):
    _write(tmp_path, [ZIP_RULE])
    result = _audit(tmp_path)
    gx = result.gx_results[result.pairs[0].slug]
    origins = [(r["expectation_config"].get("meta") or {}).get("origin") for r in gx["results"]]
    assert origins[-1] == "user" and origins.count("user") == 1
    assert result.summary["pairs"][0]["gx"]["user_expectations"] == 1


def test_a_user_expectation_on_an_unknown_column_is_a_warning_not_a_failure(tmp_path):
    _write(tmp_path, [{"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "target.nope"}}])
    result = _audit(tmp_path)
    assert result.success is True
    (warning,) = [w for w in result.summary["pairs"][0]["warnings"] if "could not run" in w]
    assert "expect_column_values_to_not_be_null" in warning and "target.nope" in warning
    path = user_suite_path(tmp_path, flow(CONTACT_TO_CUSTOMER), CONTACT_TO_CUSTOMER)
    assert f"({path}, expectation 1)" in warning  # the file and the expectation's place in it


def test_a_user_regex_the_database_rejects_is_a_one_line_warning_without_sql(tmp_path):
    _write(tmp_path, [{**ZIP_RULE, "kwargs": {**ZIP_RULE["kwargs"], "regex": r"^(\d{4}$"}}])
    result = _audit(tmp_path)
    assert result.success is True
    (warning,) = [w for w in result.summary["pairs"][0]["warnings"] if "could not run" in w]
    assert "expect_column_values_to_match_regex" in warning and "missing )" in warning
    assert "\n" not in warning and "SELECT" not in warning


def test_broken_json_in_a_user_suite_names_file_and_line(tmp_path):
    path = user_suite_path(tmp_path, flow(CONTACT_TO_CUSTOMER), CONTACT_TO_CUSTOMER)
    path.parent.mkdir(parents=True)
    path.write_text('{"expectations": [\n  {"type": }\n]}', encoding="utf-8")
    with pytest.raises(ConfigError, match=rf"{path.name}:2: not a JSON suite"):
        load_user_suite(path)


def test_an_unknown_expectation_type_names_its_position(tmp_path):
    _write(tmp_path, [ZIP_RULE, {"type": "expect_zip_codes_to_be_norwegian", "kwargs": {}}])
    path = user_suite_path(tmp_path, flow(CONTACT_TO_CUSTOMER), CONTACT_TO_CUSTOMER)
    with pytest.raises(ConfigError, match="expectation 2"):
        load_user_suite(path)


def test_a_misspelt_argument_names_the_expectation_and_the_argument(tmp_path):
    bad = {"type": "expect_column_values_to_be_between", "kwargs": {"columnn": "link", "min_value": 1}}
    _write(tmp_path, [ZIP_RULE, bad])
    path = user_suite_path(tmp_path, flow(CONTACT_TO_CUSTOMER), CONTACT_TO_CUSTOMER)
    with pytest.raises(ConfigError) as caught:
        load_user_suite(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: expectation 2: ")
    assert "column: field required" in message and "columnn: extra fields not permitted" in message


def test_an_expectation_that_is_not_an_object_names_its_position(tmp_path):
    _write(tmp_path, [ZIP_RULE, "expect_column_values_to_not_be_null"])
    path = user_suite_path(tmp_path, flow(CONTACT_TO_CUSTOMER), CONTACT_TO_CUSTOMER)
    with pytest.raises(ConfigError) as caught:
        load_user_suite(path)
    assert str(caught.value) == (
        f"{path}: expectation 2: an object with 'type' and 'kwargs', not 'expect_column_values_to_not_be_null'"
    )


def test_audit_suites_never_overwrites_a_user_suite(tmp_path):
    _write(tmp_path, [ZIP_RULE])
    path = user_suite_path(tmp_path, flow(CONTACT_TO_CUSTOMER), CONTACT_TO_CUSTOMER)
    before = path.read_text(encoding="utf-8")
    written = write_suites(flow(CONTACT_TO_CUSTOMER), tmp_path, default_policy())
    assert path not in written and path.read_text(encoding="utf-8") == before


def test_add_user_expectation_appends_a_checked_rule_that_the_next_audit_runs(tmp_path):
    the_flow = flow(CONTACT_TO_CUSTOMER)
    add_user_expectation(
        tmp_path, the_flow, CONTACT_TO_CUSTOMER, **ZIP_RULE["kwargs"], expectation_type=ZIP_RULE["type"]
    )
    path = add_user_expectation(
        tmp_path, the_flow, CONTACT_TO_CUSTOMER, "expect_column_values_to_match_regex", column="source.email", regex="@"
    )
    assert [e["kwargs"]["column"] for e in json.loads(path.read_text())["expectations"]] == [
        "target.mailAddress.zipCode",
        "source.email",
    ]
    assert {row[2] or "email" for row in _failed(_audit(tmp_path))} == {"mailAddress.zipCode", "email"}


def test_add_user_expectation_refuses_a_rule_gx_does_not_know_and_keeps_the_file(tmp_path):
    the_flow = flow(CONTACT_TO_CUSTOMER)
    path = add_user_expectation(tmp_path, the_flow, CONTACT_TO_CUSTOMER, ZIP_RULE["type"], **ZIP_RULE["kwargs"])
    before = path.read_text(encoding="utf-8")
    with pytest.raises(ConfigError):
        add_user_expectation(tmp_path, the_flow, CONTACT_TO_CUSTOMER, "expect_nothing_known")
    assert path.read_text(encoding="utf-8") == before


def test_add_user_expectation_to_a_suite_without_an_expectations_list_starts_one(tmp_path):
    the_flow = flow(CONTACT_TO_CUSTOMER)
    path = user_suite_path(tmp_path, the_flow, CONTACT_TO_CUSTOMER)
    path.parent.mkdir(parents=True)
    path.write_text('{"name": "mine"}', encoding="utf-8")
    add_user_expectation(tmp_path, the_flow, CONTACT_TO_CUSTOMER, ZIP_RULE["type"], **ZIP_RULE["kwargs"])
    assert json.loads(path.read_text(encoding="utf-8")) == {"name": "mine", "expectations": [ZIP_RULE]}


def test_a_failed_expectation_about_the_whole_table_is_one_finding_with_its_observed_value(tmp_path):
    _write(tmp_path, [{"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 10}}])
    result = _audit(tmp_path)
    assert result.success is False
    assert _failed(result) == [(None, None, None, "3", "expect_table_row_count_to_be_between(min_value=10)")]


def test_audit_run_with_a_broken_user_suite_exits_2_naming_file_and_line(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    seed = root / "data" / "flows" / "powerofficego-powerofficego.rst"
    bad = (
        tmp_path
        / "mine"
        / "powerofficego-powerofficego"
        / "powerofficego-contactperson-to-powerofficego-customer.user.json"
    )
    bad.parent.mkdir(parents=True)
    bad.write_text('{"expectations": [\n  {"type": }\n]}', encoding="utf-8")
    demo = root / "data" / "demo"
    args = [
        "--source",
        str(demo / "source"),
        "--target",
        str(demo / "target"),
        "--links",
        str(demo / "global-person.json"),
    ]
    proc = subprocess.run(
        [sys.executable, "-m", "audit", "run", "--flow", str(seed), *args, "--out", str(tmp_path / "out")]
        + ["--expectations", str(tmp_path / "mine")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 2, proc.stderr
    assert f"{bad.name}:2: not a JSON suite" in proc.stderr and "Traceback" not in proc.stderr
