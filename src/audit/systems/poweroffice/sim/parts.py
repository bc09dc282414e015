"""Small parts of the simulator: the server-side rate bucket, canned answers, counters,
and the request handler that drops connections on purpose and logs quietly."""

from __future__ import annotations

import logging
import socket
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from werkzeug.serving import WSGIRequestHandler

from audit.systems.http import redaction
from audit.systems.poweroffice.ratelimit import TokenBucket

if TYPE_CHECKING:
    from audit.systems.poweroffice.sim.server import Simulator

log = logging.getLogger("audit.systems.poweroffice.sim.server")


class Bucket(TokenBucket):
    """The server side of the rate limit: a token bucket; ``take`` returns 0 when the
    request may pass, else the seconds until it could."""

    def take(self) -> float:
        with self._lock:
            self._refill()
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return 0.0
            return (1.0 - self._tokens) / self.rate


@dataclass
class Scripted:
    """A canned answer for the next ``times`` requests of ``method path``."""

    method: str
    path: str
    status: int
    body: bytes
    headers: dict[str, str]
    times: int


@dataclass
class Stats:
    """The simulator's counters (see :meth:`Simulator.stats`)."""

    requests: int = 0
    status: Counter = field(default_factory=Counter)
    routes: Counter = field(default_factory=Counter)
    records_served: Counter = field(default_factory=Counter)
    rate_limited: int = 0
    dropped: int = 0
    injected_errors: int = 0
    slow: int = 0
    early_expiries: int = 0
    tokens_issued: int = 0


class Handler(WSGIRequestHandler):
    """werkzeug's handler, plus dropped connections and quiet, redacted logging."""

    def run_wsgi(self) -> None:
        sim: Simulator = self.server.simulator  # type: ignore[attr-defined]
        if sim._draw("drop"):
            with sim._stats_lock:
                sim._stats.dropped += 1
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        super().run_wsgi()

    def log_request(self, code: Any = "-", size: Any = "-") -> None:
        log.debug("%s %s -> %s", self.command, redaction.redact_url(self.path), code)

    def log_error(self, format: str, *args: Any) -> None:
        log.debug("simulator: " + format, *args)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("simulator: " + format, *args)
