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

Exceptions (all from :mod:`audit.errors`)::

    ExternalError
    +-- ApiError              an error answer that retries did not cure (status, URL)
    |   +-- AuthError         keys or token refused; the message names WHICH key
    |   +-- HttpStatusError   any other error status (``status``, ``url``)
    |   +-- MalformedResponse a 2xx answer that is not the JSON the API promises
    +-- ApiUnreachable        no answer (timeouts, refused or dropped connections)
"""

from __future__ import annotations

import base64
import json
import logging
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from audit.errors import ApiError, ApiUnreachable, AuthError
from audit.systems.poweroffice import redaction
from audit.systems.poweroffice.settings import ENV_APPLICATION_KEY, ENV_CLIENT_KEY, ENV_SUBSCRIPTION_KEY, Endpoint

log = logging.getLogger("audit.systems.poweroffice.transport")

SUBSCRIPTION_HEADER = "Ocp-Apim-Subscription-Key"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_NETWORK_ERRORS = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError)


class HttpStatusError(ApiError):
    """An error answer; ``status`` and ``url`` (redacted) say which."""

    def __init__(self, message: str, status: int, url: str):
        self.status = status
        self.url = url
        super().__init__(message)


class MalformedResponse(ApiError):
    """A successful answer whose body is not the JSON the API promises."""


class _Retryable(Exception):
    """A status worth another try (429 or 5xx); carries the server's Retry-After."""

    def __init__(self, response: requests.Response, retry_after: float | None):
        self.response = response
        self.retry_after = retry_after
        super().__init__(f"{response.status_code} from {redaction.redact_url(response.url)}")


class RateLimiter:
    """A thread-safe token bucket: ``rate`` requests per second, bursts up to ``burst``.

    :meth:`acquire` blocks until a request may go. With ``burst=1`` requests are spaced
    evenly ``1/rate`` apart; a larger ``burst`` lets a caller that was held up by a slow
    answer make up the slots it missed. Over any ``T`` seconds at most ``burst + rate*T``
    requests go.
    """

    def __init__(self, rate: float, burst: float = 1.0, clock=time.monotonic, sleep=time.sleep):
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = float(rate)
        self.burst = max(1.0, float(burst))
        self._clock = clock
        self._sleep = sleep
        self._tokens = self.burst
        self._last = clock()
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Take one slot, waiting as needed; returns the seconds waited."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
            self._last = now
            self._tokens -= 1.0
            wait = -self._tokens / self.rate if self._tokens < 0 else 0.0
        # The slot is reserved under the lock (tokens may go negative); the wait itself
        # happens outside it, so waiting threads queue in order without holding the lock.
        if wait > 0:
            self._sleep(wait)
        return wait


_TRY_AGAIN = re.compile(r"try again in (\d+(?:\.\d+)?) seconds?", re.IGNORECASE)


def _retry_after_seconds(response: requests.Response) -> float | None:
    """The wait the server asks for: ``Retry-After`` (seconds or an HTTP date), else the
    429 body's "Try again in N seconds", else ``None``."""
    value = response.headers.get("Retry-After")
    if not value:
        if response.status_code == 429:
            found = _TRY_AGAIN.search(response.text[:500])
            if found:
                return float(found.group(1))
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class _WaitRetryAfter:
    """tenacity wait: the server's ``Retry-After`` when given, else exponential backoff;
    a 429 without ``Retry-After`` waits at least ``rate_limited_wait``."""

    def __init__(self, endpoint: Endpoint):
        policy = endpoint.retry
        self._policy = policy
        self._backoff = wait_exponential_jitter(
            initial=policy.backoff_initial, max=policy.backoff_max, jitter=policy.backoff_initial
        )

    def __call__(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        backoff = self._backoff(state)
        if isinstance(exc, _Retryable):
            if exc.retry_after is not None:
                return min(exc.retry_after, self._policy.retry_after_max)
            if exc.response.status_code == 429:
                return max(backoff, self._policy.rate_limited_wait)
        return backoff


def _describe_error(response: requests.Response) -> str:
    """The API's own words for an error answer (ProblemDetails, v1 wrapper, OAuth)."""
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip().replace("\n", " ")
        return redaction.redact(text[:200]) if text else response.reason or ""
    if isinstance(body, dict):
        parts = [
            str(body[k])
            for k in ("error", "title", "detail", "message", "Message", "error_description")
            if body.get(k)
        ]
        if parts:
            return redaction.redact(": ".join(dict.fromkeys(parts)))
    return redaction.redact(json.dumps(body, ensure_ascii=False)[:200])


def _is_subscription_refusal(response: requests.Response) -> bool:
    text = response.text.lower()
    return "subscription key" in text or "subscription-key" in text


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
        try:
            body = response.json()
            value = body["access_token"]
            lifetime = float(body.get("expires_in") or 600)
        except (ValueError, KeyError, TypeError):
            raise MalformedResponse(
                f"the token endpoint {redaction.redact_url(ep.token_url)} answered 200 without "
                "a JSON access_token"
            ) from None
        if not isinstance(value, str) or not value:
            raise MalformedResponse(
                f"the token endpoint {redaction.redact_url(ep.token_url)} gave an empty token"
            )
        redaction.register_secret(value)
        self.issued += 1
        lead = max(lifetime - ep.token_refresh_margin, lifetime / 2)
        log.debug("new %s access token, lifetime %.0f s", ep.api, lifetime)
        return _Token(value=value, renew_at=started + lead)

    def _refusal(self, response: requests.Response) -> ApiError:
        ep = self._client.endpoint
        url = redaction.redact_url(ep.token_url)
        said = _describe_error(response)
        status = response.status_code
        if ep.api == "v2" and status == 401 and _is_subscription_refusal(response):
            return AuthError(
                f"the subscription key was refused (POST {url} answered {status}: {said}); "
                f"check {ENV_SUBSCRIPTION_KEY}"
            )
        if status in (400, 401, 403):
            return AuthError(
                f"the application key / client key was refused by the token endpoint "
                f"(POST {url} answered {status}: {said}); check {ENV_APPLICATION_KEY} and {ENV_CLIENT_KEY}"
            )
        return ApiError(f"the token endpoint POST {url} answered {status}: {said}")


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
    ) -> requests.Response:
        """An authenticated request; returns the 2xx response.

        GET is retried on every transient failure; other methods only on 429 (the request
        was refused before it was processed), so a write is never applied twice.

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
                method, url, params=params, json=json_body, headers=hdrs, idempotent=idempotent
            )
            if response.status_code == 401:
                if self.endpoint.api == "v2" and _is_subscription_refusal(response):
                    raise AuthError(
                        f"the subscription key was refused ({method} {redaction.redact_url(response.url)} "
                        f"answered 401: {_describe_error(response)}); check {ENV_SUBSCRIPTION_KEY}"
                    )
                self.tokens.invalidate(token)
                if attempt == 1:
                    log.info(
                        "401 from %s: renewing the access token and trying once more",
                        redaction.redact_url(response.url),
                    )
                    continue
                raise AuthError(
                    f"the API refused a freshly issued access token ({method} "
                    f"{redaction.redact_url(response.url)} answered 401: {_describe_error(response)})"
                )
            if response.status_code == 403:
                raise AuthError(
                    f"access denied ({method} {redaction.redact_url(response.url)} answered 403: "
                    f"{_describe_error(response)}); the keys lack access to this resource"
                )
            if response.status_code >= 400:
                shown = redaction.redact_url(response.url)
                tries = ""
                if response.status_code in RETRY_STATUSES:
                    tries = f" (after {self.endpoint.retry.max_attempts} attempts)"
                raise HttpStatusError(
                    f"{method} {shown} answered {response.status_code}{tries}: {_describe_error(response)}",
                    status=response.status_code,
                    url=shown,
                )
            return response
        raise AssertionError("unreachable")  # pragma: no cover

    def _send_with_retries(
        self, method: str, url: str, *, idempotent: bool, **kwargs: Any
    ) -> requests.Response:
        """Send with the retry policy; returns the final response (any status) or raises."""
        ep = self.endpoint
        retry_on: tuple[type[BaseException], ...] = (
            (_Retryable, *_NETWORK_ERRORS) if idempotent else (_Retryable,)
        )
        retrying = Retrying(
            retry=retry_if_exception_type(retry_on),
            wait=_WaitRetryAfter(ep),
            stop=stop_after_attempt(ep.retry.max_attempts),
            before_sleep=self._before_sleep,
            reraise=True,
        )
        try:
            return retrying(self._send_once, method, url, idempotent, **kwargs)
        except _Retryable as exc:
            response = exc.response
            return response
        except _NETWORK_ERRORS as exc:
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
            raise _Retryable(response, _retry_after_seconds(response))
        return response

    def _before_sleep(self, state: RetryCallState) -> None:
        with self._count_lock:
            self.retries += 1
        exc = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        if isinstance(exc, _Retryable):
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


def decode_json(response: requests.Response, what: str) -> Any:
    """The JSON body of a 2xx answer; :class:`MalformedResponse` naming the URL if not."""
    if response.status_code == 204 or not response.content:
        return None
    try:
        return response.json()
    except ValueError as exc:
        snippet = redaction.redact(response.text[:80].replace("\n", " "))
        raise MalformedResponse(
            f"{what}: {redaction.redact_url(response.url)} answered {response.status_code} with a body "
            f"that is not JSON ({exc}); it begins {snippet!r}"
        ) from None
