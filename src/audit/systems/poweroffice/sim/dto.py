"""A stored record as the v2 API serves it, shaped by the v2 OpenAPI document's DTOs
(``CustomerDto``, ``SupplierDto``, ``ContactPersonDto``):

- ``MailAddress`` is a ``$ref`` to ``ContactAddressDto`` / ``AddressDto``, not nullable:
  a record without an address is served without the member, never with ``null``;
- the stamps (``LastChangedDateTimeOffset``, ``SupplierCreatedDateTimeOffset``, the mail
  address's ``LastChangedDateTimeOffset``) are ``format: date-time`` (RFC 3339, with an
  offset): a stamp seeded without one (demo data, a v1 record) is served with the
  offset of Norwegian local time (``Europe/Oslo``, the README's "What the defaults
  assume", as :mod:`audit.systems.poweroffice.sim.stamps` reads it), and a v1 stamp
  ``2023-10-25T07:58:57 +00:00`` in ISO-8601. A stamp that already is RFC 3339 is served
  as stored.
"""

from __future__ import annotations

import re
from typing import Any

from audit.systems.poweroffice.sim.stamps import read_stamp

_STAMPS = ("LastChangedDateTimeOffset", "SupplierCreatedDateTimeOffset")
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$", re.IGNORECASE)


def _stamp(value: Any) -> Any:
    if not isinstance(value, str) or _RFC3339.match(value):
        return value
    at = read_stamp(value)
    return at.isoformat() if at is not None else value


def as_v2_dto(record: dict[str, Any]) -> dict[str, Any]:
    """``record`` (v2 names, a copy) served as the v2 DTO schemas say."""
    if "MailAddress" in record and record["MailAddress"] is None:
        del record["MailAddress"]
    for key in _STAMPS:
        if key in record:
            record[key] = _stamp(record[key])
    mail = record.get("MailAddress")
    if isinstance(mail, dict) and "LastChangedDateTimeOffset" in mail:
        mail["LastChangedDateTimeOffset"] = _stamp(mail["LastChangedDateTimeOffset"])
    return record
