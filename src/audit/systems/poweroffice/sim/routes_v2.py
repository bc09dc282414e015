"""The simulator's v2 routes: paged lists with ``PageNumber``/``PageSize``, ``Fields`` and
``lastChangedDateTimeOffsetGreaterThan``; single records by id, changed with RFC 6902
JSON Patch. Errors are ProblemDetails."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING

from flask import Flask, Response, request

from audit.systems.poweroffice.sim.replies import (
    BadQuery,
    count_served,
    json_response,
    problem,
    request_json,
    route,
)
from audit.systems.poweroffice.sim.store import StoreError, parse_time

if TYPE_CHECKING:
    from audit.systems.poweroffice.sim.server import Simulator

#: ``components.schemas.ResourceParameters.MaxPageSize`` ("20 000 by default"; ``PageSize``
#: "Not allowed to be larger than MaxPageSize", default 5000), the paging of
#: ``paths./Customers.get``, ``/Suppliers.get`` and ``/ContactPersons.get``.
MAX_PAGE_SIZE = 20000
_V2_RESOURCES = {"Customers": "customer", "Suppliers": "supplier"}
_STORE_TITLES = {404: "Not Found"}


def register_v2_parties(app: Flask, sim: Simulator) -> None:
    """``/v2/Customers`` and ``/v2/Suppliers``: the list, and one record by id."""
    for resource, entity in _V2_RESOURCES.items():
        route(app, f"/v2/{resource}", f"v2_list_{entity}", partial(v2_list, sim, entity), "GET")
        view = partial(v2_one, sim, entity)
        route(app, f"/v2/{resource}/<int:rid>", f"v2_one_{entity}", view, "GET", "PATCH")


def register_v2_contact_persons(app: Flask, sim: Simulator) -> None:
    """``/v2/ContactPersons`` (``contactIds`` picks parents) and one by parent and id."""
    route(app, "/v2/ContactPersons", "v2_list_cp", partial(v2_list, sim, "contactperson"), "GET")
    view = partial(v2_one, sim, "contactperson")
    route(app, "/v2/ContactPersons/<int:cid>/<int:rid>", "v2_one_cp", view, "GET", "PATCH")


def v2_list(sim: Simulator, entity: str) -> Response:
    """One page of ``entity``, optionally changed since a time and cut down to ``Fields``."""
    q = {k.lower(): v for k, v in request.args.items()}
    try:
        page, size = _page(q)
        since = _since(q)
        parents = _parents(entity, q)
    except BadQuery as exc:
        return problem(400, "Bad Request", str(exc))
    rows, _ = sim.store.page(entity, "v2", since, False, parents, (page - 1) * size, page * size)
    if q.get("fields"):
        wanted = {f.strip().lower() for f in q["fields"].split(",")}
        rows = [{k: v for k, v in r.items() if k.lower() in wanted} for r in rows]
        # Projected rows (e.g. ids only) are counted apart from whole records.
        count_served(sim, f"{entity}:fields", len(rows))
    else:
        count_served(sim, entity, len(rows))
    if not rows and sim.empty_as_204:
        return Response(status=204)
    return json_response(rows)


def _page(q: dict[str, str]) -> tuple[int, int]:
    """``PageNumber`` and ``PageSize`` (``ResourceParameters``). OData ``$top``/``$skip``
    are not parameters of the v2 lists; the simulator refuses them with 400 (README,
    "What the defaults assume")."""
    if "$top" in q or "$skip" in q:
        raise BadQuery("OData $top/$skip are not supported; use PageNumber and PageSize")
    try:
        page = int(q.get("pagenumber", 1))
        size = int(q.get("pagesize", 5000))
    except ValueError:
        raise BadQuery("PageNumber and PageSize must be integers") from None
    if page < 1 or not 1 <= size <= MAX_PAGE_SIZE:
        raise BadQuery(f"PageNumber >= 1 and 1 <= PageSize <= {MAX_PAGE_SIZE}")
    return page, size


def _since(q: dict[str, str]) -> datetime | None:
    """``lastChangedDateTimeOffsetGreaterThan`` (``format: date-time``; "Date not inclusive"
    in ``paths./Customers.get`` and ``/Suppliers.get``, "Timestamp not inclusive" in
    ``/ContactPersons.get``)."""
    if "lastchangeddatetimeoffsetgreaterthan" not in q:
        return None
    since = parse_time(q["lastchangeddatetimeoffsetgreaterthan"])
    if since is None:
        raise BadQuery("lastChangedDateTimeOffsetGreaterThan is not a date-time")
    return since


def _parents(entity: str, q: dict[str, str]) -> set[int] | None:
    """``contactIds``, an optional comma list (``paths./ContactPersons.get``)."""
    if entity != "contactperson" or not q.get("contactids"):
        return None
    try:
        return {int(x) for x in q["contactids"].split(",") if x.strip()}
    except ValueError:
        raise BadQuery("contactIds must be a comma list of integers") from None


def v2_one(sim: Simulator, entity: str, rid: int, cid: int | None = None) -> Response:
    """``GET`` or ``PATCH`` one record (a contact person by its parent ``cid`` too)."""
    if request.method == "PATCH":
        return _patch(sim, entity, rid, cid)
    rec = sim.store.get(entity, "v2", rid, cid)
    if rec is None:
        return problem(404, "Not Found", f"{entity} {rid} not found")
    count_served(sim, entity, 1)
    return json_response(rec)


def _patch(sim: Simulator, entity: str, rid: int, cid: int | None) -> Response:
    try:
        rec = sim.store.patch_v2(entity, rid, request_json(), cid)
    except (BadQuery, StoreError) as exc:
        # The v2 OpenAPI document lists 400 and 404 (with ProblemDetails) among the answers
        # of PATCH /Customers/{id}, /Suppliers/{id} and /ContactPersons/{contactId}/{id}:
        # a number already in use is a refused patch, 400.
        status = 404 if exc.status == 404 else 400
        return problem(status, _STORE_TITLES.get(status, "Bad Request"), str(exc))
    count_served(sim, entity, 1)
    return json_response(rec)
