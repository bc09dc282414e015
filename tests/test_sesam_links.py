"""Links from a Sesam dataset export: records whose `$ids` sit in one entity are linked."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from conftest import flow, pair, prop, records

from audit.core.engine import run_audit
from audit.core.policy import load_policy
from audit.core.sesam_links import dataset_name, read_export
from audit.core.snapshot import Snapshot
from audit.errors import ConfigError, SnapshotError

CP, CU = "~:powerofficego-contactperson:", "~:powerofficego-customer:"
THE_PAIR = pair("Contactperson", "Customer", [prop("id", "id"), prop("firstName", "firstName")])


def _snap(entity: str, table: str) -> Snapshot:
    return Snapshot.from_records({entity: records(table)})


SOURCE = """
    id | firstName
    1  | Kari
    2  | Ola
    3  | Per
"""
TARGET = """
    Id  | FirstName
    501 | Kari
    502 | Ola
    503 | Per
"""


def _export(tmp_path: Path, entities: list[dict], name: str = "global-person.json") -> Path:
    path = tmp_path / name
    if name.endswith(".jsonl"):
        path.write_text("".join(json.dumps(e) + "\n" for e in entities), encoding="utf-8")
    else:
        path.write_text(json.dumps(entities), encoding="utf-8")
    return path


def _audit(tmp_path, entities, name="global-person.json", policy=None):
    path = _export(tmp_path, entities, name)
    return run_audit(flow(THE_PAIR), _snap("contactperson", SOURCE), _snap("customer", TARGET), path, policy)


def _rows(result, status):
    frame = result.findings.filter(pl.col("status") == status).select("source_key", "target_key")
    return sorted(frame.fill_null("").rows())


PEOPLE = [
    {"_id": "p1", "$ids": [CP + "1", CU + "501"]},
    {"_id": "p2", "$ids": [CP + "2", CU + "502"]},
    {"_id": "p3", "$ids": [CP + "3", CU + "503"]},
]


def test_records_in_one_entity_are_linked_and_id_is_the_link_key(tmp_path):
    result = _audit(tmp_path, PEOPLE)
    summary = result.summary["pairs"][0]
    assert (summary["link_method"], summary["linked"]) == ("sesam", 3)
    assert result.findings.height == 0  # 1 and 501 differ by design: id -> id is the link itself


def test_a_jsonl_export_links_like_a_json_array(tmp_path):
    result = _audit(tmp_path, PEOPLE, "global-person.jsonl")
    assert result.summary["pairs"][0]["linked"] == 3 and result.findings.height == 0


def test_a_deleted_entity_links_nothing(tmp_path):
    entities = [*PEOPLE[:2], {"_id": "p3", "_deleted": True, "$ids": [CP + "3", CU + "503"]}]
    result = _audit(tmp_path, entities)
    assert _rows(result, "missing_in_target") == [("3", "")]
    assert _rows(result, "missing_in_source") == [("", "503")]


def test_a_deleted_entity_does_not_make_live_links_ambiguous(tmp_path):
    stale = {"_id": "old", "_deleted": True, "$ids": [CP + "1", CU + "502"]}
    result = _audit(tmp_path, [*PEOPLE, stale])
    assert result.findings.height == 0


def test_identifiers_of_other_datasets_are_ignored(tmp_path):
    entities = [{"_id": "p1", "$ids": [CP + "1", CU + "501", "~:hubspot-contact:501", "~:tripletex-customer:2"]}]
    entities += PEOPLE[1:]
    result = _audit(tmp_path, entities)
    assert result.summary["pairs"][0]["linked"] == 3 and result.findings.height == 0


def test_the_same_two_records_in_two_entities_are_one_link_not_ambiguous(tmp_path):
    # twice in one entity's $ids, and again in a second entity
    entities = [
        {"_id": "p1", "$ids": [CP + "1", CU + "501", CU + "501"]},
        {"_id": "p1b", "$ids": [CP + "1", CU + "501"]},
    ]
    result = _audit(tmp_path, [*entities, *PEOPLE[1:]])
    summary = result.summary["pairs"][0]
    assert summary["linked"] == 3 and result.findings.height == 0
    assert summary["link"]["sesam_rows"] == 3  # distinct pairs, as the dangling ones are counted


def test_two_source_records_in_one_entity_are_ambiguous_never_a_pick(tmp_path):
    entities = [{"_id": "p1", "$ids": [CP + "1", CP + "2", CU + "501"]}, PEOPLE[2]]
    result = _audit(tmp_path, entities)
    assert _rows(result, "ambiguous_link") == [("1", "501"), ("2", "501")]
    assert _rows(result, "missing_in_source") == [("", "502")]


def test_an_identifier_of_a_record_the_snapshot_lacks_is_dropped_not_ambiguous(tmp_path):
    entities = [{"_id": "p1", "$ids": [CP + "1", CP + "999", CU + "501"]}, *PEOPLE[1:]]
    result = _audit(tmp_path, entities)
    link = result.summary["pairs"][0]["link"]
    assert result.findings.height == 0 and link["sesam_dangling_rows"] == 1


def test_summary_names_the_export_and_the_datasets(tmp_path):
    link = _audit(tmp_path, PEOPLE).summary["pairs"][0]["link"]
    assert (link["source_dataset"], link["target_dataset"]) == ("powerofficego-contactperson", "powerofficego-customer")
    assert link["sesam_export"].endswith("global-person.json") and link["entities"] == 3


def test_default_dataset_is_system_and_entity_in_lower_case():
    assert dataset_name("PowerOffice GO", "Contact Person") == "powerofficego-contactperson"


def test_the_config_file_names_the_datasets(tmp_path):
    config = tmp_path / "links.yaml"
    config.write_text(
        "links:\n  source_datasets:\n    contactperson: po-a-person\n  datasets:\n    customer: po-cust\n"
    )
    entities = [{"_id": f"p{i}", "$ids": [f"~:po-a-person:{i}", f"~:po-cust:{500 + i}"]} for i in (1, 2, 3)]
    result = _audit(tmp_path, entities, policy=load_policy(config))
    assert result.summary["pairs"][0]["linked"] == 3 and result.findings.height == 0


def test_links_id_is_the_short_form_of_by_id(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("links: id\n")
    assert load_policy(config).links.by_id is True


def test_a_links_setting_that_is_not_id_is_refused(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("links: email\n")
    with pytest.raises(ConfigError, match="links"):
        load_policy(config)


def test_an_entity_whose_ids_are_not_a_list_names_the_entity(tmp_path):
    path = _export(tmp_path, [PEOPLE[0], {"_id": "x", "$ids": "~:a:1"}])
    with pytest.raises(SnapshotError, match=r"global-person.json: entity 2: \$ids"):
        read_export(path)


def test_a_broken_jsonl_line_names_the_line(tmp_path):
    path = tmp_path / "g.jsonl"
    path.write_text(json.dumps(PEOPLE[0]) + "\n{not json\n", encoding="utf-8")
    with pytest.raises(SnapshotError, match=r"g.jsonl:2: not valid JSON"):
        read_export(path)


def test_export_counts_deleted_and_unreadable_identifiers(tmp_path):
    path = _export(tmp_path, [PEOPLE[0], {"_id": "d", "_deleted": True, "$ids": [CP + "2"]}, {"$ids": ["odd"]}])
    export = read_export(path)
    assert export.stats == {"entities": 3, "deleted_entities": 1, "unreadable_identifiers": 1}


@pytest.mark.parametrize("suffix", [".json", ".jsonl"])
def test_the_native_reader_reads_what_the_strict_reader_reads(tmp_path, suffix):
    from audit.core.sesam_links import _fast_identifiers, _identifiers, _json_entities, _jsonl_entities

    entities = [
        PEOPLE[0],
        {"_id": "d", "_deleted": True, "$ids": [CP + "2"]},
        {"_id": "e", "_deleted": False, "$ids": [CP + "3", "~:other-system:9", "odd", "~:a:b:c"]},
        {"_id": "n", "$ids": None},
        {"_id": "z", "_deleted": None, "$ids": [CP + "4"]},
        {"_id": "m"},
        {"_id": "x", "$ids": [], "payload": {"nested": [1, "two", None]}},
    ]
    path = tmp_path / f"g{suffix}"
    if suffix == ".json":
        path.write_text(json.dumps(entities), encoding="utf-8")
    else:
        path.write_text("\n".join(json.dumps(e) for e in entities) + "\n", encoding="utf-8")
    strict = _identifiers((_json_entities if suffix == ".json" else _jsonl_entities)(path))
    native = _fast_identifiers(path)
    assert native is not None
    assert native[0].equals(strict[0]) and native[1] == strict[1]


@pytest.mark.parametrize(
    "bad",
    [{"$ids": [1, 2]}, {"$ids": "~:a:1"}, {"$ids": [], "_deleted": "yes"}, {"$ids": {"a": 1}}],
)
def test_an_entity_the_audit_refuses_is_left_to_the_strict_reader(tmp_path, bad):
    from audit.core.sesam_links import _fast_identifiers

    path = _export(tmp_path, [PEOPLE[0], bad])
    assert _fast_identifiers(path) is None
    with pytest.raises(SnapshotError, match=r"entity 2"):
        read_export(path)


def test_an_export_cut_off_after_an_entity_is_refused_naming_the_file(tmp_path):
    path = tmp_path / "global-person.json"
    path.write_text('[{"$ids": ["~:a:1"]},\n', encoding="utf-8")  # DuckDB alone reads this as one entity
    with pytest.raises(SnapshotError, match=r"global-person.json:2: not valid JSON"):
        read_export(path)


@pytest.mark.parametrize("name", ["global-person[1].json", "global-person?.json", "global-*.jsonl"])
def test_an_export_whose_name_reads_as_a_glob_is_read_alone(tmp_path, name):
    decoy = [{"$ids": [CP + "9", CU + "509"]}]
    _export(tmp_path, decoy, "global-person1.json")
    _export(tmp_path, decoy, "global-persona.json")
    _export(tmp_path, decoy, "global-other.jsonl")
    export = read_export(_export(tmp_path, PEOPLE[:1], name))
    assert export.identifiers.get_column("record_id").to_list() == ["1", "501"]
    assert export.stats["entities"] == 1


def test_an_export_named_relative_to_a_folder_whose_name_reads_as_a_glob_is_read_alone(tmp_path, monkeypatch):
    """The path DuckDB is given is the absolute one: a glob character in a folder above the
    working directory counts as much as one in the name given."""
    own, decoy = tmp_path / "links[1]", tmp_path / "links1"
    own.mkdir(), decoy.mkdir()
    _export(decoy, [{"$ids": [CP + "9", CU + "509"]}])
    _export(own, PEOPLE[:1])
    monkeypatch.chdir(own)
    export = read_export("global-person.json")
    assert export.identifiers.get_column("record_id").to_list() == ["1", "501"]
    assert export.stats["entities"] == 1


@pytest.mark.parametrize(
    ("identifier", "read_as"),
    [
        ("~:ds:42", ("ds", "42")),
        ("~:ds:a:b", ("ds", "a:b")),  # a record id may hold colons
        ("~:ds::x", ("ds", ":x")),
        ("~::42", None),  # no dataset
        ("~:ds:", None),  # no record id
        ("~:ds", None),
        ("~~:ds:42", None),
        ("x:ds:42", None),
        ("ds:42", None),
        ("", None),
    ],
)
def test_an_identifier_is_read_as_tilde_dataset_record_id(tmp_path, identifier, read_as):
    export = read_export(_export(tmp_path, [{"_id": "1", "$ids": [identifier]}]))
    rows = export.identifiers.select("dataset", "record_id").rows()
    assert rows == ([read_as] if read_as else [])
    assert export.stats["unreadable_identifiers"] == (0 if read_as else 1)


def test_linked_values_follow_each_side_s_ids_integer_or_text(tmp_path):
    # the source's ids are integers (joined to their values as integers), the target's texts
    target = """
        Id     | FirstName
        "C501" | Kari
        "C502" | Olav
        "7"    | Per
    """
    entities = [
        {"_id": f"p{i}", "$ids": [CP + s, CU + t]}
        for i, (s, t) in enumerate([("1", "C501"), ("2", "C502"), ("3", "7")])
    ]
    path = _export(tmp_path, entities)
    result = run_audit(flow(THE_PAIR), _snap("contactperson", SOURCE), _snap("customer", target), path)
    assert result.summary["pairs"][0]["linked"] == 3
    mismatch = result.findings.filter(pl.col("status") == "mismatch")
    assert mismatch.select("source_key", "target_key", "source_value", "target_value").rows() == [
        ("2", "C502", "Ola", "Olav")
    ]


@pytest.mark.parametrize("suffix", [".json", ".jsonl"])
def test_an_export_with_a_byte_order_mark_is_read_alike_by_both_readers(tmp_path, suffix):
    from audit.core.sesam_links import _fast_identifiers, _identifiers, _json_entities, _jsonl_entities

    path = _export(tmp_path, PEOPLE, "global-person" + suffix)
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    strict = _identifiers(_jsonl_entities(path) if suffix == ".jsonl" else _json_entities(path))
    fast = _fast_identifiers(path)
    assert fast is not None and strict[1] == fast[1]
    assert strict[0].sort("entity", "record_id").equals(fast[0].sort("entity", "record_id"))
    assert strict[0].height == 6


def test_a_jsonl_export_whose_first_line_is_only_a_byte_order_mark_is_read_alike_by_both_readers(tmp_path):
    from audit.core.sesam_links import _fast_identifiers, _identifiers, _jsonl_entities

    path = _export(tmp_path, PEOPLE, "global-person.jsonl")
    path.write_bytes(b"\xef\xbb\xbf\n" + path.read_bytes())
    strict = _identifiers(_jsonl_entities(path))
    fast = _fast_identifiers(path)
    assert fast is not None and strict[1] == fast[1]
    assert strict[0].sort("entity", "record_id").equals(fast[0].sort("entity", "record_id"))


def test_bytes_that_are_not_utf8_after_a_byte_order_mark_are_named_at_their_offset_in_the_file(tmp_path):
    path = tmp_path / "global-person.json"
    path.write_bytes(b'\xef\xbb\xbf[{"$ids": ["\xff"]}]')
    with pytest.raises(SnapshotError, match=r"offset 15\)"):
        read_export(path)
