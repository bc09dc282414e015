"""Reading and writing single records of one tenant, v2 or v1: the write-back's only
contact with the network (through :class:`audit.systems.poweroffice.transport.ApiClient`).

============== ======================================= ========================================
entity         v2                                      v1
============== ======================================= ========================================
customer       ``GET/PATCH /Customers/{id}``           ``GET /Customer/{id}``, ``POST /Customer``
supplier       ``GET/PATCH /Suppliers/{id}``           ``GET /Supplier/{id}``, ``POST /Supplier``
contactperson  ``GET/PATCH /ContactPersons/{c}/{id}``  ``GET /PartyContactPerson/?$filter=(Id eq N)``,
                                                       ``POST /Customer/{parentId}/Contact/``
============== ======================================= ========================================

v1 routes: PowerOffice/go-api-documentation, ``docs/api/reference/rest/``
(``route_get_partycontactperson_.md``, ``route_post_customer__parentid__contact_.md``: "Creates
or updates the specified ContactPerson"); the contact route is ``POWEROFFICE_V1_CONTACT_ROUTE``
(a party that is only a supplier, by its ``partySupplierCode``, goes to ``/Supplier/...``).
A v1 answer with ``success: false`` (HTTP 200; ``docs/api/rest/apicalls.md``) raises
:class:`~audit.systems.poweroffice.responses.ApiRefusal` with the API's message.

Records are read with their decimals exact (``parse_float=Decimal``) and bodies are
written with :mod:`audit.core.exact_json`, so ``150.50`` is compared, and posted back by
v1, as ``150.50``, never through a binary float.

A v2 write is an RFC 6902 patch built with :mod:`jsonpatch` holding one ``replace`` per
changed field (``/MailAddress/City``), preceded, for a compare-and-set (``expect``), by one
``test`` per field holding the value the guard read (:mod:`audit.writeback.atomic`); a v1
write posts the whole record just read with the changed fields set. Which tenant a
gateway talks to comes from the environment: ``POWEROFFICE_SOURCE_*`` /
``POWEROFFICE_TARGET_*`` variables override the plain ``POWEROFFICE_*`` ones for that
tenant (:func:`tenant_settings`), so two tenants can be reached from one shell; secrets
are never arguments.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import jsonpatch

from audit.core import exact_json
from audit.core.dotted import get_path, set_path
from audit.errors import ConfigError
from audit.systems.http.redaction import redact_url
from audit.systems.poweroffice.responses import v1_data
from audit.systems.poweroffice.settings import ConnectionSettings, tenant_settings
from audit.systems.poweroffice.transport import ApiClient, HttpStatusError, MalformedResponse, RateLimiter, decode_json

__all__ = [
    "RecordGateway",
    "Written",
    "connect_tenants",
    "get_field",
    "set_field",
    "tenant_settings",
    "STAMP_KEY",
    "MAIL_KEY",
]

STAMP_KEY = {"v2": "LastChangedDateTimeOffset", "v1": "lastChanged"}
MAIL_KEY = {"v2": "MailAddress", "v1": "mailAddress"}
_V2_ROUTES = {
    "customer": "/Customers/{id}",
    "supplier": "/Suppliers/{id}",
    "contactperson": "/ContactPersons/{parent}/{id}",
}
_V1_ROUTES = {
    "customer": ("/Customer/{id}", "/Customer"),
    "supplier": ("/Supplier/{id}", "/Supplier"),
    "contactperson": ("/PartyContactPerson/", None),
}
JSON_PATCH = "application/json-patch+json"


def get_field(record: Mapping[str, Any] | None, path: str) -> Any:
    """The value at a dotted path (``None`` when any part is absent)."""
    return get_path(record, path)[1]


set_field = set_path  # set a dotted path, creating missing or null parent objects


@dataclass(frozen=True)
class Written:
    """What a write sent and what came back."""

    method: str
    path: str
    body: Any
    record: dict[str, Any] | None
    status: int


class RecordGateway:
    """Single-record reads and writes of one tenant on one generation.

    Parameters
    ----------
    client : ApiClient
        Bound to the generation (``client.endpoint.api``).
    """

    def __init__(self, client: ApiClient):
        self.client = client
        self.api = client.endpoint.api

    @classmethod
    def connect(
        cls, settings: ConnectionSettings, api: str, limiter: RateLimiter | None = None
    ) -> RecordGateway:
        """A gateway with its own client (and session) for ``api``."""
        return cls(ApiClient(settings.endpoint(api), limiter=limiter))  # type: ignore[arg-type]

    def close(self) -> None:
        self.client.close()

    def can_write(self, entity: str) -> bool:
        """True when the generation has an update route for ``entity``."""
        return entity in (_V2_ROUTES if self.api == "v2" else _V1_ROUTES)

    def route(self, entity: str, record_id: int, parent_id: int | None) -> str:
        """The single-record route of a record."""
        if self.api == "v2":
            if entity not in _V2_ROUTES:
                raise ConfigError(f"v2 has no single-record route for {entity}")
            if entity == "contactperson" and parent_id is None:
                raise ConfigError(f"contact person {record_id}: v2 routes need its ContactId")
            return _V2_ROUTES[entity].format(id=record_id, parent=parent_id)
        if entity not in _V1_ROUTES:
            raise ConfigError(f"v1 has no single-record route for {entity}")
        return _V1_ROUTES[entity][0].format(id=record_id)

    def read(self, entity: str, record_id: int, parent_id: int | None = None) -> dict[str, Any]:
        """The record as the API holds it now.

        Raises
        ------
        HttpStatusError
            404 when the record is gone; other error answers.
        ApiUnreachable, AuthError
        """
        if self.api == "v1" and entity == "contactperson":
            return self._v1_contact(record_id, parent_id)
        path = self.route(entity, record_id, parent_id)
        return self._record(self.client.get(path), f"GET {path}")

    def _v1_contact(self, record_id: int, parent_id: int | None) -> dict[str, Any]:
        """v1 contact persons are read from the one list of them all, filtered by id
        (OData, ``docs/api/rest/filtering.md``: PascalCase field, in parentheses)."""
        path = _V1_ROUTES["contactperson"][0]
        params = {"$filter": f"(Id eq {int(record_id)})"}
        response = self.client.get(path, params=params)
        rows = v1_data(decode_json(response, f"GET {path}", Decimal), f"GET {path}", path)
        for row in rows or []:
            if isinstance(row, dict) and str(row.get("id")) == str(record_id):
                return row
        raise HttpStatusError(f"GET {path}: contact person {record_id} not found", 404, path)

    def v1_contact_post_route(self, current: Mapping[str, Any], parent_id: int | None) -> str:
        """Where a v1 contact person is posted: the configured route of its party, or
        ``/Supplier/{id}/Contact/`` for a party that is only a supplier."""
        if parent_id is None:
            raise ConfigError("a v1 contact person write needs its partyId")
        route = self.client.endpoint.v1_contact_route
        if current.get("partySupplierCode") is not None and current.get("partyCustomerCode") is None:
            route = "/Supplier/{id}/Contact/"
        return route.format(id=parent_id)

    def write(
        self,
        entity: str,
        record_id: int,
        parent_id: int | None,
        fields: Mapping[str, Any],
        current: Mapping[str, Any],
        expect: Mapping[str, Any] | None = None,
    ) -> Written:
        """Set ``fields`` (paths on this generation -> values) on one record.

        v2 sends a JSON Patch of ``replace`` operations, after a ``test`` operation per
        ``expect`` entry (path -> the value it must still hold) when given; v1 posts
        ``current`` (the record just read) with the fields set, and has no compare-and-set.
        Writes are not retried except after a 429 (see :meth:`ApiClient.request`), so a
        write is never sent twice by the transport.
        """
        if self.api == "v2":
            path = self.route(entity, record_id, parent_id)
            patch = jsonpatch.JsonPatch(_ops("test", expect or {}) + _ops("replace", fields))
            response = self.client.request(
                "PATCH", path, data=_encoded(patch.patch), headers={"Content-Type": JSON_PATCH}
            )
            return Written(
                "PATCH", path, patch.patch, self._record(response, f"PATCH {path}"), response.status_code
            )
        if entity not in _V1_ROUTES:
            raise ConfigError(f"v1 has no update route for {entity}")
        if expect is not None:
            raise ConfigError("v1 writes post the whole record: there is no compare-and-set to send")
        body = copy.deepcopy(dict(current))
        for f, v in fields.items():
            set_field(body, f, v)
        body["id"] = record_id
        path = _V1_ROUTES[entity][1] or self.v1_contact_post_route(current, parent_id)
        response = self.client.request("POST", path, data=_encoded(body), headers={"Content-Type": "application/json"})
        return Written(
            "POST",
            path,
            {f: v for f, v in fields.items()},
            self._record(response, f"POST {path}"),
            response.status_code,
        )

    def _record(self, response, what: str) -> dict[str, Any]:
        body = decode_json(response, what, Decimal)  # decimals exact: compared, and posted back (v1)
        if self.api == "v1":
            body = v1_data(body, what, redact_url(response.url))  # success=false -> ApiRefusal
        if not isinstance(body, dict):
            raise MalformedResponse(f"{what}: the answer is not a record")
        return body


def _encoded(body: Any) -> bytes:
    """A request body as UTF-8 JSON, decimals with their own digits (``150.50``), as
    ``requests`` would write it otherwise (RFC 8259; ``application/json`` and RFC 6902's
    ``application/json-patch+json`` are both JSON texts)."""
    return exact_json.dumps(body, ensure_ascii=False, allow_nan=False).encode("utf-8")


def _ops(op: str, values: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One JSON Patch operation per dotted field path (``MailAddress.City`` ->
    ``/MailAddress/City``). ``test`` compares a member with a value and fails the whole
    patch when they differ (RFC 6902, sections 4.6 and 5); the v2 OpenAPI document lists
    ``op: test`` among the operations of ``PATCH /Customers/{id}``, ``/Suppliers/{id}``
    and ``/ContactPersons/{contactId}/{id}`` (their ``requestBody`` examples)."""
    return [
        {"op": op, "path": jsonpatch.JsonPointer.from_parts(f.split(".")).path, "value": v} for f, v in values.items()
    ]


def connect_tenants(
    generations: Mapping[str, str],
    environ: Mapping[str, str] | None = None,
    dotenv_path: str | Path | None = ".env",
    **overrides: object,
) -> dict[str, RecordGateway]:
    """One gateway per tenant (``{"source": "v1", "target": "v2"}``).

    Two v2 tenants reached with the same subscription key share one rate limiter, since
    v2's limit is per subscription key.
    """
    gateways: dict[str, RecordGateway] = {}
    shared: dict[str, RateLimiter] = {}
    for tenant, api in generations.items():
        if api not in ("v1", "v2"):
            raise ConfigError(f"--api-{tenant} {api!r}: use v1 or v2")
        endpoint = tenant_settings(tenant, environ, dotenv_path, **overrides).endpoint(api)  # type: ignore[arg-type]
        limiter = None
        if api == "v2" and endpoint.subscription_key is not None:
            key = endpoint.subscription_key.get_secret_value()
            limiter = shared.setdefault(key, RateLimiter(endpoint.rate_limit, burst=endpoint.rate_burst))
        gateways[tenant] = RecordGateway(ApiClient(endpoint, limiter=limiter))
    return gateways
