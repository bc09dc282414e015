"""Checking recorded exchanges with the simulator against the v2 contract
(``src/audit/systems/poweroffice/contract/v2-contract.yaml``, derived from the official
v2 OpenAPI document) with openapi-core.

Two adjustments, made here and not in the contract: ``application/json-patch+json`` is
read as JSON, and a JSON Patch operation's ``value`` may be any JSON value (the document
types it as an object; RFC 6902 allows any value).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import yaml
from openapi_core import Config, OpenAPI
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest, WerkzeugOpenAPIResponse
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request, Response

from audit.systems.poweroffice.sim.recorder import Exchange

CONTRACT = Path(__file__).resolve().parents[1] / "src/audit/systems/poweroffice/contract/v2-contract.yaml"
HOST = "http://127.0.0.1"


def _json(body: bytes | str) -> object:
    return json.loads(body or b"null")


@cache
def contract() -> OpenAPI:
    spec = yaml.safe_load(CONTRACT.read_text(encoding="utf-8"))
    spec["components"]["schemas"]["Operation"]["properties"]["value"] = {}  # any JSON value (RFC 6902)
    config = Config(extra_media_type_deserializers={"application/json-patch+json": _json})
    return OpenAPI.from_dict(spec, config=config)


def v2_exchanges(exchanges: list[Exchange]) -> list[Exchange]:
    """The exchanges of the v2 API and its token endpoint (not v1's)."""
    return [e for e in exchanges if e.path.startswith("/v2/") or e.path.rstrip("/") == "/OAuth/Token"]


def _request(e: Exchange) -> WerkzeugOpenAPIRequest:
    headers = {k: v for k, v in e.headers.items() if k.lower() not in ("host", "content-length")}
    builder = EnvironBuilder(
        path=e.path, base_url=HOST, method=e.method, query_string=e.query, headers=headers, data=e.body
    )
    return WerkzeugOpenAPIRequest(Request(builder.get_environ()))


def _response(e: Exchange) -> WerkzeugOpenAPIResponse:
    content_type = e.response_headers.get("Content-Type")
    return WerkzeugOpenAPIResponse(Response(e.response_body, status=e.status, content_type=content_type))


def problems(exchanges: list[Exchange], *, requests: bool = True, responses: bool = True) -> list[str]:
    """What in ``exchanges`` does not meet the contract (empty: all of it does)."""
    out = []
    api = contract()
    for e in v2_exchanges(exchanges):
        where = f"{e.method} {e.path}?{e.query} -> {e.status}"
        try:
            if requests:
                api.validate_request(_request(e))
            if responses:
                api.validate_response(_request(e), _response(e))
        except Exception as exc:  # openapi-core's validation errors, with their causes
            cause = exc.__cause__ or exc
            out.append(f"{where}: {type(exc).__name__}: {cause}"[:600])
    return out
