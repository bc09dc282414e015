"""When a request is tried again and how long to wait: transient statuses, network
errors, the server's ``Retry-After`` and exponential backoff (for tenacity)."""

from __future__ import annotations

import re
from typing import Any

import requests
from tenacity import RetryCallState, wait_exponential_jitter
from urllib3.exceptions import InvalidHeader
from urllib3.util.retry import Retry

from audit.systems.http import redaction

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
NETWORK_ERRORS = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError)

_TRY_AGAIN = re.compile(r"try again in (\d+(?:\.\d+)?) seconds?", re.IGNORECASE)


class Retryable(Exception):
    """A status worth another try (429 or 5xx); carries the server's Retry-After."""

    def __init__(self, response: requests.Response, retry_after: float | None):
        self.response = response
        self.retry_after = retry_after
        super().__init__(f"{response.status_code} from {redaction.redact_url(response.url)}")


def retry_after_seconds(response: requests.Response) -> float | None:
    """The wait the server asks for: ``Retry-After`` (seconds or an HTTP date), else the
    429 body's "Try again in N seconds", else ``None``."""
    value = response.headers.get("Retry-After")
    if not value:
        if response.status_code == 429:
            found = _TRY_AGAIN.search(response.text[:500])
            if found:
                return float(found.group(1))
        return None
    try:  # seconds or an HTTP date (RFC 9110, 10.2.3), read as urllib3 reads it
        return float(Retry().parse_retry_after(value))
    except InvalidHeader:
        return None


class WaitRetryAfter:
    """tenacity wait: the server's ``Retry-After`` when given, else exponential backoff;
    a 429 without ``Retry-After`` waits at least ``rate_limited_wait``."""

    def __init__(self, policy: Any):
        """``policy`` holds ``backoff_initial``, ``backoff_max``, ``retry_after_max`` and
        ``rate_limited_wait`` in seconds (a system's retry settings)."""
        self._policy = policy
        self._backoff = wait_exponential_jitter(
            initial=policy.backoff_initial, max=policy.backoff_max, jitter=policy.backoff_initial
        )

    def __call__(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        backoff = self._backoff(state)
        if isinstance(exc, Retryable):
            if exc.retry_after is not None:
                return min(exc.retry_after, self._policy.retry_after_max)
            if exc.response.status_code == 429:
                return max(backoff, self._policy.rate_limited_wait)
        return backoff
