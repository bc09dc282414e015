"""The OData query options of the simulator's v1 lists, as PowerOffice documents them
(PowerOffice/go-api-documentation, ``docs/api/rest/filtering.md``):

- ``$filter`` "must be enclosed in parenthesis", its fields "must be in Pascal Case
  casing, even though the data object is returned with camel casing", and last-changed
  stamps are compared as ``DateTimeOffset'...'``. Understood: ``(LastChanged gt|ge
  DateTimeOffset'...')`` and ``(Id eq N)``. Anything else (the camelCase form
  ``lastChanged ge datetimeoffset'...'`` included) is refused the way v1 refuses: HTTP
  200, ``success: false``, ``validation.exception`` ``OData`` (``docs/api/rest/apicalls.md``).
- ``$orderby=Field [asc|desc]``, the field in Pascal casing; it "must be included when
  using $skip and/or $top" ("skip will not work without $top and $orderby"): a page asked
  for without it is refused (the simulator's reading of "will not work").
- ``$skip``/``$top``; without ``$top`` the whole (filtered) list is one page. The
  wrapper's ``count`` is "the total number of records in the filtered result set
  independant of $skip and $top".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from audit.systems.poweroffice.sim.stamps import read_stamp

_SINCE = re.compile(r"^\(LastChanged (gt|ge) DateTimeOffset'([^']+)'\)$")
_ID = re.compile(r"^\(Id eq (\d+)\)$")
_ORDER = re.compile(r"^([A-Z][A-Za-z0-9]*)(?: (asc|desc))?$")


class Refused(Exception):
    """A query v1 refuses; ``summary`` and ``exception`` go into ``validation``."""

    def __init__(self, summary: str, exception: str = "OData"):
        self.summary = summary
        self.exception = exception
        super().__init__(summary)


@dataclass
class Query:
    """The parsed query options of one v1 list request."""

    skip: int = 0
    top: int | None = None
    order: tuple[str, bool] | None = None  # (camelCase field, descending)
    since: datetime | None = None
    inclusive: bool = False
    record_id: int | None = None


def parse_query(args: Mapping[str, str]) -> Query:
    """The query options of ``args``; :class:`Refused` when v1 would refuse them."""
    q = Query()
    _window(args, q)
    _order(args, q)
    _filter(args.get("$filter"), q)
    return q


def _window(args: Mapping[str, str], q: Query) -> None:
    try:
        q.skip = int(args.get("$skip", 0))
        q.top = int(args["$top"]) if "$top" in args else None
    except ValueError:
        raise Refused("$skip and $top must be integers") from None
    if q.skip < 0 or (q.top is not None and q.top < 1):
        raise Refused("$skip must be >= 0 and $top >= 1")
    if ("$skip" in args or "$top" in args) and "$orderby" not in args:
        raise Refused("$skip and $top need $orderby: there is no standard order on most queries")


def _order(args: Mapping[str, str], q: Query) -> None:
    raw = args.get("$orderby")
    if raw is None:
        return
    m = _ORDER.match(raw.strip())
    if not m:
        raise Refused(f"Invalid $orderby {raw!r}: one property in Pascal casing, then asc or desc")
    field = m.group(1)
    q.order = (field[0].lower() + field[1:], m.group(2) == "desc")


def _filter(raw: str | None, q: Query) -> None:
    if raw is None:
        return
    text = raw.strip()
    m = _SINCE.match(text)
    if m and read_stamp(m.group(2)) is not None:
        q.since, q.inclusive = read_stamp(m.group(2)), m.group(1) == "ge"
        return
    m = _ID.match(text)
    if m:
        q.record_id = int(m.group(1))
        return
    raise Refused(f"Invalid filter {raw!r}")


def window(rows: list[dict[str, Any]], q: Query) -> tuple[list[dict[str, Any]], int]:
    """The asked page of ``rows`` (filtered by time already), ordered, and the count of
    the whole filtered set."""
    if q.record_id is not None:
        rows = [r for r in rows if r.get("id") == q.record_id]
    if q.order is not None:
        field, desc = q.order
        present = [r for r in rows if r.get(field) is not None]
        absent = [r for r in rows if r.get(field) is None]
        present.sort(key=lambda r: _sort_key(r[field]), reverse=desc)
        rows = absent + present if not desc else present + absent
    end = None if q.top is None else q.skip + q.top
    return rows[q.skip : end], len(rows)


def _sort_key(value: Any) -> Any:
    """Stamps in time order, then numbers by value (a decimal is read as a ``Decimal``,
    :mod:`audit.core.exact_json`), then anything else as text: keys of one kind only meet
    keys of the same kind, so a list mixing ``100`` and ``150.50`` sorts instead of failing."""
    stamp = read_stamp(value) if isinstance(value, str) and value[:4].isdigit() else None
    if stamp is not None:
        return (0, stamp)
    if isinstance(value, (int, float, Decimal)):
        return (1, value)
    return (2, str(value))
