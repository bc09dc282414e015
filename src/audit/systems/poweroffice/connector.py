"""Reading a flow's entities from PowerOffice Go, v2 or v1, record by record.

:class:`PowerOfficeConnector` knows the routes and the shape of each generation's lists;
the HTTP work (rate limit, token, retries, errors) is :class:`audit.systems.poweroffice.transport.ApiClient`'s
and the paging is :mod:`audit.systems.poweroffice.paging`'s. Records come back exactly as the API returned
them; each one is checked to be a JSON object with an integer id, and anything else stops
the read with :class:`~audit.systems.poweroffice.transport.MalformedResponse` naming the URL and position,
so a snapshot is never silently partial.

Entities (snapshot stems):

============== ========================================= ==================================
entity         v2                                        v1
============== ========================================= ==================================
customer       ``GET /Customers`` (paged)                ``GET /Customer/`` (OData paged)
supplier       ``GET /Suppliers``                        ``GET /Supplier/``
contactperson  ``GET /ContactPersons`` (all, paged)      ``GET /PartyContactPerson/`` (all)
address        mail addresses embedded in customers and suppliers, keyed by address id
============== ========================================= ==================================

Contact persons are listed whole, whatever their parents: v2 ``GET /ContactPersons``
takes ``contactIds`` only as an optional filter (v2 OpenAPI, ``/ContactPersons`` get);
v1 ``GET /PartyContactPerson/`` lists all contact persons with OData filter and paging
(PowerOffice/go-api-documentation, ``docs/api/reference/rest/route_get_partycontactperson_.md``).

Incremental reads use ``lastChangedDateTimeOffsetGreaterThan`` (v2, exclusive; v2
OpenAPI, ``/Customers`` get) and ``$filter=(LastChanged gt DateTimeOffset'...')`` (v1,
exclusive: filter fields PascalCase, the filter in parentheses, last-changed stamps as
``DateTimeOffset``; ``docs/api/rest/filtering.md``).

A v1 answer with ``"success": false`` (HTTP 200, ``validation`` instead of ``data``;
``docs/api/rest/apicalls.md``) stops the read with
:class:`~audit.systems.poweroffice.responses.ApiRefusal` and the API's message.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

from audit.cli import output
from audit.errors import ConfigError
from audit.flow.model import entity_file_stem
from audit.systems.http import redaction
from audit.systems.poweroffice.paging import paginator_for
from audit.systems.poweroffice.responses import v1_data
from audit.systems.poweroffice.stamps import parse_timestamp
from audit.systems.poweroffice.transport import ApiClient, MalformedResponse, decode_json

log = logging.getLogger("audit.systems.poweroffice.connector")

Record = dict[str, Any]

ENTITIES = ("customer", "supplier", "contactperson", "address")
PARTY_ENTITIES = ("customer", "supplier")

LIST_ROUTES = {
    "v2": {"customer": "/Customers", "supplier": "/Suppliers", "contactperson": "/ContactPersons"},
    "v1": {"customer": "/Customer/", "supplier": "/Supplier/", "contactperson": "/PartyContactPerson/"},
}
ID_KEY = {"v2": "Id", "v1": "id"}
LAST_CHANGED_KEY = {"v2": "LastChangedDateTimeOffset", "v1": "lastChanged"}
MAIL_ADDRESS_KEY = {"v2": "MailAddress", "v1": "mailAddress"}
V2_SINCE_PARAM = "lastChangedDateTimeOffsetGreaterThan"
#: v1 incremental filter (``docs/api/rest/filtering.md``, "Filter customers by lastchanged").
V1_SINCE_FILTER = "(LastChanged gt DateTimeOffset'{since}')"


def normalise_entities(names: Iterable[str]) -> list[str]:
    """Snapshot stems of entity names (``Contact person`` -> ``contactperson``), in the
    order given, without repeats.

    Raises
    ------
    ConfigError
        A name the connector cannot read (the message lists the known ones).
    """
    out: list[str] = []
    for name in names:
        stem = entity_file_stem(name)
        if not stem:
            continue
        if stem not in ENTITIES:
            raise ConfigError(f"unknown PowerOffice Go entity {name!r}; known: {', '.join(ENTITIES)}")
        if stem not in out:
            out.append(stem)
    return out


def since_text(value: str) -> str:
    """``value`` as sent in a filter: checked, and given ``Z`` when it has no offset; a v1
    stamp (``2023-10-25T07:58:57 +00:00``, a manifest's watermark) becomes ISO-8601.

    Raises
    ------
    ConfigError
        Not a timestamp.
    """
    text = value.strip()
    try:
        parsed = parse_timestamp(text)
    except ValueError:
        raise ConfigError(f"--since {value!r} is not an ISO-8601 timestamp (e.g. 2024-05-01T12:00:00Z)") from None
    if " " in text:
        return parsed.isoformat().replace("+00:00", "Z")
    has_offset = text.endswith(("Z", "z")) or re.search(r"[+-]\d{2}:?\d{2}$", text[10:]) is not None
    return text if has_offset else text + "Z"


def last_changed(api: str, record: Record) -> str | None:
    """The record's own last-changed stamp, as the API wrote it."""
    value = record.get(LAST_CHANGED_KEY[api])
    return value if isinstance(value, str) and value else None


class Watermark:
    """The greatest last-changed stamp seen, kept as the API's own text."""

    def __init__(self, start: str | None = None):
        self.text: str | None = None
        self._at: datetime | None = None
        if start:
            self.offer(start)

    def offer(self, value: str | None) -> None:
        if not value:
            return
        try:
            at = parse_timestamp(value)
        except ValueError:
            return
        if self._at is None or at > self._at:
            self._at, self.text = at, value


class PowerOfficeConnector:
    """Reads customers, suppliers, contact persons and their mail addresses.

    Parameters
    ----------
    client
        An :class:`~audit.systems.poweroffice.transport.ApiClient` bound to one generation.
    progress
        Show progress bars (they stay silent anyway when stderr is not a terminal).
    """

    def __init__(self, client: ApiClient, progress: bool = True):
        self.client = client
        self.api = client.endpoint.api
        self.progress = progress
        self.warnings: list[str] = []

    # -- warnings ----------------------------------------------------------------------

    def warn(self, message: str) -> None:
        """Record a warning (it ends up in the manifest and on stderr)."""
        self.warnings.append(message)
        log.info("warning: %s", message)

    # -- lists -------------------------------------------------------------------------

    def records(self, entity: str, since: str | None = None) -> Iterator[Record]:
        """Every record of ``customer``, ``supplier`` or ``contactperson`` (changed after
        ``since``), from the entity's list route."""
        if entity not in LIST_ROUTES[self.api]:
            raise ValueError(f"records() reads customer, supplier or contactperson, not {entity!r}")
        with self._bar(f"{self.api} {entity}") as bar:
            for page in self._pages(LIST_ROUTES[self.api][entity], {}, since, entity):
                bar.update(len(page))
                yield from page

    def contact_persons(self, since: str | None = None) -> Iterator[Record]:
        """Every contact person of the tenant (changed after ``since``), whatever their
        parents: one paged list, not one call per parent."""
        return self.records("contactperson", since)

    # -- derived addresses -------------------------------------------------------------

    def mail_address(self, parent_entity: str, record: Record) -> Record | None:
        """The mail address embedded in a customer/supplier record, as returned, or
        ``None`` when it has none. An address without an integer id is a warning."""
        address = record.get(MAIL_ADDRESS_KEY[self.api])
        if address is None:
            return None
        parent_id = record.get(ID_KEY[self.api])
        if not isinstance(address, dict):
            self.warn(
                f"{parent_entity} {parent_id}: {MAIL_ADDRESS_KEY[self.api]} is a "
                f"{type(address).__name__}, not an object; no address taken from it"
            )
            return None
        if not address:
            return None
        key = ID_KEY[self.api]
        if not _is_id(address.get(key)):
            self.warn(f"{parent_entity} {parent_id}: its {MAIL_ADDRESS_KEY[self.api]} has no integer {key!r}; skipped")
            return None
        return address

    # -- paging core -------------------------------------------------------------------

    def _pages(self, route: str, params: dict[str, Any], since: str | None, entity: str) -> Iterator[list[Record]]:
        query = dict(params)
        if since:
            if self.api == "v2":
                query[V2_SINCE_PARAM] = since
            else:
                query["$filter"] = V1_SINCE_FILTER.format(since=since)
        paginator = paginator_for(self.api, self.client.endpoint.page_size)
        paginator.init_request(query)
        page_no = 1
        key = ID_KEY[self.api]
        previous: tuple[Any, ...] | None = None
        while True:
            response = self.client.get(route, params=query)
            records = self._page_records(response, entity, page_no)
            paginator.update_state(response.status_code, records)
            if records:
                # A server that ignores the page parameter answers the same full page
                # forever; stop with an error rather than loop or write duplicates.
                signature = (len(records), records[0].get(key), records[-1].get(key))
                if signature == previous:
                    raise MalformedResponse(
                        f"{entity} page {page_no}: {redaction.redact_url(response.url)} answered the same "
                        f"records as page {page_no - 1}; paging does not advance (check that the API "
                        "honours PageNumber / $skip)"
                    )
                previous = signature
                yield records
            if not paginator.has_next_page:
                return
            paginator.update_request(query)
            page_no += 1

    def _page_records(self, response, entity: str, page_no: int) -> list[Record]:
        url = redaction.redact_url(response.url)
        # Decimals read exactly (150.50 stays 150.50 in the snapshot), as the write-back reads them.
        body = decode_json(response, f"{entity} page {page_no}", Decimal)
        if body is None:
            return []
        if self.api == "v1":
            body = v1_data(body, f"{entity} page {page_no}", url)  # success=false -> ApiRefusal
            if body is None:
                return []
        if not isinstance(body, list):
            raise MalformedResponse(
                f"{entity} page {page_no}: {url} answered a JSON {type(body).__name__} where a list was expected"
            )
        key = ID_KEY[self.api]
        for i, record in enumerate(body, start=1):
            where = f"{entity} record {i} of page {page_no} from {url}"
            if not isinstance(record, dict):
                raise MalformedResponse(f"{where} is a JSON {type(record).__name__}, not an object")
            if key not in record:
                other = "id" if key == "Id" else "Id"
                hint = (
                    f" (it has {other!r}: is the {self.api} URL pointing at the other generation?)"
                    if other in record
                    else ""
                )
                raise MalformedResponse(f"{where} has no {key!r}{hint}")
            if not _is_id(record[key]):
                raise MalformedResponse(
                    f"{where} has {key}={record[key]!r} ({type(record[key]).__name__}); expected an integer"
                )
        return body

    def _bar(self, desc: str, total: int | None = None, unit: str = "rec"):
        if self.progress:
            return output.progress(desc, total=total, unit=unit)
        return _NoBar()


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class _NoBar:
    def __enter__(self) -> _NoBar:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def update(self, n: int = 1) -> None:
        return None
