"""OAuth2 client-credentials access tokens for one endpoint, renewed before they expire.

The exchange is PowerOffice/go-api-documentation ``docs/api/rest/authentication.md``:
``POST {base}/OAuth/Token`` with ``Authorization: Basic base64(applicationKey:clientKey)``,
``Content-Type: application/x-www-form-urlencoded`` and ``grant_type=client_credentials``;
the answer ``{"access_token", "token_type": "bearer", "expires_in"}``; no refresh token
("You will then need to request a new access token"). v2 uses the same flow at its own
token URL, plus the subscription key header (:mod:`~audit.systems.poweroffice.transport`;
the v2 OpenAPI document has no security scheme: README, "What the defaults assume").
"""

from __future__ import annotations

import base64
import logging
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

import requests

from audit.errors import ApiError, AuthError
from audit.systems.http import redaction
from audit.systems.poweroffice.responses import MalformedResponse, describe_error, is_subscription_refusal
from audit.systems.poweroffice.settings import ENV_APPLICATION_KEY, ENV_CLIENT_KEY, ENV_SUBSCRIPTION_KEY

if TYPE_CHECKING:
    from audit.systems.poweroffice.transport import ApiClient

log = logging.getLogger("audit.systems.poweroffice.transport")


@dataclass
class _Token:
    value: str
    renew_at: float


class TokenProvider:
    """OAuth2 client-credentials tokens for one endpoint, renewed before they expire.

    Thread-safe: concurrent callers share one token and only one of them asks for a new
    one. ``renew_at`` is ``expires_in - token_refresh_margin`` after issue, but never less
    than half the lifetime (so short test lifetimes still reuse their token).
    """

    def __init__(self, client: ApiClient):
        self._client = client
        self._lock = threading.Lock()
        self._token: _Token | None = None
        self.issued = 0

    def get(self) -> str:
        with self._lock:
            if self._token is None or self._client.clock() >= self._token.renew_at:
                self._token = self._fetch()
            return self._token.value

    def invalidate(self, value: str) -> None:
        """Drop ``value`` if it is still the current token (after a 401)."""
        with self._lock:
            if self._token is not None and self._token.value == value:
                self._token = None

    def _fetch(self) -> _Token:
        ep = self._client.endpoint
        pair = f"{ep.application_key.get_secret_value()}:{ep.client_key.get_secret_value()}"
        basic = base64.b64encode(pair.encode("utf-8")).decode("ascii")
        redaction.register_secret(basic)
        headers = {"Authorization": f"Basic {basic}", "Accept": "application/json"}
        started = self._client.clock()
        response = self._client._send_with_retries(
            "POST",
            ep.token_url,
            headers=headers,
            data={"grant_type": "client_credentials"},
            idempotent=True,
        )
        if response.status_code != 200:
            raise self._refusal(response)
        value, lifetime = self._read_token(response)
        redaction.register_secret(value)
        self.issued += 1
        lead = max(lifetime - ep.token_refresh_margin, lifetime / 2)
        log.debug("new %s access token, lifetime %.0f s", ep.api, lifetime)
        return _Token(value=value, renew_at=started + lead)

    def _read_token(self, response: requests.Response) -> tuple[str, float]:
        """The token and its lifetime from the token endpoint's 200 answer."""
        url = self._client.endpoint.token_url
        try:
            body = response.json()
            value = body["access_token"]
            lifetime = float(body.get("expires_in") or 600)
        except (ValueError, KeyError, TypeError):
            raise MalformedResponse(
                f"the token endpoint {redaction.redact_url(url)} answered 200 without a JSON access_token"
            ) from None
        if not isinstance(value, str) or not value:
            raise MalformedResponse(f"the token endpoint {redaction.redact_url(url)} gave an empty token")
        return value, lifetime

    def _refusal(self, response: requests.Response) -> ApiError:
        ep = self._client.endpoint
        url = redaction.redact_url(ep.token_url)
        said = describe_error(response)
        status = response.status_code
        if ep.api == "v2" and status == 401 and is_subscription_refusal(response):
            return AuthError(
                f"the subscription key was refused (POST {url} answered {status}: {said}); check {ENV_SUBSCRIPTION_KEY}"
            )
        if status in (400, 401, 403):
            return AuthError(
                f"the application key / client key was refused by the token endpoint "
                f"(POST {url} answered {status}: {said}); check {ENV_APPLICATION_KEY} and {ENV_CLIENT_KEY}"
            )
        return ApiError(f"the token endpoint POST {url} answered {status}: {said}")
