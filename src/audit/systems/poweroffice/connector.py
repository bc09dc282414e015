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
contactperson  ``GET /ContactPersons?contactIds=..``     ``GET /Customer/{id}/Contact/`` per
               (parents batched)                         parent, in a bounded thread pool
address        mail addresses embedded in customers and suppliers, keyed by address id
============== ========================================= ==================================

Incremental reads use ``lastChangedDateTimeOffsetGreaterThan`` (v2, exclusive) and
``$filter=lastChanged ge datetimeoffset'...'`` (v1, inclusive).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from audit.cli import output
from audit.errors import ApiError, ConfigError
from audit.flow.model import entity_file_stem
from audit.systems.poweroffice import redaction
from audit.systems.poweroffice.paging import paginator_for
from audit.systems.poweroffice.stamps import parse_timestamp
from audit.systems.poweroffice.transport import ApiClient, HttpStatusError, MalformedResponse, decode_json

log = logging.getLogger("audit.systems.poweroffice.connector")

Record = dict[str, Any]

ENTITIES = ("customer", "supplier", "contactperson", "address")
PARTY_ENTITIES = ("customer", "supplier")

LIST_ROUTES = {
    "v2": {"customer": "/Customers", "supplier": "/Suppliers", "contactperson": "/ContactPersons"},
    "v1": {"customer": "/Customer/", "supplier": "/Supplier/"},
}
ID_KEY = {"v2": "Id", "v1": "id"}
LAST_CHANGED_KEY = {"v2": "LastChangedDateTimeOffset", "v1": "lastChanged"}
MAIL_ADDRESS_KEY = {"v2": "MailAddress", "v1": "mailAddress"}
V2_SINCE_PARAM = "lastChangedDateTimeOffsetGreaterThan"


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
    """``value`` as sent in a filter: checked, and given ``Z`` when it has no offset.

    Raises
    ------
    ConfigError
        Not an ISO-8601 timestamp.
    """
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ConfigError(f"--since {value!r} is not an ISO-8601 timestamp (e.g. 2024-05-01T12:00:00Z)") from None
    text = value.strip()
    return text if parsed.tzinfo else text + "Z"


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
        """Every record of ``customer`` or ``supplier`` (changed after ``since``)."""
        if entity not in PARTY_ENTITIES:
            raise ValueError(f"records() reads customer or supplier, not {entity!r}")
        with self._bar(f"{self.api} {entity}") as bar:
            for page in self._pages(LIST_ROUTES[self.api][entity], {}, since, entity):
                bar.update(len(page))
                yield from page

    def party_ids(self, entity: str) -> list[int]:
        """All ids of ``customer`` or ``supplier`` (v2 asks only for the ``Id`` field)."""
        params = {"Fields": "Id"} if self.api == "v2" else {}
        ids: list[int] = []
        for page in self._pages(LIST_ROUTES[self.api][entity], params, None, entity):
            ids.extend(r[ID_KEY[self.api]] for r in page)
        return ids

    def contact_persons(self, parent_ids: Iterable[int], since: str | None = None) -> Iterator[Record]:
        """The contact persons of the given customers/suppliers, in parent order.

        v2 asks ``/ContactPersons`` for batches of ``contact_batch_size`` parents; v1 asks
        each parent's route. Either way up to ``concurrency`` requests run at once (the rate
        limiter still paces them).
        """
        parents = list(dict.fromkeys(parent_ids))
        ep = self.client.endpoint
        if self.api == "v2":
            size = ep.contact_batch_size
            jobs: list[list[int]] = [parents[i : i + size] for i in range(0, len(parents), size)]
            work = self._contact_batch_v2
        else:
            jobs = [[p] for p in parents]
            work = self._contact_parent_v1
        pool = ThreadPoolExecutor(max_workers=ep.concurrency, thread_name_prefix="contacts")
        try:
            with self._bar(f"{self.api} contactperson", total=len(parents), unit="parent") as bar:
                for job, found in zip(jobs, pool.map(lambda j: work(j, since), jobs), strict=True):
                    bar.update(len(job))
                    yield from found
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def _contact_batch_v2(self, parents: list[int], since: str | None) -> list[Record]:
        params = {"contactIds": ",".join(str(p) for p in parents)}
        out: list[Record] = []
        for page in self._pages(LIST_ROUTES["v2"]["contactperson"], params, since, "contactperson"):
            out.extend(page)
        return out

    def _contact_parent_v1(self, parents: list[int], since: str | None) -> list[Record]:
        (parent,) = parents
        route = self.client.endpoint.v1_contact_route.format(id=parent)
        out: list[Record] = []
        try:
            for page in self._pages(route, {}, since, "contactperson"):
                out.extend(page)
        except HttpStatusError as exc:
            if exc.status != 404:
                raise
            self.warn(f"contact persons of party {parent}: {exc.url} answered 404 (deleted meanwhile?); skipped")
        return out

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
                query["$filter"] = f"lastChanged ge datetimeoffset'{since}'"
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
        body = decode_json(response, f"{entity} page {page_no}")
        if body is None:
            return []
        if self.api == "v1":
            if not isinstance(body, dict) or "data" not in body:
                raise MalformedResponse(
                    f"{entity} page {page_no}: {url} answered a {type(body).__name__} without the v1 "
                    '{"data": [...], "success": true} wrapper'
                )
            if body.get("success") is False:
                raise ApiError(f"{entity} page {page_no}: {url} answered success=false: {body.get('message', '')}")
            body = body["data"]
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
