"""The simulator's HTTP face: routes of PowerOffice Go v2 and v1, in the API's own
formats (ProblemDetails for v2, ``{"success": false, ...}`` for v1, OAuth errors for the
token endpoints), with the gate every request passes first: subscription key, rate
limit, injected faults, bearer token, scripted answers.

The data and its rules live in :mod:`audit.systems.poweroffice.sim.store`; the server, its options and the
faults' dice live in :mod:`audit.systems.poweroffice.sim.server`.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from flask import Flask, Response, request

from audit.systems.poweroffice.sim.store import StoreError, parse_time

if TYPE_CHECKING:
    from audit.systems.poweroffice.sim.server import Simulator

MAX_PAGE_SIZE = 20000
V1_DEFAULT_TOP = 1000

_SUBSCRIPTION_MISSING = (
    "Access denied due to missing subscription key. Make sure to include subscription key when making "
    "requests to an API."
)
_SUBSCRIPTION_INVALID = (
    "Access denied due to invalid subscription key. Make sure to provide a valid key for an active "
    "subscription."
)
_V1_FILTER = re.compile(r"^\s*lastChanged\s+(ge|gt)\s+datetimeoffset'([^']+)'\s*$", re.IGNORECASE)
_V2_RESOURCES = {"Customers": "customer", "Suppliers": "supplier"}
_V1_RESOURCES = {"Customer": "customer", "Supplier": "supplier"}


def _json(
    body: Any,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
    content_type: str = "application/json; charset=utf-8",
) -> Response:
    return Response(
        json.dumps(body, ensure_ascii=False),
        status=status,
        headers=dict(headers or {}),
        content_type=content_type,
    )


def _problem(status: int, title: str, detail: str = "") -> Response:
    return _json(
        {
            "type": f"https://tools.ietf.org/html/rfc9110#status-{status}",
            "title": title,
            "status": status,
            "detail": detail,
            "instance": request.path,
        },
        status,
        content_type="application/problem+json; charset=utf-8",
    )


def _v1_error(status: int, message: str) -> Response:
    return _json({"success": False, "message": message, "data": None}, status)


def _error(generation: str, status: int, title: str, detail: str = "") -> Response:
    return (
        _problem(status, title, detail)
        if generation == "v2"
        else _v1_error(status, f"{title}: {detail}".strip(": "))
    )


def _generation(path: str) -> str:
    return "v1" if path.startswith("/v1") else "v2"


def build_app(sim: Simulator) -> Flask:
    """The Flask application of ``sim``: its gate (keys, rate limit, faults, tokens,
    scripted answers) and its v2/v1 routes."""
    app = Flask("audit.systems.poweroffice.sim.server")
    app.url_map.strict_slashes = False

    @app.before_request
    def _gate() -> Response | None:
        gen = _generation(request.path)
        with sim._stats_lock:
            sim._stats.requests += 1
            sim._stats.routes[f"{request.method} {request.path.rstrip('/')}"] += 1
        if gen == "v2":
            key = request.headers.get("Ocp-Apim-Subscription-Key")
            if key != sim.keys.subscription_key:
                return _json(
                    {"statusCode": 401, "message": _SUBSCRIPTION_INVALID if key else _SUBSCRIPTION_MISSING},
                    401,
                )
        bucket = sim._buckets.get(gen)
        if bucket is not None:
            wait = bucket.take()
            if wait > 0:
                seconds = max(1, math.ceil(wait))
                with sim._stats_lock:
                    sim._stats.rate_limited += 1
                return _json(
                    {
                        "statusCode": "429",
                        "message": f"Rate limit is exceeded. Try again in {seconds} seconds.",
                    },
                    429,
                    headers={"Retry-After": str(seconds)},
                )
        if sim._draw("slow"):
            with sim._stats_lock:
                sim._stats.slow += 1
            time.sleep(sim.faults.slow_seconds)
        if sim._draw("error"):
            with sim._stats_lock:
                sim._stats.injected_errors += 1
            with sim._rng_lock:
                status = sim._rng.choice((500, 502, 503, 504))
            return _error(
                gen, status, "Service Unavailable" if status == 503 else "Server Error", "an injected fault"
            )
        if request.path.rstrip("/").lower().endswith("/oauth/token"):
            return None
        auth = request.headers.get("Authorization", "")
        token = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
        if not token or not sim._token_ok(gen, token):
            return _unauthorized(gen)
        if sim._draw("expiry"):
            sim._revoke(token)
            with sim._stats_lock:
                sim._stats.early_expiries += 1
            return _unauthorized(gen)
        scripted = sim._take_script(request.method, request.path)
        if scripted is not None:
            return Response(
                scripted.body,
                status=scripted.status,
                headers=scripted.headers,
                content_type=scripted.headers.get("Content-Type", "application/json; charset=utf-8"),
            )
        return None

    @app.after_request
    def _count(response: Response) -> Response:
        with sim._stats_lock:
            sim._stats.status[response.status_code] += 1
        return response

    @app.errorhandler(404)
    def _not_found(_: Exception) -> Response:
        return _error(_generation(request.path), 404, "Not Found", f"no route {request.path}")

    @app.errorhandler(405)
    def _not_allowed(_: Exception) -> Response:
        return _error(
            _generation(request.path), 405, "Method Not Allowed", f"{request.method} {request.path}"
        )

    def served(entity: str, n: int) -> None:
        with sim._stats_lock:
            sim._stats.records_served[entity] += n

    # -- tokens --

    def token(gen: str) -> Response:
        auth = request.headers.get("Authorization", "")
        pair = None
        if auth.lower().startswith("basic "):
            try:
                pair = base64.b64decode(auth[6:].strip(), validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                pair = None
        if pair != f"{sim.keys.application_key}:{sim.keys.client_key}":
            return _json({"error": "invalid_client"}, 400)
        if request.form.get("grant_type") != "client_credentials":
            return _json({"error": "unsupported_grant_type"}, 400)
        value, lifetime = sim._issue_token(gen)
        return _json({"access_token": value, "token_type": "bearer", "expires_in": int(lifetime)})

    app.add_url_rule("/OAuth/Token", "token_v2", lambda: token("v2"), methods=["POST"])
    app.add_url_rule("/v1/OAuth/Token", "token_v1", lambda: token("v1"), methods=["POST"])

    # -- v2 --

    def v2_query() -> dict[str, str]:
        return {k.lower(): v for k, v in request.args.items()}

    def v2_list(entity: str) -> Response:
        q = v2_query()
        if "$top" in q or "$skip" in q:
            return _problem(
                400, "Bad Request", "OData $top/$skip are not supported; use PageNumber and PageSize"
            )
        try:
            page = int(q.get("pagenumber", 1))
            size = int(q.get("pagesize", 5000))
        except ValueError:
            return _problem(400, "Bad Request", "PageNumber and PageSize must be integers")
        if page < 1 or not 1 <= size <= MAX_PAGE_SIZE:
            return _problem(400, "Bad Request", f"PageNumber >= 1 and 1 <= PageSize <= {MAX_PAGE_SIZE}")
        since = None
        if "lastchangeddatetimeoffsetgreaterthan" in q:
            since = parse_time(q["lastchangeddatetimeoffsetgreaterthan"])
            if since is None:
                return _problem(400, "Bad Request", "lastChangedDateTimeOffsetGreaterThan is not a date-time")
        parents = None
        if entity == "contactperson" and q.get("contactids"):
            try:
                parents = {int(x) for x in q["contactids"].split(",") if x.strip()}
            except ValueError:
                return _problem(400, "Bad Request", "contactIds must be a comma list of integers")
        rows = sim.store.list(entity, "v2", since=since, parents=parents)
        rows = rows[(page - 1) * size : page * size]
        if q.get("fields"):
            wanted = {f.strip().lower() for f in q["fields"].split(",")}
            rows = [{k: v for k, v in r.items() if k.lower() in wanted} for r in rows]
            # Projected rows (e.g. ids only) are counted apart from whole records.
            served(f"{entity}:fields", len(rows))
        else:
            served(entity, len(rows))
        if not rows and sim.empty_as_204:
            return Response(status=204)
        return _json(rows)

    def v2_one(entity: str, rid: int, parent: int | None = None) -> Response:
        if request.method == "PATCH":
            try:
                ops = json.loads(request.get_data(as_text=True) or "null")
            except ValueError:
                return _problem(400, "Bad Request", "the body is not JSON")
            try:
                rec = sim.store.patch_v2(entity, rid, ops, parent)
            except StoreError as exc:
                return _problem(
                    exc.status, {404: "Not Found", 409: "Conflict"}.get(exc.status, "Bad Request"), str(exc)
                )
            served(entity, 1)
            return _json(rec)
        rec = sim.store.get(entity, "v2", rid, parent)
        if rec is None:
            return _problem(404, "Not Found", f"{entity} {rid} not found")
        served(entity, 1)
        return _json(rec)

    for resource, entity in _V2_RESOURCES.items():
        app.add_url_rule(
            f"/v2/{resource}", f"v2_list_{entity}", (lambda e=entity: v2_list(e)), methods=["GET"]
        )
        app.add_url_rule(
            f"/v2/{resource}/<int:rid>",
            f"v2_one_{entity}",
            (lambda rid, e=entity: v2_one(e, rid)),
            methods=["GET", "PATCH"],
        )
    app.add_url_rule("/v2/ContactPersons", "v2_list_cp", lambda: v2_list("contactperson"), methods=["GET"])
    app.add_url_rule(
        "/v2/ContactPersons/<int:cid>/<int:rid>",
        "v2_one_cp",
        lambda cid, rid: v2_one("contactperson", rid, cid),
        methods=["GET", "PATCH"],
    )

    # -- v1 --

    def v1_page(entity: str, parent: int | None = None) -> Response:
        try:
            skip = int(request.args.get("$skip", 0))
            top = int(request.args.get("$top", V1_DEFAULT_TOP))
        except ValueError:
            return _v1_error(400, "$skip and $top must be integers")
        if skip < 0 or top < 1:
            return _v1_error(400, "$skip must be >= 0 and $top >= 1")
        since, inclusive = None, False
        flt = request.args.get("$filter")
        if flt:
            m = _V1_FILTER.match(flt)
            since = parse_time(m.group(2)) if m else None
            if since is None:
                return _v1_error(400, f"unsupported $filter {flt!r}; use lastChanged ge datetimeoffset'...'")
            inclusive = m.group(1).lower() == "ge"
        parents = None
        if parent is not None:
            if not sim.store.is_party(parent):
                return _v1_error(404, f"party {parent} not found")
            parents = {parent}
        rows = sim.store.list(entity, "v1", since=since, inclusive=inclusive, parents=parents)
        total = len(rows)
        rows = rows[skip : skip + top]
        served(entity, len(rows))
        return _json({"data": rows, "count": total, "success": True})

    def v1_one(entity: str, rid: int) -> Response:
        rec = sim.store.get(entity, "v1", rid)
        if rec is None:
            return _v1_error(404, f"{entity} {rid} not found")
        served(entity, 1)
        return _json({"data": rec, "success": True})

    def v1_post(entity: str) -> Response:
        try:
            body = json.loads(request.get_data(as_text=True) or "null")
        except ValueError:
            return _v1_error(400, "the body is not JSON")
        try:
            rec = sim.store.replace_v1(entity, body)
        except StoreError as exc:
            return _v1_error(exc.status, str(exc))
        served(entity, 1)
        return _json({"data": rec, "success": True})

    for resource, entity in _V1_RESOURCES.items():
        app.add_url_rule(
            f"/v1/{resource}", f"v1_list_{entity}", (lambda e=entity: v1_page(e)), methods=["GET"]
        )
        app.add_url_rule(
            f"/v1/{resource}", f"v1_post_{entity}", (lambda e=entity: v1_post(e)), methods=["POST"]
        )
        app.add_url_rule(
            f"/v1/{resource}/<int:rid>",
            f"v1_one_{entity}",
            (lambda rid, e=entity: v1_one(e, rid)),
            methods=["GET"],
        )
        app.add_url_rule(
            f"/v1/{resource}/<int:pid>/Contact",
            f"v1_contacts_{entity}",
            lambda pid: v1_page("contactperson", parent=pid),
            methods=["GET"],
        )
    return app


def _unauthorized(gen: str) -> Response:
    if gen == "v2":
        return _problem(401, "Unauthorized", "the access token is missing, expired or not valid")
    return _v1_error(401, "Authorization has been denied for this request.")
