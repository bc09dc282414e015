"""Reading the API's ISO-8601 timestamps, for the connector and the simulator alike."""

from __future__ import annotations

from datetime import datetime, timezone


def parse_timestamp(value: str) -> datetime:
    """An ISO-8601 timestamp as an aware datetime (no offset means UTC).

    Raises
    ------
    ValueError
        Not an ISO-8601 timestamp.
    """
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
