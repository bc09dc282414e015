"""The dataflow parser: every format variation, bad input, and the seed pinned exactly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flowdocs import INTRO_OLD, document, section, table

from audit.errors import DocumentError
from audit.flow.model import Condition
from audit.flow.parser import parse_bytes, parse_file, parse_text

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "data" / "flows" / "powerofficego-powerofficego.rst"
SEED_JSON = Path(__file__).parent / "snapshots" / "seed_spec.json"

PAIR = section(
    "Alpha Person to Beta Contact",
    "Alpha",
    "Person",
    "Beta",
    "Contact",
    properties=[("firstName", "FirstName", '"string"')],
)


def test_seed_parse_is_pinned_exactly():
    flow = parse_file(SEED)
    assert flow.to_dict() == json.loads(SEED_JSON.read_text(encoding="utf-8"))


def test_seed_has_three_pairs_as_the_flow_guide_reads_them():
    flow = parse_file(SEED)
    supplier, contact, customer = flow.pairs
    assert (supplier.source_entity, supplier.target_entity) == ("Supplier", "Address")
    assert [(r.source, r.target) for r in supplier.merge_rules] == [("MailAddress.Id", "id")]
    assert supplier.properties == ()
    assert contact.link.every and not contact.merge_rules and len(contact.properties) == 9
    assert {p.datatype for p in contact.properties} == {"string"}
    assert [p.datatype for p in customer.properties if p.source == "id"] == ["integer"]
    assert all(p.two_way for p in flow.pairs)


def test_crlf_line_endings_parse_like_lf():
    text = document(sections=[PAIR])
    assert parse_text(text.replace("\n", "\r\n")).to_dict() == parse_text(text).to_dict()


def test_trailing_tabs_in_cells_are_stripped():
    text = document(sections=[PAIR.replace("- firstName", "- firstName\t").replace("- FirstName", "- FirstName\t")])
    prop = parse_text(text).pairs[0].properties[0]
    assert (prop.source, prop.target) == ("firstName", "FirstName")


def test_old_introduction_with_dot_and_short_underline_is_accepted():
    flow = parse_text(document(sections=[PAIR], intro=INTRO_OLD))
    assert [p.heading for p in flow.pairs] == ["Alpha Person to Beta Contact"]
    assert flow.warnings == ()


def test_header_only_property_table_gives_no_properties():
    text = document(sections=[section("Alpha A to Beta B", "Alpha", "A", "Beta", "B", properties=[])])
    pair = parse_text(text).pairs[0]
    assert pair.properties == ()
    assert pair.link.every


def test_document_without_pair_sections_has_no_pairs():
    flow = parse_text(document("Asana", "", sections=[]))
    assert flow.pairs == ()
    assert (flow.source_system, flow.target_system) == ("Asana", "")


@pytest.mark.parametrize("rows", [1, 4, 10])
def test_merge_table_rows_are_alternatives_in_order(rows):
    merge = [(f"S{i}", f"T{i}") for i in range(rows)]
    text = document(sections=[section("Alpha A to Beta B", "Alpha", "A", "Beta", "B", every=False, merge=merge)])
    pair = parse_text(text).pairs[0]
    assert [(r.source, r.target) for r in pair.merge_rules] == merge
    assert pair.link.every is False


def test_conditional_link_sentence_is_kept_as_condition():
    sentence = "When a Alpha Deal has a 100% probability of beeing sold, it  will be synchronized with a Beta Order."
    text = document(
        sections=[
            section("Alpha Deal to Beta Order", "Alpha", "Deal", "Beta", "Order", every=False, condition=sentence)
        ]
    )
    link = parse_text(text).pairs[0].link
    assert link.condition == sentence
    assert link.every is False


def test_create_when_sentence_is_kept():
    sentence = (
        "A new Beta Customers will be created from a Alpha Contactperson if it is connected to "
        "a Alpha Order that is synchronized into Beta."
    )
    text = document(
        sections=[
            section(
                "Alpha Contactperson to Beta Customers",
                "Alpha",
                "Contactperson",
                "Beta",
                "Customers",
                every=False,
                create_when=sentence,
                merge=[("emailAddress", "EmailAddress")],
            )
        ]
    )
    pair = parse_text(text).pairs[0]
    assert pair.link.create_when == sentence
    assert [(r.source, r.target) for r in pair.merge_rules] == [("emailAddress", "EmailAddress")]


def test_empty_target_label_gives_empty_string_and_entity_from_heading():
    text = document(
        "HubSpot", "", sections=[section("HubSpot Product to  Inventory", "HubSpot", "Product", "", "Inventory")]
    )
    flow = parse_text(text)
    assert flow.target_system == ""
    pair = flow.pairs[0]
    assert (pair.source_entity, pair.target_entity) == ("Product", "Inventory")
    assert pair.heading == "HubSpot Product to  Inventory"


def test_heading_label_spelled_differently_from_title_is_recognised():
    text = document(
        "Powerofficego",
        "PowerOfficeGo",
        sections=[
            section(
                "PowerOffice GO Customers (human data) to PowerOfficeGo Contactperson",
                "PowerOffice GO",
                "Customers (human data)",
                "PowerOfficeGo",
                "Contactperson",
            )
        ],
    )
    pair = parse_text(text).pairs[0]
    assert (pair.source_entity, pair.target_entity) == ("Customers (human data)", "Contactperson")
    assert pair.source_label == "PowerOffice GO"


def test_heading_with_unknown_label_warns_and_still_parses():
    text = document("Alpha", "Beta", sections=[section("Gamma Thing to Beta Item", "Gamma", "Thing", "Beta", "Item")])
    flow = parse_text(text)
    assert (flow.pairs[0].source_entity, flow.pairs[0].target_entity) == ("Thing", "Item")
    assert any("differs from the title" in w for w in flow.warnings)


def test_repeated_heading_is_merged_once_with_a_warning():
    one = section(
        "Alpha A to Beta B",
        "Alpha",
        "A",
        "Beta",
        "B",
        every=False,
        merge=[("x", "x")],
        properties=[("p", "P", '"string"')],
    )
    two = section(
        "Alpha A to Beta B",
        "Alpha",
        "A",
        "Beta",
        "B",
        every=False,
        merge=[("x", "x"), ("y", "y")],
        properties=[("q", "Q", '"integer"')],
    )
    flow = parse_text(document(sections=[one, two]))
    assert len(flow.pairs) == 1
    pair = flow.pairs[0]
    assert [(r.source, r.target) for r in pair.merge_rules] == [("x", "x"), ("y", "y")]
    assert [p.source for p in pair.properties] == ["p", "q"]
    assert any("appears again" in w for w in flow.warnings)


def test_condition_clause_is_split_from_the_path():
    props = [("designation", "DepartmentId (Dependant on having wd:Q703534 in JobTitle)", '"string"')]
    prop = (
        parse_text(document(sections=[section("Alpha A to Beta B", "Alpha", "A", "Beta", "B", properties=props)]))
        .pairs[0]
        .properties[0]
    )
    assert prop.target == "DepartmentId"
    assert prop.conditions == (Condition("wd:Q703534", "JobTitle"),)


def test_repeated_condition_clause_without_separator_is_listed_once():
    clause = "Dependant on having wd:Q17517 in phone_numbers.name"
    props = [(f"phone_numbers.number ({clause * 4})", "PhoneNumber", '"string"')]
    prop = (
        parse_text(document(sections=[section("Alpha A to Beta B", "Alpha", "A", "Beta", "B", properties=props)]))
        .pairs[0]
        .properties[0]
    )
    assert prop.source == "phone_numbers.number"
    assert prop.conditions == (Condition("wd:Q17517", "phone_numbers.name"),)


def test_condition_with_empty_value_keeps_the_empty_string():
    props = [("designation", "DepartmentId (Dependant on having  in JobTitle)", '"string"')]
    prop = (
        parse_text(document(sections=[section("Alpha A to Beta B", "Alpha", "A", "Beta", "B", properties=props)]))
        .pairs[0]
        .properties[0]
    )
    assert prop.conditions == (Condition("", "JobTitle"),)


def test_special_cell_and_one_source_to_several_targets_are_kept():
    props = [("$original_id", "id", '"string"'), ("name", "Name", '"string"'), ("name", "name", '"string"')]
    pair = parse_text(
        document(sections=[section("Alpha A to Beta B", "Alpha", "A", "Beta", "B", properties=props)])
    ).pairs[0]
    assert [(p.source, p.target) for p in pair.properties] == [
        ("$original_id", "id"),
        ("name", "Name"),
        ("name", "name"),
    ]


@pytest.mark.parametrize(
    "cell,datatype",
    [
        ('"string"', "string"),
        ('"integer"', "integer"),
        ('"float"', "float"),
        ('"boolean"', "boolean"),
        ('"list"', "list"),
        ('"decimal"', "decimal"),
        ("N/A", None),
    ],
)
def test_known_datatypes_are_mapped_and_raw_text_kept(cell, datatype):
    props = [("a", "b", cell)]
    flow = parse_text(document(sections=[section("Alpha A to Beta B", "Alpha", "A", "Beta", "B", properties=props)]))
    prop = flow.pairs[0].properties[0]
    assert (prop.datatype, prop.datatype_raw) == (datatype, cell)
    assert flow.warnings == ()


def test_code_fragment_datatype_is_unknown_with_a_warning():
    cell = '"datetime-format","%Y-%m-%d","_."]'
    flow = parse_text(
        document(sections=[section("Alpha A to Beta B", "Alpha", "A", "Beta", "B", properties=[("d", "D", cell)])])
    )
    prop = flow.pairs[0].properties[0]
    assert (prop.datatype, prop.datatype_raw) == (None, cell)
    assert any("unknown data type" in w for w in flow.warnings)


def test_inconsistent_casing_of_paths_is_kept_as_written():
    props = [("lastName", "LastName", '"string"'), ("LastName", "lastName", '"string"')]
    pair = parse_text(
        document(sections=[section("Alpha A to Beta B", "Alpha", "A", "Beta", "B", properties=props)])
    ).pairs[0]
    assert [(p.source, p.target) for p in pair.properties] == [("lastName", "LastName"), ("LastName", "lastName")]


def test_generated_timestamp_is_iso():
    assert parse_text(document(sections=[PAIR], generated="2023-08-03 06:00:01")).generated == "2023-08-03T06:00:01"


# --------------------------------------------------------------------------- bad input
def _error(text_or_bytes, name="doc.rst") -> DocumentError:
    with pytest.raises(DocumentError) as info:
        if isinstance(text_or_bytes, bytes):
            parse_bytes(text_or_bytes, name)
        else:
            parse_text(text_or_bytes, name)
    return info.value


def test_empty_file_is_an_error_naming_the_file():
    err = _error("", "empty.rst")
    assert err.file == "empty.rst" and "empty" in str(err)


def test_text_that_is_not_a_dataflow_document_is_an_error():
    err = _error("Just some notes\n\nabout nothing.\n", "notes.txt")
    assert str(err).startswith("notes.txt:1:") and "not a dataflow document" in str(err)


def test_title_without_dataflow_is_an_error_with_its_line():
    err = _error("=====\nHello\n=====\n\ntext\n")
    assert err.line == 2


def test_property_table_with_two_columns_is_an_error_naming_the_table_line():
    bad = PAIR.replace('     - "string"\n', "")
    text = document(sections=[bad])
    err = _error(text)
    expected_line = text.splitlines().index("   * - firstName") + 1
    assert err.line == expected_line
    assert "expected 3" in str(err)


def test_row_with_an_extra_cell_is_an_error_naming_its_line():
    bad = PAIR.replace('     - "string"\n', '     - "string"\n     - extra\n')
    text = document(sections=[bad])
    err = _error(text)
    assert err.line == text.splitlines().index("   * - firstName") + 1
    assert "4 column" in str(err)


def test_merge_table_with_three_columns_is_an_error():
    merge_sentence = "A Alpha A will merge with a Beta B if one of the following property combinations match:"
    bad = "Alpha A to Beta B\n-----------------\n" + merge_sentence + "\n\n" + table([("x", "y", "z")], ["a", "b", "c"])
    err = _error(document(sections=[bad]))
    assert "merge table" in str(err) and "expected 2" in str(err)


def test_heading_without_to_is_an_error_naming_its_line():
    text = document(
        sections=["Alpha Things\n------------\nEvery Alpha Thing will be synchronized with a Beta Thing.\n"]
    )
    err = _error(text)
    assert err.line == text.splitlines().index("Alpha Things") + 1
    assert "' to '" in str(err)


def test_heading_with_two_to_is_an_error():
    heading = "Alpha A to Beta B to Gamma C"
    err = _error(document(sections=[f"{heading}\n{'-' * len(heading)}\ntext\n"]))
    assert "exactly once" in str(err)


def test_non_utf8_bytes_are_an_error_naming_the_line():
    data = document(sections=[PAIR]).encode("utf-8").replace(b"firstName", b"first\xe6Name", 1)
    err = _error(data, "latin.rst")
    line = data[: data.index(b"\xe6")].count(b"\n") + 1
    assert (err.file, err.line) == ("latin.rst", line)
    assert "not UTF-8" in str(err)


def test_utf8_byte_order_mark_is_accepted():
    data = b"\xef\xbb\xbf" + document(sections=[PAIR]).encode("utf-8")
    assert len(parse_bytes(data).pairs) == 1
