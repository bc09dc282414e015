"""The API's timestamp spellings parse everywhere stamps are parsed."""

from __future__ import annotations

from datetime import datetime, timezone

from audit.systems.poweroffice.sim.store import parse_time
from audit.systems.poweroffice.stamps import parse_timestamp
from audit.writeback.direction import parse_stamp
from audit.writeback.outcome import same_stamp

V1_STAMP = "2023-10-25T07:58:57 +00:00"  # docs/api/rest/filtering.md, "Filter customers by lastchanged"
AT = datetime(2023, 10, 25, 7, 58, 57, tzinfo=timezone.utc)


def test_v1_stamp_with_a_space_before_the_offset_parses():
    assert parse_timestamp(V1_STAMP) == AT


def test_seven_fraction_digits_parse():
    parsed = parse_timestamp("2024-01-04T09:30:00.1234567+01:00")
    assert parsed.isoformat() == "2024-01-04T09:30:00.123456+01:00"


def test_the_simulator_reads_v1_stamps():
    assert parse_time(V1_STAMP) == AT


def test_the_write_back_reads_v1_stamps():
    assert parse_stamp(V1_STAMP) == AT


def test_a_v1_stamp_and_its_iso_spelling_are_the_same_stamp():
    assert same_stamp(V1_STAMP, "2023-10-25T07:58:57Z")
