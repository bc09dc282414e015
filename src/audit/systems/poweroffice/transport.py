"""One HTTP exchange with PowerOffice Go, done right: rate limit, token, retries, errors.

:class:`ApiClient` wraps an injected :class:`requests.Session` and gives the connector
``get``/``request`` calls that

- wait for a slot of the client-side :class:`RateLimiter` (a token bucket: the API's rate
  limit is kept here, never discovered through 429s);
- carry a bearer token from :class:`TokenProvider`, renewed before it expires, and are
  sent once more with a fresh token after a 401;
- are retried by tenacity with exponential backoff on 429, 5xx, timeouts and dropped or
  reset connections, honouring ``Retry-After``;
- turn every failure into the toolkit's exception tree, with the URL redacted.

The parts live beside this module: :mod:`~audit.systems.poweroffice.ratelimit`,
:mod:`~audit.systems.poweroffice.tokens`, :mod:`~audit.systems.http.retries` and
:mod:`~audit.systems.poweroffice.responses`; their public names are importable from here.

Exceptions (all from :mod:`audit.errors`)::

    ExternalError
    +-- ApiError              an error answer that retries did not cure (status, URL)
    |   +-- AuthError         keys or token refused; the message names WHICH key
    |   +-- HttpStatusError   any other error status (``status``, ``url``)
    |   +-- MalformedResponse a 2xx answer that is not the JSON the API promises
    +-- ApiUnreachable        no answer (timeouts, refused or dropped connections)
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from audit.errors import ApiUnreachable, AuthError
from audit.systems.http import redaction
from audit.systems.http.retries import (
    NETWORK_ERRORS,
    RETRY_STATUSES,
    Retryable,
    WaitRetryAfter,
)
from audit.systems.http.retries import (
    retry_after_seconds as _retry_after_seconds,
)
from audit.systems.poweroffice.ratelimit import RateLimiter
from audit.systems.poweroffice.responses import (
    HttpStatusError,
    MalformedResponse,
    decode_json,
    describe_error,
    is_subscription_refusal,
)
from audit.systems.poweroffice.settings import ENV_SUBSCRIPTION_KEY, Endpoint
from audit.systems.poweroffice.tokens import TokenProvider

log = logging.getLogger("audit.systems.poweroffice.transport")

#: v2 only, on every call including the token call. From PowerOffice's v2 developer pages
#: (the v2 OpenAPI document declares no security scheme): README, "What the defaults assume".
SUBSCRIPTION_HEADER = "Ocp-Apim-Subscription-Key"


class ApiClient:
    """Authenticated, rate-limited, retried requests against one generation's base URL.

    Parameters
    ----------
    endpoint
        The resolved settings of one generation (:meth:`ConnectionSettings.endpoint`).
    session
        The HTTP session to use; a new one (pool sized for ``endpoint.concurrency``)
        when omitted. An injected session is not closed by :meth:`close`.
    limiter
        The rate limiter; a bucket of ``endpoint.rate_limit`` requests/second holding
        ``endpoint.rate_burst`` slots when omitted. Pass one limiter to several clients
        that share a key (v2's limit is per subscription key).
    """

    def __init__(
        self,
        endpoint: Endpoint,
        session: requests.Session | None = None,
        limiter: RateLimiter | None = None,
        clock=time.monotonic,
    ):
        self.endpoint = endpoint
        self._own_session = session is None
        self.session = session or make_session(pool_size=endpoint.concurrency + 2)
        self.limiter = limiter or RateLimiter(endpoint.rate_limit, burst=endpoint.rate_burst)
        self.clock = clock
        self.tokens = TokenProvider(self)
        self.requests_sent = 0
        self.retries = 0
        self.rate_limited = 0
        self._count_lock = threading.Lock()
        redaction.install()

    def close(self) -> None:
        if self._own_session:
            self.session.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path
        return self.endpoint.base_url + "/" + path.lstrip("/")

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> requests.Response:
        """An authenticated GET; returns the 2xx response (raises otherwise)."""
        return self.request("GET", path, params=params)

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
        data: bytes | None = None,
    ) -> requests.Response:
        """An authenticated request; returns the 2xx response.

        GET is retried on every transient failure; other methods only on 429 (the request
        was refused before it was processed), so a write is never applied twice.

        ``data`` is a body already encoded (with its ``Content-Type`` in ``headers``), for
        JSON that ``requests`` cannot write exactly (decimals, :mod:`audit.core.exact_json`).

        Raises
        ------
        AuthError
            The token or the subscription key was refused, also after one fresh token.
        ApiError
            Any other error answer (4xx, or 5xx/429 after the last retry).
        ApiUnreachable
            No answer after the last retry.
        """
        url = self.url(path)
        idempotent = method.upper() in ("GET", "HEAD", "OPTIONS")
        for attempt in (1, 2):
            token = self.tokens.get()
            hdrs = {"Authorization": f"Bearer {token}", "Accept": "application/json", **(headers or {})}
            response = self._send_with_retries(
                method, url, params=params, json=json_body, data=data, headers=hdrs, idempotent=idempotent
            )
            if response.status_code == 401:
                self._after_401(method, response, token, last=attempt == 2)
                continue
            self._raise_for_status(method, response)
            return response
        raise AssertionError("unreachable")  # pragma: no cover

    def _after_401(self, method: str, response: requests.Response, token: str, last: bool) -> None:
        """Drop the refused token so the next try gets a fresh one; raise :class:`AuthError`
        when the subscription key was refused or a fresh token was refused too."""
        if self.endpoint.api == "v2" and is_subscription_refusal(response):
            raise AuthError(
                f"the subscription key was refused ({method} {redaction.redact_url(response.url)} "
                f"answered 401: {describe_error(response)}); check {ENV_SUBSCRIPTION_KEY}"
            )
        self.tokens.invalidate(token)
        if last:
            raise AuthError(
                f"the API refused a freshly issued access token ({method} "
                f"{redaction.redact_url(response.url)} answered 401: {describe_error(response)})"
            )
        log.info(
            "401 from %s: renewing the access token and trying once more",
            redaction.redact_url(response.url),
        )

    def _raise_for_status(self, method: str, response: requests.Response) -> None:
        """:class:`AuthError` for a 403, :class:`HttpStatusError` for any other error status."""
        if response.status_code == 403:
            raise AuthError(
                f"access denied ({method} {redaction.redact_url(response.url)} answered 403: "
                f"{describe_error(response)}); the keys lack access to this resource"
            )
        if response.status_code >= 400:
            shown = redaction.redact_url(response.url)
            tries = ""
            if response.status_code in RETRY_STATUSES:
                tries = f" (after {self.endpoint.retry.max_attempts} attempts)"
            raise HttpStatusError(
                f"{method} {shown} answered {response.status_code}{tries}: {describe_error(response)}",
                status=response.status_code,
                url=shown,
            )

    def _send_with_retries(self, method: str, url: str, *, idempotent: bool, **kwargs: Any) -> requests.Response:
        """Send with the retry policy; returns the final response (any status) or raises."""
        ep = self.endpoint
        retry_on: tuple[type[BaseException], ...] = (Retryable, *NETWORK_ERRORS) if idempotent else (Retryable,)
        retrying = Retrying(
            retry=retry_if_exception_type(retry_on),
            wait=WaitRetryAfter(ep.retry),
            stop=stop_after_attempt(ep.retry.max_attempts),
            before_sleep=self._before_sleep,
            reraise=True,
        )
        try:
            return retrying(self._send_once, method, url, idempotent, **kwargs)
        except Retryable as exc:
            response = exc.response
            return response
        except NETWORK_ERRORS as exc:
            raise ApiUnreachable(
                f"{method} {redaction.redact_url(url)} got no answer after "
                f"{ep.retry.max_attempts} attempts: {type(exc).__name__}: {redaction.redact(str(exc))[:300]}"
            ) from None

    def _send_once(self, method: str, url: str, idempotent: bool, **kwargs: Any) -> requests.Response:
        self.limiter.acquire()
        headers = dict(kwargs.pop("headers", None) or {})
        if self.endpoint.subscription_key is not None:
            headers[SUBSCRIPTION_HEADER] = self.endpoint.subscription_key.get_secret_value()
        with self._count_lock:
            self.requests_sent += 1
        response = self.session.request(
            method, url, headers=headers, timeout=self.endpoint.timeouts.as_requests(), **kwargs
        )
        log.debug("%s %s -> %s", method, redaction.redact_url(response.url), response.status_code)
        if response.status_code in RETRY_STATUSES and (idempotent or response.status_code == 429):
            if response.status_code == 429:
                with self._count_lock:
                    self.rate_limited += 1
            raise Retryable(response, _retry_after_seconds(response))
        return response

    def _before_sleep(self, state: RetryCallState) -> None:
        with self._count_lock:
            self.retries += 1
        exc = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        if isinstance(exc, Retryable):
            why = str(exc)
        else:
            why = f"{type(exc).__name__}: {redaction.redact(str(exc))[:200]}"
        log.info("attempt %d failed (%s); retrying in %.2f s", state.attempt_number, why, wait)


def make_session(pool_size: int = 8) -> requests.Session:
    """A session with a connection pool of ``pool_size`` and no transport-level retries
    (retries are the :class:`ApiClient`'s job, so they are counted and logged once)."""
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=2, pool_maxsize=pool_size, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = "sesam-sync-audit/0.1 (+connector)"
    return session


__all__ = [
    "RETRY_STATUSES",
    "SUBSCRIPTION_HEADER",
    "ApiClient",
    "HttpStatusError",
    "MalformedResponse",
    "RateLimiter",
    "TokenProvider",
    "decode_json",
    "make_session",
]
