"""Data problems are findings: duplicate ids, records without id, exact copies, empty files."""

from __future__ import annotations

import polars as pl
import pytest
from conftest import flow, pair, prop

from audit.core.engine import run_audit
from audit.core.policy import load_policy
from audit.core.snapshot import Snapshot, frame_from_records, read_entity_file

CUSTOMERS = pair("Customer", "Contactperson", [prop("firstName", "firstName"), prop("id", "id", "integer")])
TARGET = [{"id": 1, "firstName": "Ola"}, {"id": 2, "firstName": "Kari"}, {"id": 3, "firstName": "Per"}]


def _audit(source: list[dict], target: list[dict] = TARGET, policy=None):
    snap_s = Snapshot.from_records({"customer": source})
    snap_t = Snapshot.from_records({"contactperson": target})
    return run_audit(flow(CUSTOMERS), snap_s, snap_t, policy=policy, link_by_id=True)


def _rows(result, status):
    return result.findings.filter(pl.col("status") == status).select(
        "source_key", "target_key", "source_property", "source_value"
    ).rows()


def test_a_duplicate_id_is_a_finding_per_record_naming_file_and_line_not_an_error():
    result = _audit([{"id": 1, "firstName": "Ola"}, {"id": 2, "firstName": "Kari"}, {"id": 2, "firstName": "K"},
                     {"id": 3, "firstName": "Per"}])  # fmt: skip
    assert _rows(result, "duplicate_id") == [
        ("2", None, "id", "<records:customer>:2"),
        ("2", None, "id", "<records:customer>:3"),
    ]
    assert not result.success


def test_records_sharing_an_id_make_their_link_ambiguous():
    result = _audit([{"id": 1, "firstName": "Ola"}, {"id": 2, "firstName": "Kari"}, {"id": 2, "firstName": "K"}])
    assert result.findings.filter(pl.col("status") == "ambiguous_link").select("source_key", "target_key").rows() == [
        ("2", "2")
    ]
    assert result.findings.filter(pl.col("status") == "mismatch").height == 0


def test_exact_copies_count_once_with_a_warning():
    result = _audit([{"id": 1, "firstName": "Ola"}, {"id": 1, "firstName": "Ola"}, {"id": 2, "firstName": "Kari"},
                     {"id": 3, "firstName": "Per"}])  # fmt: skip
    assert result.success and result.findings.height == 0
    assert result.summary["pairs"][0]["source_records"] == 3
    assert result.summary["warnings"] == [
        "<records:customer>: 1 exact copies of records dropped (same id, same values)"
    ]


def test_a_record_without_an_id_is_a_missing_id_finding():
    result = _audit([{"id": 1, "firstName": "Ola"}, {"firstName": "Anon"}, {"id": 2, "firstName": "Kari"},
                     {"id": 3, "firstName": "Per"}])  # fmt: skip
    assert _rows(result, "missing_id") == [(None, None, "id", "<records:customer>:2")]
    assert not result.success


def test_duplicate_and_missing_ids_fail_the_audit_only_by_policy(tmp_path):
    path = tmp_path / "policy.yaml"
    path.write_text("fail_on:\n  duplicate_id: false\n  missing_id: false\n  ambiguous_link: false\n")
    result = _audit([{"id": 1, "firstName": "Ola"}, {"firstName": "Anon"}, {"id": 2, "firstName": "Kari"},
                     {"id": 2, "firstName": "K"}, {"id": 3, "firstName": "Per"}], policy=load_policy(path))  # fmt: skip
    assert result.success and {"duplicate_id", "missing_id"} <= set(result.findings["status"])


def test_a_jsonl_file_names_the_line_of_each_duplicate(tmp_path):
    path = tmp_path / "customer.jsonl"
    path.write_text('{"id": 1, "a": "x"}\n\n{"id": 1, "a": "y"}\n')
    ef = read_entity_file(path)
    assert ef.problems.duplicates["line"].to_list() == [f"{path}:1", f"{path}:3"]


def test_an_empty_entity_file_is_read_as_no_records_with_a_warning(tmp_path):
    path = tmp_path / "customer.jsonl"
    path.write_bytes(b"")
    ef = read_entity_file(path)
    assert ef.height == 0 and "empty" in ef.problems.warnings[0]


def test_unique_ids_have_no_problems():
    ef = frame_from_records(TARGET, "customer")
    assert ef.problems.duplicates.height == 0 and ef.problems.missing.height == 0 and not ef.problems.warnings


def test_a_column_name_collision_under_case_folding_is_an_error_naming_both_columns():
    import pytest

    from audit.errors import SnapshotError

    collide = pair("Customer", "Contactperson", [prop("FIRSTNAME", "firstName")])
    source = Snapshot.from_records({"customer": [{"id": 1, "FirstName": "Ola", "firstname": "Kari"}]})
    target = Snapshot.from_records({"contactperson": TARGET})
    with pytest.raises(SnapshotError, match=r"'FIRSTNAME' matches the columns 'FirstName' and 'firstname'"):
        run_audit(flow(collide), source, target, link_by_id=True)


def test_the_exact_spelling_picks_one_of_two_colliding_columns():
    exact = pair("Customer", "Contactperson", [prop("firstname", "firstName")])
    source = Snapshot.from_records({"customer": [{"id": 1, "FirstName": "Ola", "firstname": "Kari"}]})
    target = Snapshot.from_records({"contactperson": [{"id": 1, "firstName": "Kari"}]})
    assert run_audit(flow(exact), source, target, link_by_id=True).success


@pytest.mark.parametrize(
    "data",
    [
        b'{"a":1}\n{"a":2}\n',
        b'{"a":1}\n{"a":2}',
        b'\n{"a":1}\n\n{"a":2}\n\n',
        b'{"a":1}\r\n{"a":2}\r\n',
        b'  \n{"a":1}\n',
        b'{"a":1}\n \t\n{"a":2}\n',
        b"",
        b'{"a":1}\n\x0b\n{"b":2}',
    ],
)
def test_record_lines_are_counted_as_the_non_blank_lines_of_the_file(data):
    from audit.core.problems import _lines

    numbers = [n for n, raw in enumerate(data.split(b"\n"), start=1) if raw.strip()]
    want = [f"line {numbers[r]}" if r < len(numbers) else f"record {r + 1}" for r in range(4)]
    assert _lines(data, list(range(4))) == want
