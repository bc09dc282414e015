"""The API's timestamp spellings parse everywhere stamps are parsed."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

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


# The simulator reads stamps with its own reader (audit.systems.poweroffice.sim.stamps),
# written from the same documents as the client's: both must read each spelling alike.
SPELLINGS = [
    V1_STAMP,  # v1, filtering.md
    "2023-10-25T07:58:57+00:00",
    "2023-10-25T07:58:57Z",
    "2023-10-25T09:58:57.1234567+02:00",  # .NET's seven fraction digits
    "2023-10-25T09:58:57.5+02:00",
    "2023-10-25T07:58:57 -03:30",
    "2023-10-25T09:58:57",  # no offset: Norwegian local time (summer)
    "2023-12-25T09:58:57",  # no offset: Norwegian local time (winter)
    "2015-11-26",  # a v1 date
]


@pytest.mark.parametrize("text", SPELLINGS)
def test_the_simulator_and_the_client_read_each_documented_spelling_alike(text):
    from audit.systems.poweroffice.sim.stamps import read_stamp

    ours, theirs = read_stamp(text), parse_timestamp(text)
    assert ours is not None and ours == theirs and ours.utcoffset() == theirs.utcoffset()


@pytest.mark.parametrize(
    "text",
    [
        "",
        "yesterday",
        "2023-13-01",
        "2023-10-25T25:00:00Z",
        "12345",
        "2023-10-25T07",
        "2023-10-25T07:58:57+24:00",  # an offset of a day: no zone (as the client reads it)
        "2023-10-25T07:58:57 -23:60",
    ],
)
def test_the_simulator_reads_no_stamp_from_what_is_none(text):
    from audit.systems.poweroffice.sim.stamps import read_stamp

    assert read_stamp(text) is None
