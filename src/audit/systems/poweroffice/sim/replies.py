"""How the simulator answers: JSON responses in each generation's error format, plus the
small helpers the route modules share.

- v2: ProblemDetails with the property names of the v2 OpenAPI document's
  ``ProblemDetails`` schema (``Type``, ``Title``, ``Status``, ``Detail``, ``Instance``).
- v1: "All well formed request should return HTTP 200 OK. If business logic or parameter
  data provided is invalid the ``success`` property will be set to ``false``, and there
  will be no ``data`` property. Instead a ``validation`` property will be returned"
  (PowerOffice/go-api-documentation, ``docs/api/rest/apicalls.md``, "Error handling"):
  :func:`v1_refusal`. Failures outside the request's content (token refused, rate limit,
  server faults, an unknown route) keep their HTTP status and carry the same body shape.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from flask import Flask, Response, request

from audit.core import exact_json

if TYPE_CHECKING:
    from audit.systems.poweroffice.sim.server import Simulator


class BadQuery(Exception):
    """A request the API refuses; ``status`` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 400):
        self.status = status
        super().__init__(message)


def json_response(
    body: Any,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
    content_type: str = "application/json; charset=utf-8",
) -> Response:
    return Response(
        # a number is served with the digits it was given: the v2 document types numbers only as
        # ``type: number, format: double`` and says nothing of rounding (README, assumptions)
        exact_json.dumps(body, ensure_ascii=False),
        status=status,
        headers=dict(headers or {}),
        content_type=content_type,
    )


def problem(status: int, title: str, detail: str = "") -> Response:
    """A v2 error: ProblemDetails JSON."""
    return json_response(
        {
            "Type": f"https://tools.ietf.org/html/rfc9110#status-{status}",
            "Title": title,
            "Status": status,
            "Detail": detail,
            "Instance": request.path,
        },
        status,
        # the v2 OpenAPI document gives ProblemDetails answers as application/json
        content_type="application/json; charset=utf-8",
    )


def _validation(summary: str, exception: str) -> dict[str, Any]:
    ref = f"sim{secrets.token_hex(5)}-{datetime.now(timezone.utc):%m%d%H%M%S}"
    return {"success": False, "validation": {"errorLogReference": ref, "summary": summary, "exception": exception}}


def v1_refusal(summary: str, exception: str = "Validation") -> Response:
    """v1 refusing a well-formed request: HTTP 200, ``success: false``, ``validation``
    and no ``data`` (``docs/api/rest/apicalls.md``, "Error handling")."""
    return json_response(_validation(summary, exception), 200)


def v1_error(status: int, message: str) -> Response:
    """A v1 failure outside the request's content (auth, rate limit, fault, no route):
    its HTTP status, with the documented error body."""
    return json_response(_validation(message, "Error"), status)


def error(generation: str, status: int, title: str, detail: str = "") -> Response:
    """An error in the format of ``generation``."""
    return problem(status, title, detail) if generation == "v2" else v1_error(status, f"{title}: {detail}".strip(": "))


def unauthorized(generation: str) -> Response:
    if generation == "v2":
        return problem(401, "Unauthorized", "the access token is missing, expired or not valid")
    return v1_error(401, "Authorization has been denied for this request.")


def generation_of(path: str) -> str:
    """``"v1"`` for a path under ``/v1``, else ``"v2"``."""
    return "v1" if path.startswith("/v1") else "v2"


def request_json() -> Any:
    """The request's JSON body (``None`` when empty); :class:`BadQuery` when it is not JSON."""
    try:
        return exact_json.loads(request.get_data(as_text=True) or "null")
    except ValueError:
        raise BadQuery("the body is not JSON") from None


def count_served(sim: Simulator, entity: str, n: int) -> None:
    with sim._stats_lock:
        sim._stats.records_served[entity] += n


def route(app: Flask, rule: str, endpoint: str, view: Callable[..., Response], *methods: str) -> None:
    """Register ``view`` for ``rule`` and ``methods`` under the name ``endpoint``."""
    app.add_url_rule(rule, endpoint, view, methods=list(methods))
