"""The gate every simulator request passes before its route: subscription key, rate
limit, injected faults, bearer token and scripted answers, in that order; plus the
status counter and the 404/405 answers in each generation's format."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from functools import partial
from typing import TYPE_CHECKING

from flask import Flask, Response, request

from audit.systems.poweroffice.sim.replies import error, generation_of, json_response, unauthorized

if TYPE_CHECKING:
    from audit.systems.poweroffice.sim.server import Simulator

_SUBSCRIPTION_MISSING = (
    "Access denied due to missing subscription key. Make sure to include subscription key when making "
    "requests to an API."
)
_SUBSCRIPTION_INVALID = (
    "Access denied due to invalid subscription key. Make sure to provide a valid key for an active subscription."
)

Step = Callable[["Simulator", str], "Response | None"]


def install_gate(app: Flask, sim: Simulator) -> None:
    """Hook the gate and the status counter into ``app``."""
    app.before_request(partial(gate, sim))
    app.after_request(partial(_count_status, sim))


def install_error_handlers(app: Flask) -> None:
    """404 and 405 in the format of the generation the path belongs to."""
    app.register_error_handler(404, _not_found)
    app.register_error_handler(405, _not_allowed)


def gate(sim: Simulator) -> Response | None:
    """The first refusal or canned answer for this request, or ``None`` to let it through
    to its route. Token requests skip the bearer-token check and scripted answers."""
    gen = generation_of(request.path)
    with sim._stats_lock:
        sim._stats.requests += 1
        sim._stats.routes[f"{request.method} {request.path.rstrip('/')}"] += 1
    answer = _first_answer(sim, gen, (_subscription_refused, _rate_limited, _injected_fault))
    if answer is not None or request.path.rstrip("/").lower().endswith("/oauth/token"):
        return answer
    return _first_answer(sim, gen, (_token_refused, _scripted_answer))


def _first_answer(sim: Simulator, gen: str, steps: Iterable[Step]) -> Response | None:
    for step in steps:
        answer = step(sim, gen)
        if answer is not None:
            return answer
    return None


def _subscription_refused(sim: Simulator, gen: str) -> Response | None:
    """v2 only: API Management's 401 for a missing or wrong subscription key (the header
    and the wording are Azure API Management's; the v2 OpenAPI document has no security
    scheme: README, "What the defaults assume")."""
    if gen != "v2":
        return None
    key = request.headers.get("Ocp-Apim-Subscription-Key")
    if key == sim.keys.subscription_key:
        return None
    return json_response(
        {"statusCode": 401, "message": _SUBSCRIPTION_INVALID if key else _SUBSCRIPTION_MISSING},
        401,
    )


def _rate_limited(sim: Simulator, gen: str) -> Response | None:
    """429 (``paths./Customers.get.responses.429``, "throttled") with the body PowerOffice's
    developer pages show and a ``Retry-After`` (unconfirmed there: README, "What the
    defaults assume") when the generation's window is full."""
    window = sim._limits.get(gen)
    if window is None:
        return None
    wait = window.take()
    if wait <= 0:
        return None
    seconds = max(1, math.ceil(wait))
    with sim._stats_lock:
        sim._stats.rate_limited += 1
    return json_response(
        {"statusCode": "429", "message": f"Rate limit is exceeded. Try again in {seconds} seconds."},
        429,
        headers={"Retry-After": str(seconds)},
    )


def _injected_fault(sim: Simulator, gen: str) -> Response | None:
    """A seeded slow answer (then through) and a seeded 5xx."""
    if sim._draw("slow"):
        with sim._stats_lock:
            sim._stats.slow += 1
        time.sleep(sim.faults.slow_seconds)
    if not sim._draw("error"):
        return None
    with sim._stats_lock:
        sim._stats.injected_errors += 1
    with sim._rng_lock:
        status = sim._rng.choice((500, 502, 503, 504))
    return error(gen, status, "Service Unavailable" if status == 503 else "Server Error", "an injected fault")


def _token_refused(sim: Simulator, gen: str) -> Response | None:
    """401 for a missing, unknown or expired bearer token, or one revoked early on purpose."""
    auth = request.headers.get("Authorization", "")
    token = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
    if not token or not sim._token_ok(gen, token):
        return unauthorized(gen)
    if sim._draw("expiry"):
        sim._revoke(token)
        with sim._stats_lock:
            sim._stats.early_expiries += 1
        return unauthorized(gen)
    return None


def _scripted_answer(sim: Simulator, gen: str) -> Response | None:
    """The next canned answer queued by :meth:`Simulator.script` for this request."""
    scripted = sim._take_script(request.method, request.path)
    if scripted is None:
        return None
    return Response(
        scripted.body,
        status=scripted.status,
        headers=scripted.headers,
        content_type=scripted.headers.get("Content-Type", "application/json; charset=utf-8"),
    )


def _count_status(sim: Simulator, response: Response) -> Response:
    with sim._stats_lock:
        sim._stats.status[response.status_code] += 1
    return response


def _not_found(_: Exception) -> Response:
    return error(generation_of(request.path), 404, "Not Found", f"no route {request.path}")


def _not_allowed(_: Exception) -> Response:
    return error(generation_of(request.path), 405, "Method Not Allowed", f"{request.method} {request.path}")
