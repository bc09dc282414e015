"""How the simulator answers: JSON responses in each generation's error format
(ProblemDetails for v2, ``{"success": false, ...}`` for v1), plus the small helpers the
route modules share."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from flask import Flask, Response, request

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
        json.dumps(body, ensure_ascii=False),
        status=status,
        headers=dict(headers or {}),
        content_type=content_type,
    )


def problem(status: int, title: str, detail: str = "") -> Response:
    """A v2 error: ProblemDetails JSON."""
    return json_response(
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


def v1_error(status: int, message: str) -> Response:
    """A v1 error: the v1 wrapper with ``success: false``."""
    return json_response({"success": False, "message": message, "data": None}, status)


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
        return json.loads(request.get_data(as_text=True) or "null")
    except ValueError:
        raise BadQuery("the body is not JSON") from None


def count_served(sim: Simulator, entity: str, n: int) -> None:
    with sim._stats_lock:
        sim._stats.records_served[entity] += n


def route(app: Flask, rule: str, endpoint: str, view: Callable[..., Response], *methods: str) -> None:
    """Register ``view`` for ``rule`` and ``methods`` under the name ``endpoint``."""
    app.add_url_rule(rule, endpoint, view, methods=list(methods))
