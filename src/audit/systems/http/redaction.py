"""Keeping secrets out of log lines, messages and manifests.

Two layers work together:

- a process-wide registry of known secret values (:func:`register_secret`): the keys
  read from the settings and every access token the connector receives are registered,
  and :func:`redact` replaces each occurrence with ``***``;
- patterns for the places a secret travels even when its value is not registered
  (``Authorization: Basic/Bearer ...``, ``access_token``, ``Ocp-Apim-Subscription-Key``,
  secret-looking query parameters and URL user info).

:class:`RedactingFilter` applies :func:`redact` to every log record; :func:`install`
attaches it to the loggers that see URLs and headers (the toolkit's own, urllib3,
requests, werkzeug), so that whatever handler a caller configures receives clean text.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable, Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MASK = "***"

#: Loggers :func:`install` protects. Filters on a logger act on records created on that
#: logger, so each logger that may see a URL or a header is named here.
PROTECTED_LOGGERS = (
    "audit",
    "audit.systems.poweroffice.transport",
    "audit.systems.poweroffice.connector",
    "audit.systems.poweroffice.fetch",
    "audit.systems.poweroffice.sim.server",
    "audit.systems.sesam.client",
    "audit.writeback",
    "urllib3",
    "urllib3.connectionpool",
    "requests",
    "werkzeug",
)

#: Query parameters and header names whose value is always a secret.
SECRET_NAMES = {
    "authorization",
    "ocp-apim-subscription-key",
    "subscription-key",
    "subscription_key",
    "access_token",
    "client_secret",
    "client_key",
    "application_key",
    "applicationkey",
    "clientkey",
    "token",
    "apikey",
    "api_key",
    "code",
}

_lock = threading.Lock()
_secrets: set[str] = set()

_PATTERNS = [
    (re.compile(r"(?i)\b(Basic|Bearer)\s+[A-Za-z0-9._~+/=-]{4,}"), r"\1 " + MASK),
    (re.compile(r'(?i)("?(?:access_token|client_secret)"?\s*[:=]\s*"?)[^"&\s,}]+'), r"\1" + MASK),
    (re.compile(r'(?i)("?Ocp-Apim-Subscription-Key"?\s*[:=]\s*["\']?)[^"\'&\s,}]+'), r"\1" + MASK),
    (re.compile(r"(?i)(https?://)[^/@\s:]+:[^/@\s]+@"), r"\1" + MASK + "@"),
]


def register_secret(value: str | None) -> None:
    """Remember a secret value so that :func:`redact` masks it wherever it appears.

    Values shorter than four characters are ignored (masking them would garble text).
    """
    if value and len(value) >= 4:
        with _lock:
            _secrets.add(value)


def forget_secrets() -> None:
    """Clear the registry (tests use it to start from a known state)."""
    with _lock:
        _secrets.clear()


def redact(text: str) -> str:
    """``text`` with every registered secret and every recognisable credential masked."""
    if not text:
        return text
    with _lock:
        known = sorted(_secrets, key=len, reverse=True)
    for value in known:
        if value in text:
            text = text.replace(value, MASK)
    for pattern, repl in _PATTERNS:
        text = pattern.sub(repl, text)
    return text


def redact_url(url: str) -> str:
    """A URL safe to show: user info dropped, secret query parameters masked, and any
    registered secret masked."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return redact(url)
    netloc = parts.netloc.rsplit("@", 1)[-1]
    query = parts.query
    if query:
        pairs = [
            (k, MASK if k.lower() in SECRET_NAMES else v) for k, v in parse_qsl(query, keep_blank_values=True)
        ]
        query = urlencode(pairs, safe="$,:'()")
    return redact(urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment)))


def public_url(url: str) -> str:
    """A base URL without user info, query or fragment (for manifests and messages)."""
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)[-1]
    return redact(urlunsplit((parts.scheme, netloc, parts.path, "", "")))


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """A copy of ``headers`` with secret header values masked."""
    return {k: (MASK if k.lower() in SECRET_NAMES else redact(str(v))) for k, v in headers.items()}


class RedactingFilter(logging.Filter):
    """Rewrites each record's message with :func:`redact`; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: leave it to the handler to report
            return True
        clean = redact(message)
        if clean != message or record.args:
            record.msg = clean
            record.args = None
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


_FILTER = RedactingFilter()


def install(extra_loggers: Iterable[str] = ()) -> None:
    """Attach the redacting filter to the protected loggers (idempotent)."""
    for name in (*PROTECTED_LOGGERS, *extra_loggers):
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
