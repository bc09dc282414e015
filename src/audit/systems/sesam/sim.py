"""The simulator's Sesam node: ``GET /api/datasets/<id>/entities`` over export files.

An independent peer of :mod:`audit.systems.sesam.client`, written from the same documents
(datanav/docs ``hub/api.rst`` and ``hub/swagger_public.yaml``, path
``/datasets/{dataset_id}/entities``): it answers a JSON array of entities in ``_updated``
order, ``since`` skipping the entities up to and including that ``_updated``, ``limit``
capping the answer, ``deleted=false`` leaving deleted entities out and ``history``
accepted (each entity has one version here). Requests must carry ``Authorization:
Bearer <JWT>`` with the node's JWT (``SESAM_JWT``, else :data:`DEMO_JWT`): 401 otherwise.
A seeded share of answers are injected faults, half ``503`` and half ``429`` with
``Retry-After: 0``; an unknown dataset is 404.

Served inside the PowerOffice Go simulator under ``/api`` (``audit simulate
--sesam-dataset NAME=FILE``) or on its own with :func:`sesam_app`.
"""

from __future__ import annotations

import json
import os
import random
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, Response, request

from audit.errors import ConfigError

__all__ = ["DEMO_JWT", "SesamNode", "dataset_options", "load_dataset", "mount_sesam", "sesam_app"]

#: The JWT the simulator accepts when ``SESAM_JWT`` is unset.
DEMO_JWT = "sim-demo-sesam-jwt"


def load_dataset(path: str | Path) -> list[dict[str, Any]]:
    """The entities of an export file (``.json`` array or ``.jsonl``), each given an
    integer ``_updated`` (its position) when it has none, in ``_updated`` order whatever
    the file's order (the client pages with ``since``, which relies on that order)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        entities = (
            [json.loads(line) for line in text.splitlines() if line.strip()]
            if path.suffix == ".jsonl"
            else json.loads(text)
        )
    except (OSError, ValueError) as exc:
        raise ConfigError(f"--sesam-dataset {path}: not a readable Sesam export ({exc})") from None
    if not isinstance(entities, list) or not all(isinstance(e, dict) for e in entities):
        raise ConfigError(f"--sesam-dataset {path}: not a JSON array of entities")
    rows = [{**e, "_updated": e.get("_updated", i)} for i, e in enumerate(entities)]
    return sorted(rows, key=lambda e: _order(e["_updated"]))  # a dataset is served in _updated order


def _order(updated: Any) -> tuple[int, float | str]:
    """Sort key of an ``_updated`` value: numbers as numbers, before texts."""
    try:
        return (0, float(updated))
    except (TypeError, ValueError):
        return (1, str(updated))


class SesamNode:
    """Datasets by id, the accepted JWT, the fault dice and the request count."""

    def __init__(
        self,
        datasets: Mapping[str, list[dict[str, Any]]],
        jwt: str | None = None,
        fault_rate: float = 0.0,
        seed: int = 0,
    ):
        self.datasets = dict(datasets)
        self.jwt = jwt or os.environ.get("SESAM_JWT") or DEMO_JWT
        self.fault_rate = fault_rate
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self.requests = 0
        self.faults = 0

    def _fault(self) -> Response | None:
        with self._lock:
            self.requests += 1
            hit = self.fault_rate > 0 and self._rng.random() < self.fault_rate
            kind = self._rng.random() if hit else 0.0
            self.faults += hit
        if not hit:
            return None
        if kind < 0.5:
            return Response('{"error": "service unavailable"}', status=503, mimetype="application/json")
        return Response(
            '{"error": "too many requests"}', status=429, headers={"Retry-After": "0"}, mimetype="application/json"
        )

    def entities(self, dataset_id: str) -> Response:
        """The answer to ``GET /api/datasets/<dataset_id>/entities``."""
        if request.headers.get("Authorization", "") != f"Bearer {self.jwt}":
            return Response('{"error": "unauthorized"}', status=401, mimetype="application/json")
        fault = self._fault()
        if fault is not None:
            return fault
        if dataset_id not in self.datasets:
            return Response('{"error": "no such dataset"}', status=404, mimetype="application/json")
        rows = self.datasets[dataset_id]
        since = request.args.get("since")
        if since is not None:
            rows = [e for e in rows if str(e["_updated"]) != since and _after(e["_updated"], since)]
        if request.args.get("deleted", "true").lower() == "false":
            rows = [e for e in rows if e.get("_deleted") is not True]
        limit = request.args.get("limit")
        if limit is not None:
            rows = rows[: max(0, int(limit))]
        return Response(json.dumps(rows, ensure_ascii=False), status=200, mimetype="application/json")


def _after(updated: Any, since: str) -> bool:
    """``updated`` comes after the ``since`` token (numbers as numbers, else as text)."""
    try:
        return float(updated) > float(since)
    except (TypeError, ValueError):
        return str(updated) > since


def sesam_app(node: SesamNode) -> Flask:
    """A Flask app serving ``node`` at ``/datasets/<id>/entities`` (mount it under ``/api``)."""
    app = Flask("audit.systems.sesam.sim")
    app.add_url_rule("/datasets/<path:dataset_id>/entities", "entities", node.entities, methods=["GET"])
    return app


def mount_sesam(app: Flask, datasets: Mapping[str, str | Path], fault_rate: float = 0.0, seed: int = 0) -> SesamNode:
    """Serve the export files ``datasets`` (dataset id -> file) under ``/api`` of ``app``."""
    from werkzeug.middleware.dispatcher import DispatcherMiddleware

    node = SesamNode({name: load_dataset(path) for name, path in datasets.items()}, fault_rate=fault_rate, seed=seed)
    app.wsgi_app = DispatcherMiddleware(app.wsgi_app, {"/api": sesam_app(node)})  # type: ignore[method-assign]
    return node


def dataset_options(values: list[str] | None) -> dict[str, Path]:
    """``NAME=FILE`` options as dataset id -> file; a malformed one is a :class:`ConfigError`."""
    out: dict[str, Path] = {}
    for value in values or []:
        name, sep, file = value.partition("=")
        if not sep or not name.strip() or not file.strip():
            raise ConfigError(f"--sesam-dataset {value!r}: expected NAME=FILE (global-person=global-person.json)")
        out[name.strip()] = Path(file.strip())
    return out
