"""The simulator's v1 routes: OData-paged lists (``$skip``, ``$top``,
``$filter=lastChanged ge|gt datetimeoffset'...'``) in the ``{"data", "count", "success"}``
wrapper, single records by id, whole-object ``POST`` writes, and contact persons under
any party."""

from __future__ import annotations

import re
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING

from flask import Flask, Response, request

from audit.systems.poweroffice.sim.replies import (
    BadQuery,
    count_served,
    json_response,
    request_json,
    route,
    v1_error,
)
from audit.systems.poweroffice.sim.store import StoreError, parse_time

if TYPE_CHECKING:
    from audit.systems.poweroffice.sim.server import Simulator

V1_DEFAULT_TOP = 1000
_V1_FILTER = re.compile(r"^\s*lastChanged\s+(ge|gt)\s+datetimeoffset'([^']+)'\s*$", re.IGNORECASE)
_V1_RESOURCES = {"Customer": "customer", "Supplier": "supplier"}


def register_v1_parties(app: Flask, sim: Simulator) -> None:
    """``/v1/Customer`` and ``/v1/Supplier``: list, whole-object ``POST``, one by id."""
    for resource, entity in _V1_RESOURCES.items():
        route(app, f"/v1/{resource}", f"v1_list_{entity}", partial(v1_page, sim, entity), "GET")
        route(app, f"/v1/{resource}", f"v1_post_{entity}", partial(v1_post, sim, entity), "POST")
        route(app, f"/v1/{resource}/<int:rid>", f"v1_one_{entity}", partial(v1_one, sim, entity), "GET")


def register_v1_contacts(app: Flask, sim: Simulator) -> None:
    """``/v1/Customer/{id}/Contact`` and ``/v1/Supplier/{id}/Contact`` (any party id)."""
    view = partial(v1_page, sim, "contactperson")
    for resource, entity in _V1_RESOURCES.items():
        route(app, f"/v1/{resource}/<int:pid>/Contact", f"v1_contacts_{entity}", view, "GET")


def v1_page(sim: Simulator, entity: str, pid: int | None = None) -> Response:
    """One ``$skip``/``$top`` page of ``entity`` (the contact persons of party ``pid``)."""
    try:
        skip, top = _window()
        since, inclusive = _since()
        parents = _parents(sim, pid)
    except BadQuery as exc:
        return v1_error(exc.status, str(exc))
    rows = sim.store.list(entity, "v1", since=since, inclusive=inclusive, parents=parents)
    total = len(rows)
    rows = rows[skip : skip + top]
    count_served(sim, entity, len(rows))
    return json_response({"data": rows, "count": total, "success": True})


def _window() -> tuple[int, int]:
    try:
        skip = int(request.args.get("$skip", 0))
        top = int(request.args.get("$top", V1_DEFAULT_TOP))
    except ValueError:
        raise BadQuery("$skip and $top must be integers") from None
    if skip < 0 or top < 1:
        raise BadQuery("$skip must be >= 0 and $top >= 1")
    return skip, top


def _since() -> tuple[datetime | None, bool]:
    """The ``$filter`` time and whether it is inclusive (``ge``)."""
    flt = request.args.get("$filter")
    if not flt:
        return None, False
    m = _V1_FILTER.match(flt)
    since = parse_time(m.group(2)) if m else None
    if since is None:
        raise BadQuery(f"unsupported $filter {flt!r}; use lastChanged ge datetimeoffset'...'")
    return since, m.group(1).lower() == "ge"


def _parents(sim: Simulator, pid: int | None) -> set[int] | None:
    if pid is None:
        return None
    if not sim.store.is_party(pid):
        raise BadQuery(f"party {pid} not found", status=404)
    return {pid}


def v1_one(sim: Simulator, entity: str, rid: int) -> Response:
    rec = sim.store.get(entity, "v1", rid)
    if rec is None:
        return v1_error(404, f"{entity} {rid} not found")
    count_served(sim, entity, 1)
    return json_response({"data": rec, "success": True})


def v1_post(sim: Simulator, entity: str) -> Response:
    """A whole-object update (the body has an ``id``) or a create (it has none)."""
    try:
        rec = sim.store.replace_v1(entity, request_json())
    except (BadQuery, StoreError) as exc:
        return v1_error(exc.status, str(exc))
    count_served(sim, entity, 1)
    return json_response({"data": rec, "success": True})
