"""Reading the API's ISO-8601 timestamps, for the connector and the simulator alike.

PowerOffice Go v1 writes stamps with a space before the offset
(``"2023-10-25T07:58:57 +00:00"``) and, in places, without an offset; those are Norwegian
local time (``Europe/Oslo``), not UTC (the v1 documentation's examples, summarised in
the README's "What the defaults assume").
"""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

#: The zone of a stamp written without an offset.
LOCAL_ZONE = ZoneInfo("Europe/Oslo")


def parse_timestamp(value: str) -> datetime:
    """An ISO-8601 timestamp as an aware datetime (no offset means Norwegian local time).

    Raises
    ------
    ValueError
        Not an ISO-8601 timestamp.
    """
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    text = re.sub(r"\s+([+-][0-9]{2}:?[0-9]{2})$", r"\1", text)
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=LOCAL_ZONE)
