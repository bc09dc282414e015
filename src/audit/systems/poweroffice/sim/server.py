"""A local PowerOffice Go API (v2 and v1) on 127.0.0.1, seeded from a snapshot directory.

A real threaded HTTP server (Flask on werkzeug's ``make_server``) that speaks the subset
of both generations the connector and the write-back use:

=====================================  ================================================
v2 (under ``/v2``)                     v1 (under ``/v1``)
=====================================  ================================================
``POST /OAuth/Token``                  ``POST /v1/OAuth/Token``
``GET /Customers``, ``/Suppliers``     ``GET /Customer/``, ``/Supplier/``
(``PageNumber``, ``PageSize``,         (``$skip``, ``$top``, ``$orderby``,
``Fields``,                            ``$filter=(LastChanged gt DateTimeOffset'..')``)
``lastChangedDateTimeOffsetGreaterThan``)
``GET/PATCH /Customers/{id}`` (and     ``GET /Customer/{id}``, ``/Supplier/{id}``;
Suppliers), RFC 6902 JSON Patch        ``POST /Customer``, ``/Supplier`` (whole object)
``GET /ContactPersons`` (all;          ``GET /PartyContactPerson/`` (all), ``GET/POST
``contactIds`` optional)               ``/{Customer|Supplier}/{id}/Contact/`` (+ ``/{id}``)
``GET/PATCH /ContactPersons/{c}/{id}``
=====================================  ================================================

Keys
    Checked against ``POWEROFFICE_APPLICATION_KEY``, ``POWEROFFICE_CLIENT_KEY`` and
    ``POWEROFFICE_SUBSCRIPTION_KEY``; when a variable is unset its demo value is used:
    :data:`DEMO_APPLICATION_KEY` (``sim-demo-application-key``),
    :data:`DEMO_CLIENT_KEY` (``sim-demo-client-key``),
    :data:`DEMO_SUBSCRIPTION_KEY` (``sim-demo-subscription-key``).
    Every v2 call (token call included) needs the subscription key header, else 401 in
    API Management's words; a wrong Basic pair gives 400 ``{"error": "invalid_client"}``.
Tokens
    ``{"access_token", "token_type": "bearer", "expires_in"}``; lifetime 1200 s (v2) and
    600 s (v1) unless ``token_lifetime`` says otherwise. Expired or unknown tokens: 401.
Errors
    v2: ProblemDetails JSON (``Type``, ``Title``, ``Status``, ``Detail``, ``Instance``,
    as the v2 OpenAPI document's ``components.schemas.ProblemDetails`` spells them);
    v1: HTTP 200 ``{"success": false, "validation": {...}}`` for a refused query or
    write and an unknown id (:mod:`~audit.systems.poweroffice.sim.replies`). v2: 404 for
    unknown ids, 400 for bad queries, read-only patch paths, a number already in use and
    a failed JSON Patch ``test``.
Rate limit
    ``rate_limit`` requests/second per generation, counted in a sliding window of one
    second as Azure API Management counts them (:class:`~.parts.SlidingWindow`; a
    fractional rate counts its whole calls in a window of ``calls / rate`` seconds,
    :meth:`~.parts.SlidingWindow.per_second`); beyond it 429 with
    ``{"statusCode": "429", "message": "Rate limit is exceeded. Try again in N seconds."}``
    and ``Retry-After: N``.
Faults
    A seeded share of answers are 5xx (``error_rate``), dropped connections (the socket
    is closed with no answer, ``drop_rate``), slow (``slow_rate``, ``slow_seconds``) or
    401 for a token revoked early (``early_expiry_rate``). ``fault_rate=F`` splits F
    evenly between 5xx and drops. :meth:`Simulator.script` queues canned answers.
State
    With ``state_file`` the data are saved after every write and loaded at start.

Use :func:`running_simulator` (a context manager yielding a started :class:`Simulator`)
from Python, and ``audit simulate`` from the command line. This module owns the server
and the faults' dice; the keys and fault shares are :mod:`audit.systems.poweroffice.sim.options`,
the routes :mod:`audit.systems.poweroffice.sim.routes`, the data
:mod:`audit.systems.poweroffice.sim.store`.
"""

from __future__ import annotations

import logging
import random
import secrets
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from werkzeug.serving import make_server

from audit.core import exact_json
from audit.systems.http import redaction
from audit.systems.poweroffice.sim.options import (
    DEMO_APPLICATION_KEY,
    DEMO_CLIENT_KEY,
    DEMO_SUBSCRIPTION_KEY,
    TOKEN_LIFETIME,
    Faults,
    Keys,
)
from audit.systems.poweroffice.sim.parts import Handler, Scripted, SlidingWindow, Stats
from audit.systems.poweroffice.sim.recorder import Exchange, Recorder
from audit.systems.poweroffice.sim.routes import build_app
from audit.systems.poweroffice.sim.store import SERVED_ENTITIES, Store
from audit.systems.sesam.sim import mount_sesam

log = logging.getLogger("audit.systems.poweroffice.sim.server")

DEFAULT_PORT = 8765

#: Where each of :meth:`Simulator.urls` lies below the base URL.
_PATHS = {"v2": "/v2", "v2 token": "/OAuth/Token", "v1": "/v1", "v1 token": "/v1/OAuth/Token"}


def _url_property(name: str, doc: str) -> property:
    return property(lambda self: self.base_url + _PATHS[name], doc=doc)


class Simulator:
    """A PowerOffice Go simulator; :meth:`start` serves it in a background thread.

    Parameters
    ----------
    snapshot_dir
        Seed data (ignored when ``state_file`` exists).
    sesam_datasets
        Sesam dataset id -> export file, served as a Sesam node under ``/api``
        (:mod:`audit.systems.sesam.sim`; the same fault rate and seed).
    port
        TCP port on 127.0.0.1; 0 picks a free one.
    rate_limit
        Requests/second per generation (``None``: no limit).
    fault_rate, faults
        A share of 5xx + dropped answers, or a full :class:`Faults`.
    token_lifetime
        Seconds a token lives (default 1200 v2, 600 v1).
    state_file
        Where the data persist across restarts.
    keys
        Accepted keys (default: from the environment, else the demo values).
    empty_as_204
        Answer an empty v2 list page with ``204 No Content`` (as the API may).
    record
        Keep every exchange's headers (secrets masked) and bodies too, for contract
        tests (:meth:`exchanges`); method, path and query are always kept.
    """

    def __init__(
        self,
        snapshot_dir: str | Path | None = None,
        *,
        port: int = 0,
        rate_limit: float | None = None,
        fault_rate: float = 0.0,
        faults: Faults | None = None,
        token_lifetime: float | None = None,
        state_file: str | Path | None = None,
        keys: Keys | None = None,
        empty_as_204: bool = True,
        seed: int = 0,
        sesam_datasets: Mapping[str, str | Path] | None = None,
        record: bool = False,
    ):
        self.store = Store.open(snapshot_dir, state_file)
        self.keys = keys or Keys.from_env()
        self.faults = faults or Faults.from_rate(fault_rate, seed=seed)
        self.token_lifetime = {g: float(token_lifetime or TOKEN_LIFETIME[g]) for g in ("v1", "v2")}
        self.empty_as_204 = empty_as_204
        self.requested_port = port
        self._limits: dict[str, SlidingWindow] = {}
        if rate_limit:
            self._limits = {g: SlidingWindow.per_second(rate_limit) for g in ("v1", "v2")}
        self._tokens: dict[str, tuple[str, float]] = {}
        self._tokens_lock = threading.Lock()
        self._rng = random.Random(self.faults.seed)
        self._rng_lock = threading.Lock()
        self._stats = Stats()
        self._stats_lock = threading.Lock()
        self._scripts: list[Scripted] = []
        self._server = None
        self._thread: threading.Thread | None = None
        self.app = build_app(self)
        # a Sesam node's datasets under /api (audit simulate --sesam-dataset NAME=FILE)
        self.sesam = mount_sesam(self.app, sesam_datasets, fault_rate, seed) if sesam_datasets else None
        self.recorder = Recorder(full=record)
        self.recorder.install(self.app)
        redaction.install()

    # -- lifecycle ---------------------------------------------------------------------

    def bind(self) -> Simulator:
        """Bind the port (without serving yet), so the URLs are known."""
        if self._server is None:
            self._server = make_server(
                "127.0.0.1", self.requested_port, self.app, threaded=True, request_handler=Handler
            )
            self._server.simulator = self  # type: ignore[attr-defined]
            self._server.daemon_threads = True
        return self

    def start(self) -> Simulator:
        """Bind and serve in a daemon thread; returns ``self`` once it accepts requests."""
        self.bind()
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="po-simulator",
            daemon=True,
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted (the command line's mode)."""
        self.bind()
        self._server.serve_forever(poll_interval=0.2)

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- addresses ---------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the simulator is not running")
        return self._server.server_port

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    v2_url = _url_property("v2", "The v2 API's base URL.")
    v2_token_url = _url_property("v2 token", "The v2 token endpoint.")
    v1_url = _url_property("v1", "The v1 API's base URL.")
    v1_token_url = _url_property("v1 token", "The v1 token endpoint.")

    def urls(self) -> dict[str, str]:
        urls = {name: self.base_url + path for name, path in _PATHS.items()}
        if self.sesam is not None:
            urls["sesam"] = self.base_url + "/api"
        return urls

    def env(self) -> dict[str, str]:
        """``POWEROFFICE_*`` variables that point the connector at this simulator."""
        return {
            "POWEROFFICE_APPLICATION_KEY": self.keys.application_key,
            "POWEROFFICE_CLIENT_KEY": self.keys.client_key,
            "POWEROFFICE_SUBSCRIPTION_KEY": self.keys.subscription_key,
            "POWEROFFICE_V2_URL": self.v2_url,
            "POWEROFFICE_V1_URL": self.v1_url,
        }

    # -- inspection and control --------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        """Counters since start (or :meth:`reset_stats`): requests, answers by status,
        requests by route, records served per entity (``customer:fields`` counts rows cut
        down by ``Fields``), 429s, faults, tokens."""
        with self._stats_lock:
            s = self._stats
            return {
                "requests": s.requests,
                "status": dict(s.status),
                "routes": dict(s.routes),
                "records_served": dict(s.records_served),
                "rate_limited": s.rate_limited,
                "dropped": s.dropped,
                "injected_errors": s.injected_errors,
                "slow": s.slow,
                "early_expiries": s.early_expiries,
                "tokens_issued": s.tokens_issued,
            }

    def reset_stats(self) -> None:
        with self._stats_lock:
            self._stats = Stats()
        self.recorder.clear()

    def exchanges(self) -> list[Exchange]:
        """The exchanges answered since start (or :meth:`reset_stats`), oldest first."""
        return self.recorder.exchanges()

    def requests_seen(self) -> list[tuple[str, str, dict[str, str]]]:
        """``(method, path, query)`` of every answered request, oldest first."""
        return [(e.method, e.path, e.query) for e in self.recorder.exchanges()]

    def script(
        self,
        method: str,
        path: str,
        status: int = 200,
        body: Any = b"",
        headers: Mapping[str, str] | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` authenticated ``method path`` requests (path without
        query, e.g. ``/v2/Customers``) with this canned answer instead of the real one.
        ``body`` may be bytes, text, or a JSON-able value."""
        if not isinstance(body, (bytes, str)):
            body = exact_json.dumps(body, ensure_ascii=False)
        if isinstance(body, str):
            body = body.encode("utf-8")
        with self._stats_lock:
            self._scripts.append(Scripted(method.upper(), path.rstrip("/"), status, body, dict(headers or {}), times))

    def revoke_tokens(self) -> None:
        """Expire every issued token now (the next call with one gets 401)."""
        with self._tokens_lock:
            self._tokens.clear()

    # -- internals used by the app -----------------------------------------------------

    def _draw(self, kind: str) -> bool:
        rate = {
            "drop": self.faults.drop_rate,
            "error": self.faults.error_rate,
            "slow": self.faults.slow_rate,
            "expiry": self.faults.early_expiry_rate,
        }[kind]
        if rate <= 0:
            return False
        with self._rng_lock:
            return self._rng.random() < rate

    def _take_script(self, method: str, path: str) -> Scripted | None:
        with self._stats_lock:
            for s in self._scripts:
                if s.method == method and s.path == path.rstrip("/"):
                    s.times -= 1
                    if s.times <= 0:
                        self._scripts.remove(s)
                    return s
        return None

    def _issue_token(self, generation: str) -> tuple[str, float]:
        value = secrets.token_urlsafe(32)
        lifetime = self.token_lifetime[generation]
        with self._tokens_lock:
            self._tokens[value] = (generation, time.monotonic() + lifetime)
        with self._stats_lock:
            self._stats.tokens_issued += 1
        return value, lifetime

    def _token_ok(self, generation: str, value: str) -> bool:
        with self._tokens_lock:
            entry = self._tokens.get(value)
            if entry is None or entry[0] != generation or time.monotonic() >= entry[1]:
                self._tokens.pop(value, None)
                return False
            return True

    def _revoke(self, value: str) -> None:
        with self._tokens_lock:
            self._tokens.pop(value, None)


@contextmanager
def running_simulator(snapshot_dir: str | Path | None = None, **options: Any) -> Iterator[Simulator]:
    """A started :class:`Simulator` (options as its constructor), stopped on exit.

    >>> with running_simulator("snapshots/demo", rate_limit=20) as sim:  # doctest: +SKIP
    ...     sim.v2_url, sim.v2_token_url, sim.env()
    """
    sim = Simulator(snapshot_dir, **options).start()
    try:
        yield sim
    finally:
        sim.stop()


__all__ = [
    "DEMO_APPLICATION_KEY",
    "DEMO_CLIENT_KEY",
    "DEMO_SUBSCRIPTION_KEY",
    "Faults",
    "Keys",
    "SERVED_ENTITIES",
    "Simulator",
    "running_simulator",
]
