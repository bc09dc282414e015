"""The simulator's token endpoints: OAuth2 client credentials in a Basic header, as
PowerOffice/go-api-documentation ``docs/api/rest/authentication.md`` describes them
(``Authorization: Basic base64(applicationKey:clientKey)``, form body
``grant_type=client_credentials``, answer ``access_token``, ``token_type: bearer``,
``expires_in``). A refused key pair answers OAuth2's 400 ``invalid_client`` (RFC 6749,
section 5.2), which the v1 page does not show (README, "What the defaults assume")."""

from __future__ import annotations

import base64
import binascii
from functools import partial
from typing import TYPE_CHECKING

from flask import Flask, Response, request

from audit.systems.poweroffice.sim.replies import json_response, route

if TYPE_CHECKING:
    from audit.systems.poweroffice.sim.server import Simulator


def register_token_routes(app: Flask, sim: Simulator) -> None:
    """``POST /OAuth/Token`` (v2) and ``POST /v1/OAuth/Token`` (v1)."""
    route(app, "/OAuth/Token", "token_v2", partial(token, sim, "v2"), "POST")
    route(app, "/v1/OAuth/Token", "token_v1", partial(token, sim, "v1"), "POST")


def _basic_pair() -> str | None:
    """The ``key:key`` pair of a Basic ``Authorization`` header, or ``None``."""
    auth = request.headers.get("Authorization", "")
    if not auth.lower().startswith("basic "):
        return None
    try:
        return base64.b64decode(auth[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None


def token(sim: Simulator, generation: str) -> Response:
    """A new access token for the right key pair and grant type, else an OAuth error."""
    if _basic_pair() != f"{sim.keys.application_key}:{sim.keys.client_key}":
        return json_response({"error": "invalid_client"}, 400)
    if request.form.get("grant_type") != "client_credentials":
        return json_response({"error": "unsupported_grant_type"}, 400)
    value, lifetime = sim._issue_token(generation)
    return json_response({"access_token": value, "token_type": "bearer", "expires_in": int(lifetime)})
