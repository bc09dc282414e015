"""The value model (audit.core.values): normalisation and equality per declared type."""

from __future__ import annotations

from datetime import datetime, timezone

from audit.core.values import ValueSpec, as_date, equal, normalise, parse_instant, same_instant, type_ok
from audit.systems.poweroffice.sim.store import parse_time


def test_a_norwegian_midnight_with_offset_is_the_date():
    assert equal("1985-03-14T00:00:00+01:00", "1985-03-14", ValueSpec(date=True))


def test_a_v1_stamp_with_a_space_before_the_offset_is_read():
    assert as_date("1985-03-14T00:00:00 +01:00") == "1985-03-14"
    assert parse_instant("2023-10-25T07:58:57 +00:00") == datetime(2023, 10, 25, 7, 58, 57, tzinfo=timezone.utc)


def test_a_stamp_without_offset_is_local_time_in_the_zone():
    assert parse_instant("2024-06-01T10:30:00") == datetime(2024, 6, 1, 8, 30, tzinfo=timezone.utc)
    assert parse_instant("2024-06-01T10:30:00", "UTC") == datetime(2024, 6, 1, 10, 30, tzinfo=timezone.utc)
    assert same_instant("2024-01-01T01:00:00", "2024-01-01T00:00:00Z")


def test_the_simulator_reads_a_stamp_without_offset_as_norwegian_local_time():
    assert parse_time("2024-06-01T10:30:00") == datetime(2024, 6, 1, 8, 30, tzinfo=timezone.utc)


def test_150_is_not_150_0_as_text_but_is_as_a_number():
    assert not equal(150.0, "150", ValueSpec("string"))
    assert equal(150, "150", ValueSpec("string"))
    assert equal(150, "150.0", ValueSpec("decimal")) and equal("150", 150.0, ValueSpec("float"))


def test_decimals_are_exact_never_binary_floats():
    assert not equal("0.1000000000000000000001", "0.1", ValueSpec("decimal"))
    assert normalise("0150.50", ValueSpec("decimal")) == "150.5"


def test_integers_of_any_length():
    big = 123456789012345678901234567890
    assert not equal(big, big + 1, ValueSpec("integer")) and equal(str(big), big, ValueSpec("integer"))


def test_booleans_in_any_case():
    spec = ValueSpec("boolean")
    assert equal(True, " TRUE ", spec) and not type_ok("yes", spec)


def test_whitespace_is_a_value_unless_trimmed():
    assert normalise("  ", ValueSpec()) == "  " and normalise("  ", ValueSpec(normalizers=("trim",))) is None


def test_empty_equals_missing_is_a_policy_choice():
    assert equal("", None, ValueSpec()) and not equal("", None, ValueSpec(empty_equals_missing=False))
