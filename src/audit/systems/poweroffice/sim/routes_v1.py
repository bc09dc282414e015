"""The simulator's v1 routes, in the ``{"data", "count", "success"}`` wrapper:

================================================ ==========================================
``GET /Customer/``, ``/Supplier/``               OData-paged lists (:mod:`.odata`)
``GET /PartyContactPerson/``                     every contact person, OData-paged
                                                 (``route_get_partycontactperson_.md``)
``GET /Customer/{id}``, ``/Supplier/{id}``       one record
``POST /Customer``, ``/Supplier``                whole-object create or update
``GET /{Customer|Supplier}/{parentId}/Contact/`` a party's contact persons (and ``/{id}``)
``POST /{Customer|Supplier}/{parentId}/Contact/`` create or update a contact person
                                                 (``route_post_customer__parentid__contact_.md``)
================================================ ==========================================

(Route documents: PowerOffice/go-api-documentation, ``docs/api/reference/rest/``.) A
request v1 refuses for its content (a bad query, a refused write, an unknown id) answers
HTTP 200 with ``success: false`` and ``validation`` (``docs/api/rest/apicalls.md``).
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from flask import Flask, Response, request

from audit.systems.poweroffice.sim.odata import Refused, parse_query, window
from audit.systems.poweroffice.sim.replies import BadQuery, count_served, json_response, request_json, route, v1_refusal
from audit.systems.poweroffice.sim.store import StoreError

if TYPE_CHECKING:
    from audit.systems.poweroffice.sim.server import Simulator

_V1_RESOURCES = {"Customer": "customer", "Supplier": "supplier"}


def register_v1_parties(app: Flask, sim: Simulator) -> None:
    """``/v1/Customer`` and ``/v1/Supplier``: list, whole-object ``POST``, one by id."""
    for resource, entity in _V1_RESOURCES.items():
        route(app, f"/v1/{resource}", f"v1_list_{entity}", partial(v1_page, sim, entity), "GET")
        route(app, f"/v1/{resource}", f"v1_post_{entity}", partial(v1_post, sim, entity), "POST")
        route(app, f"/v1/{resource}/<int:rid>", f"v1_one_{entity}", partial(v1_one, sim, entity), "GET")


def register_v1_contacts(app: Flask, sim: Simulator) -> None:
    """``/v1/PartyContactPerson`` and ``/v1/{Customer|Supplier}/{parentId}/Contact``."""
    route(app, "/v1/PartyContactPerson", "v1_party_contacts", partial(v1_page, sim, "contactperson"), "GET")
    for resource, entity in _V1_RESOURCES.items():
        base = f"/v1/{resource}/<int:pid>/Contact"
        route(app, base, f"v1_contacts_{entity}", partial(v1_page, sim, "contactperson"), "GET")
        route(app, base, f"v1_post_contact_{entity}", partial(v1_post, sim, "contactperson"), "POST")
        route(app, f"{base}/<int:rid>", f"v1_contact_{entity}", partial(v1_contact, sim), "GET")


def v1_page(sim: Simulator, entity: str, pid: int | None = None) -> Response:
    """One page of ``entity`` (the contact persons of party ``pid``)."""
    try:
        q = parse_query(request.args)
    except Refused as exc:
        return v1_refusal(exc.summary, exc.exception)
    if pid is not None and not sim.store.is_party(pid):
        return v1_refusal(f"party {pid} not found", "NotFound")
    parents = {pid} if pid is not None else None
    if q.record_id is None and q.order in (None, ("id", False)):  # the store's own order: convert one page
        end = None if q.top is None else q.skip + q.top
        page, total = sim.store.page(entity, "v1", q.since, q.inclusive, parents, q.skip, end)
    else:
        page, total = window(sim.store.list(entity, "v1", since=q.since, inclusive=q.inclusive, parents=parents), q)
    count_served(sim, entity, len(page))
    return json_response({"data": page, "count": total, "success": True})


def v1_one(sim: Simulator, entity: str, rid: int) -> Response:
    rec = sim.store.get(entity, "v1", rid)
    if rec is None:
        return v1_refusal(f"{entity} {rid} not found", "NotFound")
    count_served(sim, entity, 1)
    return json_response({"data": rec, "success": True})


def v1_contact(sim: Simulator, pid: int, rid: int) -> Response:
    rec = sim.store.get("contactperson", "v1", rid, pid)
    if rec is None:
        return v1_refusal(f"contact person {rid} of party {pid} not found", "NotFound")
    count_served(sim, "contactperson", 1)
    return json_response({"data": rec, "success": True})


def v1_post(sim: Simulator, entity: str, pid: int | None = None) -> Response:
    """A whole-object update (the body has an ``id``) or a create (it has none)."""
    try:
        rec = sim.store.replace_v1(entity, request_json(), pid)
    except (BadQuery, StoreError) as exc:
        return v1_refusal(str(exc))
    count_served(sim, entity, 1)
    return json_response({"data": rec, "success": True})
