"""What an answer of PowerOffice Go means: its error exceptions, the API's own words for
an error, and the JSON body of a successful answer."""

from __future__ import annotations

import json
from typing import Any

import requests

from audit.errors import ApiError
from audit.systems.poweroffice import redaction


class HttpStatusError(ApiError):
    """An error answer; ``status`` and ``url`` (redacted) say which."""

    def __init__(self, message: str, status: int, url: str):
        self.status = status
        self.url = url
        super().__init__(message)


class MalformedResponse(ApiError):
    """A successful answer whose body is not the JSON the API promises."""


def describe_error(response: requests.Response) -> str:
    """The API's own words for an error answer (ProblemDetails, v1 wrapper, OAuth)."""
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip().replace("\n", " ")
        return redaction.redact(text[:200]) if text else response.reason or ""
    if isinstance(body, dict):
        parts = [
            str(body[k]) for k in ("error", "title", "detail", "message", "Message", "error_description") if body.get(k)
        ]
        if parts:
            return redaction.redact(": ".join(dict.fromkeys(parts)))
    return redaction.redact(json.dumps(body, ensure_ascii=False)[:200])


def is_subscription_refusal(response: requests.Response) -> bool:
    """Whether a 401 is API Management refusing the subscription key."""
    text = response.text.lower()
    return "subscription key" in text or "subscription-key" in text


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
