"""Snapshot directories -> flat frames, and the bad input that must stop a run."""

from __future__ import annotations

import json

import polars as pl
import pytest
from conftest import records

from audit.core.snapshot import (
    Snapshot,
    frame_from_records,
    read_entity_file,
    read_links_dir,
    read_links_file,
    read_snapshot,
)
from audit.errors import SnapshotError


def _write_jsonl(path, recs):
    path.write_text("".join(json.dumps(r) + "\n" for r in recs), encoding="utf-8")


def test_nested_objects_become_dotted_columns():
    ef = frame_from_records(
        records("""
        Id | MailAddress.City | MailAddress.ZipCode
        1  | Oslo             | "0150"
    """),
        "customer",
    )
    assert ef.frame.columns == ["Id", "MailAddress.City", "MailAddress.ZipCode"]
    assert ef.frame.row(0) == (1, "Oslo", "0150")


def test_v2_records_are_recognised_by_their_pascal_case_id():
    assert frame_from_records([{"Id": 1}], "customer").generation == "v2"
    assert frame_from_records([{"id": 1}], "customer").generation == "v1"


def test_json_array_file_reads_like_jsonl(tmp_path):
    recs = records("""
        id | mailAddress.city
        1  | Oslo
        2  | Bergen
    """)
    (tmp_path / "customer.json").write_text(json.dumps(recs), encoding="utf-8")
    ef = read_snapshot(tmp_path, ["Customer"]).entity("Customer")
    assert ef.frame.to_dicts() == [
        {"id": 1, "mailAddress.city": "Oslo"},
        {"id": 2, "mailAddress.city": "Bergen"},
    ]


def test_parquet_nested_structs_are_flattened(tmp_path):
    pl.DataFrame({"Id": [1], "MailAddress": [{"City": "Oslo"}]}).write_parquet(tmp_path / "customer.parquet")
    ef = read_snapshot(tmp_path, ["customer"]).entity("customer")
    assert ef.frame.columns == ["Id", "MailAddress.City"]


def test_parquet_dotted_column_names_are_kept(tmp_path):
    pl.DataFrame({"Id": [1], "MailAddress.City": ["Oslo"]}).write_parquet(tmp_path / "customer.parquet")
    ef = read_snapshot(tmp_path, ["customer"]).entity("customer")
    assert ef.frame.columns == ["Id", "MailAddress.City"]


def test_missing_entity_file_names_the_entity(tmp_path):
    _write_jsonl(tmp_path / "customer.jsonl", [{"id": 1}])
    with pytest.raises(SnapshotError, match=r"lacks an entity file for 'contactperson'"):
        read_snapshot(tmp_path, ["Customer", "Contactperson"])


def test_non_utf8_line_is_named(tmp_path):
    (tmp_path / "customer.jsonl").write_bytes(b'{"id": 1}\n{"id": 2, "name": "\xff"}\n')
    with pytest.raises(SnapshotError, match=r"customer\.jsonl:2: bytes that are not UTF-8"):
        read_snapshot(tmp_path, ["customer"])


def test_invalid_json_line_is_named(tmp_path):
    (tmp_path / "customer.jsonl").write_text('{"id": 1}\n{"id": 2,\n', encoding="utf-8")
    with pytest.raises(SnapshotError, match=r"customer\.jsonl:2: not valid JSON"):
        read_snapshot(tmp_path, ["customer"])


def test_number_and_string_in_one_field_is_mixed_types():
    with pytest.raises(
        SnapshotError, match=r":3: mixed types in field 'zipCode': a number here, a string at line 1"
    ):
        frame_from_records([{"id": 1, "zipCode": "0150"}, {"id": 2}, {"id": 3, "zipCode": 150}], "customer")


def test_object_and_scalar_in_one_field_is_mixed_types():
    with pytest.raises(SnapshotError, match=r"mixed types in field 'mailAddress'"):
        frame_from_records(
            [{"id": 1, "mailAddress": {"city": "Oslo"}}, {"id": 2, "mailAddress": "Oslo"}], "customer"
        )


def test_integers_and_decimals_are_one_type_kept_as_written():
    ef = frame_from_records([{"id": 1, "amount": 1}, {"id": 2, "amount": 1.5}], "invoice")
    assert ef.frame.get_column("amount").to_list() == ["1", "1.5"]


def test_a_decimal_in_one_record_does_not_turn_150_into_150_0():
    ef = frame_from_records([{"id": 1, "zip": 150}, {"id": 2, "zip": 150.0}], "customer")
    assert ef.frame.get_column("zip").to_list() == ["150", "150.0"]


def test_integers_beyond_int64_are_kept_as_written_not_null():
    big = 123456789012345678901234567890
    ef = frame_from_records([{"id": 1, "n": big}, {"id": 2, "n": big + 1}], "customer")
    assert ef.frame.get_column("n").to_list() == [str(big), str(big + 1)]


def test_a_json_array_keeps_numbers_as_written(tmp_path):
    path = tmp_path / "customer.json"
    path.write_text('[{"id": 1, "zip": 150}, {"id": 2, "zip": 150.50}]')
    assert read_entity_file(path).frame.get_column("zip").to_list() == ["150", "150.50"]


def test_record_without_id_is_a_data_problem_named_by_line_not_an_error(tmp_path):
    _write_jsonl(tmp_path / "customer.jsonl", [{"id": 1}, {"name": "no id"}])
    ef = read_snapshot(tmp_path, ["customer"]).entity("customer")
    assert ef.height == 1 and ef.problems.missing["line"].to_list() == [f"{tmp_path / 'customer.jsonl'}:2"]


def test_duplicate_ids_are_a_data_problem_named_by_line_not_an_error(tmp_path):
    _write_jsonl(tmp_path / "customer.jsonl", [{"id": 7, "a": 1}, {"id": 8}, {"id": 7, "a": 2}])
    ef = read_snapshot(tmp_path, ["customer"]).entity("customer")
    file = tmp_path / "customer.jsonl"
    assert ef.problems.duplicates.rows() == [("7", f"{file}:1"), ("7", f"{file}:3")]


def test_empty_entity_file_is_an_entity_without_records(tmp_path):
    (tmp_path / "address.jsonl").write_text("", encoding="utf-8")
    assert read_snapshot(tmp_path, ["Address"]).entity("Address").height == 0


def test_snapshot_from_records_looks_up_flow_entity_names():
    snap = Snapshot.from_records({"Contactperson": [{"id": 1}]})
    assert snap.entity("Contactperson").entity == "contactperson"


def test_links_file_reads_ids_as_text_and_drops_blank_rows(tmp_path):
    path = tmp_path / "contactperson-customer.csv"
    path.write_text("source_id,target_id\n007,10\n , \n007,10\n", encoding="utf-8")
    assert read_links_file(path).rows() == [("007", "10")]


def test_a_links_row_with_one_end_is_bad_input_naming_its_line(tmp_path):
    path = tmp_path / "contactperson-customer.csv"
    path.write_text("source_id,target_id\n007,10\n,11\n12,\n", encoding="utf-8")
    with pytest.raises(SnapshotError, match=r"contactperson-customer.csv:3: source_id is empty \(2 such row"):
        read_links_file(path)


def test_an_unreadable_links_csv_is_named_in_one_line(tmp_path):
    path = tmp_path / "contactperson-customer.csv"
    path.write_text('source_id,target_id\n"unterminated,10\n', encoding="utf-8")
    with pytest.raises(SnapshotError, match="not a readable links CSV") as caught:
        read_links_file(path)
    assert "\n" not in str(caught.value)


def test_links_file_without_the_columns_is_bad_input(tmp_path):
    path = tmp_path / "contactperson-customer.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(SnapshotError, match="lacks column"):
        read_links_file(path)


def test_date_like_strings_stay_text_as_written():
    ef = frame_from_records(
        [{"id": 1, "lastChanged": "2024-06-13T01:56:16Z", "mailAddress": {"lastChanged": "1985-03-14"}}],
        "customer",
    )
    assert ef.frame.row(0, named=True) == {
        "id": 1,
        "lastChanged": "2024-06-13T01:56:16Z",
        "mailAddress.lastChanged": "1985-03-14",
    }


def test_date_like_field_first_seen_past_the_head_stays_text(monkeypatch):
    import audit.core.reading as reading

    monkeypatch.setattr(reading, "_SNIFF_BYTES", 64)
    recs = [{"id": i} for i in range(1, 20)] + [{"id": 20, "dateOfBirth": "1985-03-14T00:00:00"}]
    ef = frame_from_records(recs, "customer")
    assert ef.frame.columns == ["id", "dateOfBirth"]
    assert ef.frame.get_column("dateOfBirth").to_list()[-1] == "1985-03-14T00:00:00"


def test_mixed_types_past_the_head_are_named(monkeypatch):
    import audit.core.reading as reading

    monkeypatch.setattr(reading, "_SNIFF_BYTES", 64)
    recs = [{"id": i, "zipCode": "0150"} for i in range(1, 20)] + [{"id": 20, "zipCode": 150}]
    with pytest.raises(SnapshotError, match=r":20: mixed types in field 'zipCode': a number here"):
        frame_from_records(recs, "customer")


def test_links_file_named_with_the_entities_capitals_is_found(tmp_path):
    from audit.core.snapshot import read_links_dir

    (tmp_path / "Contactperson-Customer.csv").write_text("source_id,target_id\n5,6\n", encoding="utf-8")
    links = read_links_dir(tmp_path, [("Contactperson", "Customer")])
    assert links[("contactperson", "customer")].rows() == [("5", "6")]


def test_two_links_files_for_one_pair_are_refused(tmp_path):
    from audit.core.snapshot import read_links_dir
    from audit.errors import SnapshotError

    for name in ("Contactperson-Customer.csv", "contactperson-customer.csv"):
        (tmp_path / name).write_text("source_id,target_id\n5,6\n", encoding="utf-8")
    with pytest.raises(SnapshotError, match="several links files"):
        read_links_dir(tmp_path, [("Contactperson", "Customer")])


def test_list_empty_in_one_block_and_of_objects_in_another_reads(monkeypatch, tmp_path):
    # pyarrow infers each block on its own and cannot unite an all-empty list with a list
    # of objects; the file is then read again as one block instead of being refused
    import audit.core.reading as reading
    import audit.core.snapshot as snapshot

    monkeypatch.setattr(reading, "_BLOCK", 4096)
    recs = [{"id": i, "contacts": []} for i in range(1, 400)] + [{"id": 400, "contacts": [{"name": "Kari"}]}]
    _write_jsonl(tmp_path / "customer.jsonl", recs)
    ef = snapshot.read_entity_file(tmp_path / "customer.jsonl", "customer")
    assert ef.height == 400
    assert ef.frame.get_column("contacts").to_list()[-1] == [{"name": "Kari"}]


def test_mixed_types_in_a_later_block_are_named(monkeypatch, tmp_path):
    import audit.core.reading as reading
    import audit.core.snapshot as snapshot

    monkeypatch.setattr(reading, "_BLOCK", 4096)
    recs = [{"id": i, "zipCode": "0150"} for i in range(1, 400)] + [{"id": 400, "zipCode": 150}]
    _write_jsonl(tmp_path / "customer.jsonl", recs)
    with pytest.raises(SnapshotError, match=r"customer.jsonl:400: mixed types in field 'zipCode'"):
        snapshot.read_entity_file(tmp_path / "customer.jsonl", "customer")


def test_a_type_change_on_the_last_line_is_named_whatever_the_file_size(monkeypatch, tmp_path):
    # pyarrow skips its type checks on a last line cut by a block boundary when the last
    # block holds nothing else; blocks are sized so that this never happens
    import audit.core.reading as reading
    import audit.core.snapshot as snapshot

    monkeypatch.setattr(reading, "_BLOCK", 4096)
    monkeypatch.setattr(reading, "_SNIFF_BYTES", 64)
    for count in range(120, 420):  # some of these put the last line across the last boundary
        recs = [{"id": i, "zipCode": "0150"} for i in range(1, count)] + [{"id": count, "zipCode": 150}]
        _write_jsonl(tmp_path / "customer.jsonl", recs)
        with pytest.raises(SnapshotError, match=rf"customer.jsonl:{count}: mixed types in field 'zipCode'"):
            snapshot.read_entity_file(tmp_path / "customer.jsonl", "customer")


@pytest.mark.parametrize("suffix", [".jsonl", ".json", ".parquet"])
def test_a_column_chooser_keeps_the_chosen_columns_and_the_id_in_file_order(tmp_path, suffix):
    import audit.core.snapshot as snapshot

    recs = [
        {"Id": 1, "Name": "Kari", "MailAddress": {"City": "Oslo", "ZipCode": "0150"}, "Phone": "1"},
        {"Id": 2, "Name": "Ola", "MailAddress": {"City": "Moss", "ZipCode": "1501"}, "Phone": "2"},
    ]
    path = tmp_path / f"customer{suffix}"
    if suffix == ".jsonl":
        _write_jsonl(path, recs)
    elif suffix == ".json":
        path.write_text(json.dumps(recs), encoding="utf-8")
    else:
        pl.DataFrame(recs).write_parquet(path)
    seen = []

    def choose(columns):
        seen.append(list(columns))
        return ["Phone", "MailAddress.ZipCode", "NoSuchColumn"]

    ef = snapshot.read_entity_file(path, "customer", columns=choose)
    assert seen == [["Id", "Name", "MailAddress.City", "MailAddress.ZipCode", "Phone"]]
    assert ef.frame.columns == ["Id", "MailAddress.ZipCode", "Phone"]
    assert ef.frame.rows() == [(1, "0150", "1"), (2, "1501", "2")]


def test_a_column_chooser_does_not_hide_bad_records(tmp_path):
    import audit.core.snapshot as snapshot

    _write_jsonl(tmp_path / "customer.jsonl", [{"id": 1, "zip": "0150"}, {"id": 1, "zip": "0151"}])
    ef = snapshot.read_entity_file(tmp_path / "customer.jsonl", "customer", columns=lambda names: [])
    assert ef.problems.duplicates.height == 2 and ef.problems.copies == 0 and ef.frame.columns == ["id"]


def test_links_given_as_a_file_of_another_kind_says_what_links_take(tmp_path):
    path = tmp_path / "links.csv"
    path.write_text("source_id,target_id\n1,2\n", encoding="utf-8")
    with pytest.raises(SnapshotError, match=r"links.csv: --links takes a Sesam dataset export \(.json or .jsonl\)"):
        read_links_dir(path, [("Contactperson", "Customer")])


def test_a_folder_name_with_glob_characters_reads_its_own_files_only(tmp_path):
    """polars reads a path as a glob pattern unless told not to: ``tenant[1]`` would match
    the folder ``tenant1`` instead of itself."""
    for name, rows in (("tenant[1]", [{"id": 1, "name": "Own"}]), ("tenant1", [{"id": 9, "name": "Decoy"}])):
        folder = tmp_path / name
        folder.mkdir()
        pl.DataFrame(rows).write_parquet(folder / "customer.parquet")
        (folder / "contactperson-customer.csv").write_text(f"source_id,target_id\n{rows[0]['id']},1\n", "utf-8")
    own = tmp_path / "tenant[1]"
    assert read_entity_file(own / "customer.parquet").frame.get_column("name").to_list() == ["Own"]
    assert read_links_file(own / "contactperson-customer.csv").rows() == [("1", "1")]
