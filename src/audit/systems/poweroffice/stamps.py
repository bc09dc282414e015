"""Reading the API's timestamps, for the connector, the simulator and the write-back alike.

Spellings met (each parses to the same kind of aware datetime):

- v2 ISO-8601 with an offset or ``Z``, with up to seven fraction digits (.NET writes
  seven: ``2024-01-04T09:30:00.1234567+01:00``; Python reads six, so the rest is cut);
- v1 stamps with a space before the offset: ``2023-10-25T07:58:57 +00:00`` (the
  ``lastChanged`` of the examples in PowerOffice/go-api-documentation,
  ``docs/api/rest/filtering.md``, "Filter customers by lastchanged");
- no offset at all (v1 dates, ``2015-11-26``; v1 stamps in places): Norwegian local time
  (``Europe/Oslo``), not UTC (the README's "What the defaults assume").
"""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

#: The zone of a stamp written without an offset.
LOCAL_ZONE = ZoneInfo("Europe/Oslo")

#: The space (or spaces) v1 writes between the time and its offset.
_SPACED_OFFSET = re.compile(r"\s+(?=[+-]\d{2}:?\d{2}$)")
#: A fraction longer than the six digits ``datetime`` reads.
_LONG_FRACTION = re.compile(r"(\.\d{6})\d+")


def parse_timestamp(value: str) -> datetime:
    """A timestamp in any of the API's spellings as an aware datetime (no offset: Norwegian local time).

    Raises
    ------
    ValueError
        Not a timestamp.
    """
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    text = _LONG_FRACTION.sub(r"\1", _SPACED_OFFSET.sub("", text))
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=LOCAL_ZONE)


def parse_stamp_or_none(value: object) -> datetime | None:
    """:func:`parse_timestamp` of a string, ``None`` for anything else or a bad text."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=LOCAL_ZONE)
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return parse_timestamp(value)
    except ValueError:
        return None
