"""What went over the simulator's wire, for tests that check exchanges against the
documents (the v2 contract, the v1 rules): every request's method, path and query, and
with ``full=True`` the headers (secrets masked) and bodies of both directions.

The record is bounded (the newest ``limit`` exchanges), so a long-running simulator does
not grow without end.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from flask import Flask, Response, request

#: Headers whose values are secrets: kept by name only.
_SECRET_HEADERS = {"authorization", "ocp-apim-subscription-key"}


@dataclass(frozen=True)
class Exchange:
    """One request and its answer as the simulator saw them."""

    method: str
    path: str
    query: dict[str, str]
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    response_headers: dict[str, str] = field(default_factory=dict)
    response_body: bytes = b""


class Recorder:
    """Keeps the newest ``limit`` exchanges; bodies and headers only when ``full``."""

    def __init__(self, full: bool = False, limit: int = 20000):
        self.full = full
        self._items: deque[Exchange] = deque(maxlen=limit)
        self._lock = threading.Lock()

    def install(self, app: Flask) -> None:
        app.after_request(self._record)

    def _record(self, response: Response) -> Response:
        query = {k: v for k, v in request.args.items()}
        if self.full:
            # A form body (the token request) was parsed by then: rebuilt from the form.
            body = request.get_data() or urlencode(list(request.form.items(multi=True))).encode()
            item = Exchange(
                request.method,
                request.path,
                query,
                response.status_code,
                _masked(request.headers.items()),
                body,
                _masked(response.headers.items()),
                response.get_data(),
            )
        else:
            item = Exchange(request.method, request.path, query, response.status_code)
        with self._lock:
            self._items.append(item)
        return response

    def exchanges(self) -> list[Exchange]:
        with self._lock:
            return list(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


def _masked(items: Any) -> dict[str, str]:
    return {k: ("<masked>" if k.lower() in _SECRET_HEADERS else v) for k, v in items}
