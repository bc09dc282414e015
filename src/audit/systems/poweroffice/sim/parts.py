"""Small parts of the simulator: the server-side rate limit, canned answers, counters,
and the request handler that drops connections on purpose and logs quietly."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from werkzeug.serving import WSGIRequestHandler

from audit.systems.http import redaction

if TYPE_CHECKING:
    from audit.systems.poweroffice.sim.server import Simulator

log = logging.getLogger("audit.systems.poweroffice.sim.server")


class SlidingWindow:
    """The server side of the rate limit: at most ``calls`` requests in any sliding window
    of ``period`` seconds; ``take`` returns 0 when a request may pass (and counts it), else
    the seconds until the oldest counted request leaves the window (a refused request is
    not counted).

    PowerOffice's v2 API sits behind Azure API Management (the ``Ocp-Apim-Subscription-Key``
    header; its 429 body "Rate limit is exceeded. Try again in N seconds." is that
    gateway's), whose ``rate-limit`` policy counts ``calls`` per ``renewal-period``, "the
    length in seconds of the sliding window" (learn.microsoft.com, Azure API Management,
    "Limit call rate by subscription"). The same window is assumed for v1 (README, "What the
    defaults assume").
    """

    def __init__(self, calls: int, period: float = 1.0, clock=time.monotonic):
        if calls < 1 or period <= 0:
            raise ValueError("a window admits at least one call in a positive period")
        self.calls = calls
        self.period = period
        self._clock = clock
        self._admitted: deque[float] = deque()
        self._lock = threading.Lock()

    @classmethod
    def per_second(cls, rate: float, clock=time.monotonic) -> SlidingWindow:
        """``rate`` requests a second: ``rate`` calls a second when it is whole, else the
        whole calls it allows in a period of ``calls / rate`` seconds (0.5/s: one call in 2 s)."""
        calls = max(1, int(rate))
        return cls(calls, calls / rate, clock)

    def take(self) -> float:
        with self._lock:
            now = self._clock()
            while self._admitted and self._admitted[0] <= now - self.period:
                self._admitted.popleft()
            if len(self._admitted) < self.calls:
                self._admitted.append(now)
                return 0.0
            return self._admitted[0] + self.period - now


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
