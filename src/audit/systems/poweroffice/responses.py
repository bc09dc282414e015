"""What an answer of PowerOffice Go means: its error exceptions, the API's own words for
an error, and the JSON body of a successful answer."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import requests

from audit.errors import ApiError
from audit.systems.http import redaction


class HttpStatusError(ApiError):
    """An error answer; ``status`` and ``url`` (redacted) say which."""

    def __init__(self, message: str, status: int, url: str):
        self.status = status
        self.url = url
        super().__init__(message)


class MalformedResponse(ApiError):
    """A successful answer whose body is not the JSON the API promises."""


class ApiRefusal(ApiError):
    """v1 refused a well-formed request: HTTP 200 with ``"success": false`` and a
    ``validation`` object instead of ``data`` (PowerOffice/go-api-documentation,
    ``docs/api/rest/apicalls.md``, "Error handling"). ``summary`` is the API's message."""

    def __init__(self, message: str, summary: str, url: str):
        self.summary = summary
        self.url = url
        super().__init__(message)


def v1_refusal_text(body: Any) -> str | None:
    """The API's words when a v1 body says ``success: false`` (``validation.summary``,
    then ``exception`` and ``errorLogReference``), else ``None``."""
    if not isinstance(body, dict) or body.get("success") is not False:
        return None
    validation = body.get("validation")
    if isinstance(validation, dict):
        parts = [str(validation[k]) for k in ("summary", "exception") if validation.get(k)]
        ref = validation.get("errorLogReference")
        text = ": ".join(parts) or "no summary"
        return redaction.redact(f"{text} (errorLogReference {ref})" if ref else text)
    message = body.get("message") or body.get("Message")
    return redaction.redact(str(message)) if message else "success=false without a validation object"


def v1_data(body: Any, what: str, url: str) -> Any:
    """The ``data`` of a v1 answer; :class:`ApiRefusal` with the API's message when the
    answer says ``success: false`` (whatever its HTTP status)."""
    refused = v1_refusal_text(body)
    if refused is not None:
        raise ApiRefusal(f"{what}: {url} answered success=false: {refused}", refused, url)
    return body.get("data") if isinstance(body, dict) else body


def describe_error(response: requests.Response) -> str:
    """The API's own words for an error answer (ProblemDetails, v1 wrapper, OAuth)."""
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip().replace("\n", " ")
        return redaction.redact(text[:200]) if text else response.reason or ""
    refused = v1_refusal_text(body)
    if refused is not None:
        return refused
    if isinstance(body, dict):
        # ProblemDetails is PascalCase in the v2 OpenAPI document (``Title``, ``Detail``);
        # ASP.NET writes it camelCase by default: both spellings are read.
        keys = ("error", "title", "Title", "detail", "Detail", "message", "Message", "error_description")
        parts = [str(body[k]) for k in keys if body.get(k)]
        if parts:
            return redaction.redact(": ".join(dict.fromkeys(parts)))
    return redaction.redact(json.dumps(body, ensure_ascii=False)[:200])


def is_subscription_refusal(response: requests.Response) -> bool:
    """Whether a 401 is API Management refusing the subscription key."""
    text = response.text.lower()
    return "subscription key" in text or "subscription-key" in text


def decode_json(response: requests.Response, what: str, parse_float: Callable[[str], Any] | None = None) -> Any:
    """The JSON body of a 2xx answer; :class:`MalformedResponse` naming the URL if not.

    ``parse_float`` reads decimal numbers (``decimal.Decimal`` keeps ``150.50`` exact).
    """
    if response.status_code == 204 or not response.content:
        return None
    try:
        return response.json(parse_float=parse_float) if parse_float else response.json()
    except ValueError as exc:
        snippet = redaction.redact(response.text[:80].replace("\n", " "))
        raise MalformedResponse(
            f"{what}: {redaction.redact_url(response.url)} answered {response.status_code} with a body "
            f"that is not JSON ({exc}); it begins {snippet!r}"
        ) from None
