"""Fields and values of a write-back plan: field names on each API generation, whether a
field may be written, and values converted to what the API holds.

The PowerOffice field knowledge (aliases, read-only fields, date fields) is reached only
through the three small helpers at the top.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import polars as pl

from audit.core.values import text_of
from audit.systems.poweroffice import fields as poweroffice

__all__ = ["field_names", "finding_text", "jsonable", "new_value_for", "writable_reason"]


# --------------------------------------------------------------------------- the system's fields
def field_names(entity: str, column: str, generation: str) -> tuple[str | None, str | None]:
    """``(v1 name, v2 name)`` of the field a column holds; a field the system does not
    list keeps its column name on the column's own generation only."""
    return poweroffice.alias(entity, column) or ((column, None) if generation == "v1" else (None, column))


def is_read_only_field(name: str, entity: str | None = None) -> bool:
    """True for ids and system stamps, which a write-back never sets, and for fields
    read-only on ``entity``."""
    return poweroffice.is_read_only(name, entity)


def is_date_field(field_v2: str | None) -> bool:
    """True when the (v2) field holds a calendar date."""
    return bool(field_v2 and field_v2.split(".")[-1] in poweroffice.DATE_FIELDS)


# --------------------------------------------------------------------------- values
def jsonable(value: Any) -> Any:
    """A frame cell as the JSON value the API holds (dates and times as the findings
    write them, :func:`audit.core.values.text_of`; a decimal stays a
    :class:`~decimal.Decimal`, written with its own digits by
    :mod:`audit.core.exact_json`, never through a binary float)."""
    if isinstance(value, datetime):
        return text_of(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, pl.Series):
        return [jsonable(v) for v in value.to_list()]
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    return value


def finding_text(value: Any) -> str:
    """A value as the findings show it (``None`` as empty text): the value model's text."""
    return text_of(value) or ""


def new_value_for(value: Any, field_v2: str | None, generation: str) -> Any:
    """``value`` in the corrected generation's format: dates are ``yyyy-MM-dd`` on v2 and
    midnight timestamps on v1; everything else is written as it is."""
    if is_date_field(field_v2) and isinstance(value, str):
        if generation == "v2":
            return value[:10]
        if len(value) == 10:
            return value + "T00:00:00"
    return value


def writable_reason(entity: str, generation: str, field: str | None, names: tuple[str | None, ...]) -> str | None:
    """Why a field cannot be written on ``generation`` (``None`` when it can)."""
    if any(n and is_read_only_field(n, entity) for n in names):
        return "read-only"
    if entity == "address":
        return f"not writable on {generation}: addresses are written through their customer or supplier"
    if entity not in ("customer", "supplier", "contactperson"):
        return f"not writable on {generation}: no update route for {entity}"
    if not field:
        return f"not writable on {generation}: the field does not exist there"
    return None
