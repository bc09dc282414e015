"""The simulator's own reading of the stamps it is seeded with and asked about.

Written from the documents, apart from the client's reader (a mistake in one must not hide
in the other; ``tests/test_stamps.py`` holds both to the same spellings):

- v2 ``date-time`` stamps (``LastChangedDateTimeOffset``; ``format: date-time`` in the v2
  OpenAPI document): ISO 8601 with an offset or ``Z``; .NET writes up to seven fraction
  digits, of which the first six (microseconds) are kept;
- v1 stamps with a space before the offset, ``2023-10-25T07:58:57 +00:00``
  (PowerOffice/go-api-documentation, ``docs/api/rest/filtering.md``, "Filter customers by
  lastchanged");
- a date, or a stamp without an offset: Norwegian local time (``Europe/Oslo``; README, "What
  the defaults assume").
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

__all__ = ["read_stamp"]

_OSLO = ZoneInfo("Europe/Oslo")

_SPELLING = re.compile(
    r"""^(?P<y>\d{4})-(?P<mo>\d{2})-(?P<d>\d{2})
        (?:[Tt](?P<h>\d{2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:\.(?P<f>\d{1,9}))?)?)?
        \s*(?:(?P<z>[Zz])|(?P<sign>[+-])(?P<oh>\d{2}):?(?P<om>\d{2}))?$""",
    re.VERBOSE,
)


def read_stamp(value: Any) -> datetime | None:
    """``value`` as an aware datetime when it is a stamp in one of the spellings above,
    else ``None`` (a datetime without a zone is taken as Norwegian local time)."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=_OSLO)
    if not isinstance(value, str):
        return None
    m = _SPELLING.match(value.strip())
    if m is None:
        return None
    micro = int((m["f"] or "0")[:6].ljust(6, "0"))
    parts = [int(m[k] or 0) for k in ("y", "mo", "d", "h", "mi", "s")]
    try:
        if m["z"]:
            zone: timezone | ZoneInfo = timezone.utc
        elif m["sign"]:
            offset = timedelta(hours=int(m["oh"]), minutes=int(m["om"]))
            zone = timezone(offset if m["sign"] == "+" else -offset)
        else:
            zone = _OSLO
        return datetime(*parts, micro, tzinfo=zone)
    except ValueError:  # a month 13, an hour 25, an offset of a day or more
        return None
