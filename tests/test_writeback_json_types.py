"""The write-back keeps a field's JSON type and its numbers' digits: a new value is written
as the type the record holds, or refused as ``type_conflict``; decimals never pass
through binary floats (plan file, journal, request bodies)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from writeback_tenants import plan_of

from audit.core import exact_json
from audit.core.engine import run_audit
from audit.core.snapshot import frame_from_records
from audit.core.values import ValueSpec
from audit.core.written import Number, json_type
from audit.writeback import Plan, load_plan, write_plan
from audit.writeback.fields import jsonable
from audit.writeback.json_types import TypeConflict, conflict_text, in_type_of
from audit.writeback.model import RecordRef

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo"
SEED = ROOT / "data" / "flows" / "powerofficego-powerofficego.rst"
TEXT = ValueSpec("string")


# --------------------------------------------------------------------------- in_type_of
def test_a_text_zip_code_goes_into_a_number_field_as_a_number():
    value = in_type_of("1474", 1473, TEXT)
    assert value == 1474 and type(value) is int


def test_a_zip_code_with_a_leading_zero_cannot_go_into_a_number_field():
    with pytest.raises(TypeConflict):
        in_type_of("0150", 150, TEXT)


def test_a_number_goes_into_a_text_field_as_its_text():
    assert in_type_of(150, "0150", TEXT) == "150"


def test_a_decimal_text_goes_into_a_number_field_with_its_digits():
    value = in_type_of("150.50", Decimal("99.90"), TEXT)
    assert isinstance(value, Decimal) and str(value) == "150.50"


def test_a_leading_zero_is_a_number_where_the_declared_type_is_integer():
    assert in_type_of("0150", 150, ValueSpec("integer")) == 150


def test_an_exponent_text_is_no_number_equal_to_it_where_the_declared_type_is_string():
    with pytest.raises(TypeConflict):
        in_type_of("1.5E3", 1, TEXT)


def test_a_field_without_a_value_takes_the_new_value_as_it_is():
    assert in_type_of("0150", None, TEXT) == "0150"


def test_a_boolean_text_goes_into_a_boolean_field_as_a_boolean():
    assert in_type_of("true", False, ValueSpec("boolean")) is True


def test_the_refusal_names_record_field_json_type_and_value():
    ref = RecordRef("target", "target", "contactperson", 4000039, "v2", 2000038)
    with pytest.raises(TypeConflict) as caught:
        in_type_of("0150", 150, TEXT)
    text = conflict_text(caught.value, ref, "MailAddress.ZipCode", TEXT)
    assert text.startswith("type_conflict: contactperson 4000039 field MailAddress.ZipCode")
    assert "JSON number (150)" in text and "'0150'" in text


def test_the_refusal_names_an_array_or_object_field_as_a_json_array_or_object():
    with pytest.raises(TypeConflict, match=r"holds a JSON array \("):
        in_type_of("x", ["a"], TEXT)
    with pytest.raises(TypeConflict, match=r"holds a JSON object \("):
        in_type_of("x", {"a": 1}, TEXT)


@pytest.mark.parametrize("value", [1, 1.5, Decimal("150.50"), Number("150.50")])
def test_every_exact_number_reader_s_number_is_a_json_number(value):
    assert json_type(value) == "number"


# --------------------------------------------------------------------------- the plan
@pytest.fixture(scope="module")
def demo_audit():
    return run_audit(SEED, DEMO / "source", DEMO / "target", DEMO / "global-person.json")


def _plan(demo_audit, policy: str) -> Plan:
    return plan_of(demo_audit, DEMO / "source", DEMO / "target", policy, flow_path=SEED)


def test_the_plan_refuses_each_lost_zero_zip_code_into_the_numeric_field(demo_audit):
    plan = _plan(demo_audit, "source")
    refused = [s for s in plan.skipped if s.skipped.startswith("type_conflict")]
    lost = demo_audit.findings.filter(
        (pl.col("status") == "mismatch") & (pl.col("target_property") == "zipCode")
        & pl.col("pair").str.starts_with("Powerofficego Customer")
    )
    assert len(refused) == lost.height > 0
    assert not [c for c in plan.changes if c.corrected.entity == "contactperson" and c.field.endswith("ZipCode")]
    assert plan.header["counts"]["by_skip"]["type_conflict"] == lost.height


def test_the_plan_writes_a_numeric_zip_code_into_a_text_field_as_text(demo_audit):
    plan = _plan(demo_audit, "target")
    zips = [c for c in plan.changes if c.corrected.entity == "customer" and c.field.lower().endswith("zipcode")]
    assert zips and all(isinstance(c.new_value, str) for c in zips)


# --------------------------------------------------------------------------- exact numbers
def test_exact_json_writes_a_decimal_with_its_own_digits():
    assert exact_json.dumps({"a": Decimal("150.50"), "b": [Decimal("1.5E+3")]}) == '{"a": 150.50, "b": [1.5E+3]}'


def test_exact_json_reads_a_decimal_as_a_decimal():
    assert str(exact_json.loads('{"a": 150.50}')["a"]) == "150.50"


def test_a_plan_file_keeps_a_decimal_new_value_a_number_with_its_digits(demo_audit, tmp_path):
    plan = _plan(demo_audit, "source")
    plan.changes[0] = replace(plan.changes[0], new_value=Decimal("150.50"))
    path = write_plan(plan, tmp_path / "plan.json")
    assert '"new_value": 150.50' in path.read_text(encoding="utf-8")
    loaded = load_plan(path)
    assert str(loaded.changes[0].new_value) == "150.50" and loaded.hash == plan.hash


def test_a_parquet_decimal_cell_stays_a_decimal_for_the_write_back():
    cell = pl.Series([Decimal("150.50")], dtype=pl.Decimal(10, 2)).to_list()[0]
    assert jsonable(cell) == Decimal("150.50") and isinstance(jsonable(cell), Decimal)


def test_records_with_decimals_are_re_audited_as_written():
    frame = frame_from_records([{"Id": 1, "Price": Decimal("150.50")}], "customer").frame
    assert frame.get_column("Price").to_list() == ["150.50"]
