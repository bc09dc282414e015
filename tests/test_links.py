"""Linking: merge rules (OR, transitive, never on empty), links files, ids."""

from __future__ import annotations

import polars as pl
from conftest import records

from audit.core.links import RuleColumns, link_ids, match_ids, match_links_file, match_rules, resolve_links


def _frame(table: str) -> pl.DataFrame:
    return pl.DataFrame(records(table))


def _link(source: pl.DataFrame, target: pl.DataFrame, *rules: tuple[str, str]):
    rcs = [RuleColumns(s, t, s, t) for s, t in rules]
    edges = match_rules(source, target, rcs, "id", "Id")
    return resolve_links("merge_rules", edges, source["id"], target["Id"])


def test_any_merge_rule_row_links():
    source = _frame("""
        id | email      | orgno
        1  | "a@x.no"   | "111"
        2  | "b@x.no"   | "222"
    """)
    target = _frame("""
        Id | email      | orgno
        10 | "a@x.no"   | "999"
        20 | "zz@x.no"  | "222"
    """)
    result = _link(source, target, ("email", "email"), ("orgno", "orgno"))
    assert sorted(result.linked.rows()) == [("1", "10"), ("2", "20")]


def test_empty_or_null_values_never_link():
    source = _frame("""
        id | email
        1  | ""
        2  | null
    """)
    target = _frame("""
        Id | email
        10 | ""
        20 | null
    """)
    result = _link(source, target, ("email", "email"))
    assert result.linked.height == 0
    assert sorted(result.missing_in_target["source_key"]) == ["1", "2"]
    assert sorted(result.missing_in_source["target_key"]) == ["10", "20"]


def test_one_record_matching_two_counterparts_is_ambiguous_not_picked():
    source = _frame("""
        id | email
        1  | "a@x.no"
    """)
    target = _frame("""
        Id | email
        10 | "a@x.no"
        20 | "a@x.no"
    """)
    result = _link(source, target, ("email", "email"))
    assert result.linked.height == 0
    assert result.ambiguous.select("source_key", "target_key").rows() == [("1", "10"), ("1", "20")]


def test_links_are_transitive_across_rule_rows():
    # 1 matches 10 by email, 2 matches 10 by orgno: one merged entity with two sources.
    source = _frame("""
        id | email    | orgno
        1  | "a@x.no" | "111"
        2  | "b@x.no" | "222"
    """)
    target = _frame("""
        Id | email    | orgno
        10 | "a@x.no" | "222"
    """)
    result = _link(source, target, ("email", "email"), ("orgno", "orgno"))
    assert result.linked.height == 0
    assert result.ambiguous.select("source_key", "target_key", "rule").rows() == [
        ("1", "10", 0),
        ("2", "10", 1),
    ]


def test_a_chain_through_several_records_is_one_ambiguous_component():
    # 1-10 (email), 2-10 (orgno), 2-20 (email): record 1 has one direct match but sits in
    # a component with two targets.
    source = _frame("""
        id | email    | orgno
        1  | "a@x.no" | "111"
        2  | "b@x.no" | "222"
    """)
    target = _frame("""
        Id | email    | orgno
        10 | "a@x.no" | "222"
        20 | "b@x.no" | "333"
    """)
    result = _link(source, target, ("email", "email"), ("orgno", "orgno"))
    assert result.linked.height == 0
    assert result.ambiguous.height == 3


def test_the_same_pair_matched_by_two_rows_is_one_link():
    source = _frame("""
        id | email    | orgno
        1  | "a@x.no" | "111"
    """)
    target = _frame("""
        Id | email    | orgno
        10 | "a@x.no" | "111"
    """)
    assert _link(source, target, ("email", "email"), ("orgno", "orgno")).linked.rows() == [("1", "10")]


def test_numbers_and_texts_of_the_same_id_link():
    source = _frame("""
        id | mailAddress.id
        1  | 100
    """).unnest("mailAddress", separator=".")
    target = _frame("""
        Id | ref
        100 | "100"
    """)
    assert _link(source, target, ("mailAddress.id", "ref")).linked.rows() == [("1", "100")]


def test_id_linking_pairs_equal_ids():
    edges = match_ids(pl.Series([1, 2, 3]), pl.Series(["2", "3", "4"]))
    result = resolve_links("id", edges, pl.Series([1, 2, 3]), pl.Series(["2", "3", "4"]))
    assert sorted(result.linked.rows()) == [("2", "2"), ("3", "3")]
    assert result.missing_in_target["source_key"].to_list() == ["1"]
    assert result.missing_in_source["target_key"].to_list() == ["4"]


def test_links_file_rows_naming_unknown_records_are_dropped_and_counted():
    links = pl.DataFrame({"source_id": ["1", "2", "9"], "target_id": ["10", "20", "10"]})
    edges, dangling = match_links_file(links, pl.Series([1, 2]), pl.Series([10, 20]))
    keys = edges.select(pl.col("source_key").cast(pl.String), pl.col("target_key").cast(pl.String))
    assert sorted(keys.rows()) == [("1", "10"), ("2", "20")]
    assert dangling == 1


def test_a_links_file_id_written_with_a_leading_zero_names_no_integer_id():
    links = pl.DataFrame({"source_id": ["01", "2"], "target_id": ["10", "20"]})
    edges, dangling = match_links_file(links, pl.Series([1, 2]), pl.Series([10, 20]))
    keys = edges.select(pl.col("source_key").cast(pl.String), pl.col("target_key").cast(pl.String))
    assert keys.rows() == [("2", "20")] and dangling == 1


def test_integer_ids_are_linked_as_by_their_text():
    links = pl.DataFrame({"source_id": ["1", "2", "-3"], "target_id": ["10", "20", "30"]})
    by_int, _ = match_links_file(links, pl.Series([1, 2, -3]), pl.Series([10, 20, 30]))
    by_text, _ = match_links_file(links, pl.Series(["1", "2", "-3"]), pl.Series(["10", "20", "30"]))
    as_text = [pl.col("source_key").cast(pl.String), pl.col("target_key").cast(pl.String)]
    assert sorted(by_int.select(as_text).rows()) == sorted(by_text.select(as_text).rows())


def test_links_file_linking_one_source_to_two_targets_is_ambiguous():
    links = pl.DataFrame({"source_id": ["1", "1"], "target_id": ["10", "20"]})
    edges, _ = match_links_file(links, pl.Series([1]), pl.Series([10, 20]))
    result = resolve_links("links_file", edges, pl.Series([1]), pl.Series([10, 20]))
    assert result.ambiguous.height == 2 and result.linked.height == 0


def test_one_join_id_linking_agrees_with_candidate_links_then_resolution():
    source = pl.DataFrame({"source_key": ["1", "2", "3", "5"], "s_city": ["Oslo", "Bergen", "Moss", "Bodø"]})
    target = pl.DataFrame({"target_key": ["2", "3", "4", "5"], "t_city": ["Bergen", "Hamar", "Molde", "Bodø"]})
    fast, frame = link_ids(source, target)
    slow = resolve_links(
        "id",
        match_ids(source["source_key"], target["target_key"]),
        source["source_key"],
        target["target_key"],
    )
    assert sorted(fast.linked.rows()) == sorted(slow.linked.rows())
    assert sorted(fast.missing_in_target.rows()) == sorted(slow.missing_in_target.rows())
    assert sorted(fast.missing_in_source.rows()) == sorted(slow.missing_in_source.rows())
    assert fast.ambiguous.height == slow.ambiguous.height == 0
    assert sorted(frame.select("source_key", "s_city", "t_city").rows()) == [
        ("2", "Bergen", "Bergen"),
        ("3", "Moss", "Hamar"),
        ("5", "Bodø", "Bodø"),
    ]


def test_one_join_id_linking_declines_repeated_or_missing_ids():
    unique = pl.DataFrame({"target_key": ["1", "2"]})
    assert link_ids(pl.DataFrame({"source_key": ["1", "1"]}), unique) is None
    assert link_ids(pl.DataFrame({"source_key": ["1", None]}), unique) is None


def test_integer_ids_and_rule_values_link_as_their_texts_do():
    # both sides' ids and rule columns are integers: matched as integers inside, handed out as text
    source = pl.DataFrame({"id": [1, 2, 3], "mailAddress.id": [100, 200, None]})
    target = pl.DataFrame({"Id": [100, 200, 300]})
    result = _link(source, target, ("mailAddress.id", "Id"))
    assert result.linked.schema == {"source_key": pl.String, "target_key": pl.String}
    assert sorted(result.linked.rows()) == [("1", "100"), ("2", "200")]
    assert result.missing_in_target.rows() == [("3",)]
    assert result.missing_in_source.rows() == [("300",)]


def test_an_integer_and_a_zero_padded_text_do_not_link():
    source = pl.DataFrame({"id": [1], "zip": [150]})
    target = pl.DataFrame({"Id": [10], "zip": ["0150"]})
    assert _link(source, target, ("zip", "zip")).linked.height == 0


def test_one_join_id_linking_of_integer_ids_hands_out_text_keys():
    source = pl.DataFrame({"source_key": [1, 2, 3], "s_city": ["Oslo", "Bergen", "Moss"]})
    target = pl.DataFrame({"target_key": [2, 3, 4], "t_city": ["Bergen", "Hamar", "Molde"]})
    link, frame = link_ids(source, target)
    assert frame.schema["source_key"] == frame.schema["target_key"] == pl.String
    assert sorted(link.linked.rows()) == [("2", "2"), ("3", "3")]
    assert link.missing_in_target.rows() == [("1",)] and link.missing_in_source.rows() == [("4",)]


def test_a_links_file_s_rows_are_counted_once_each_as_its_dangling_rows_are(tmp_path):
    from conftest import flow, pair, prop, records

    from audit.core.engine import run_audit
    from audit.core.snapshot import Snapshot

    the_pair = pair("Contactperson", "Customer", [prop("firstName", "firstName")])
    links = pl.DataFrame({"source_id": ["1", "1", " 1", "2", "9"], "target_id": ["501", "501", "501", "502", "509"]})
    source = Snapshot.from_records({"contactperson": records("id | firstName\n1 | Kari\n2 | Ola")})
    target = Snapshot.from_records({"customer": records("Id | FirstName\n501 | Kari\n502 | Ola")})
    result = run_audit(flow(the_pair), source, target, links={("contactperson", "customer"): links})
    link = result.summary["pairs"][0]["link"]
    assert (link["links_file_rows"], link["links_file_dangling_rows"]) == (3, 1)
    assert result.summary["pairs"][0]["linked"] == 2
