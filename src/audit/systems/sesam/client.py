"""Read a dataset from a Sesam node's Service API into an export file, page by page.

``GET <node>/api/datasets/<dataset id>/entities`` answers a JSON array of entities
(datanav/docs ``hub/api.rst``, "Get the content of the dataset"; parameters in
``hub/swagger_public.yaml``, path ``/datasets/{dataset_id}/entities``):

- ``limit``: the most entities an answer holds (a page, ``SESAM_PAGE_SIZE``);
- ``since``: "an opaque value that can be used to efficiently skip already seen
  entities"; an entity's ``_updated`` "can be passed through to the ``since`` request
  parameter" (``entitymodel.rst``), so the next page asks ``since=<last _updated>``;
- ``history=false``: only the latest version of each entity;
- ``deleted=true`` (the default, said explicitly): deleted entities are kept in the
  export as Sesam has them; the audit ignores them.

Where the documents are silent we assume (README, "Where links come from"): ``since``
is exclusive (an entity whose ``_updated`` was already seen is still dropped, once),
and the last page is the first one shorter than ``limit``.

Every request carries ``Authorization: Bearer <JWT>`` (``hub/api.rst``, "using_jwt_token").
Like ``audit fetch``: 429 and 5xx answers, timeouts and dropped connections are retried
by tenacity with exponential backoff, honouring ``Retry-After``; the JWT is registered
for redaction and never logged or shown; the file is written beside its final name and
renamed into place, so a failed read leaves an existing export untouched.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import requests
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from audit.errors import ApiError, ApiUnreachable, AuthError, ConfigError
from audit.systems.http import redaction
from audit.systems.http.retries import (
    NETWORK_ERRORS,
    RETRY_STATUSES,
    Retryable,
    WaitRetryAfter,
    retry_after_seconds,
)
from audit.systems.sesam.settings import ENV_JWT, SesamSettings

log = logging.getLogger("audit.systems.sesam.client")

__all__ = ["DatasetRead", "entities_url", "read_dataset"]


@dataclass
class DatasetRead:
    """What :func:`read_dataset` did."""

    out: Path
    entities: int = 0
    deleted: int = 0
    pages: int = 0
    requests: int = 0
    retries: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


def entities_url(node: str, dataset: str) -> str:
    """The entities URL of ``dataset`` on ``node`` (given with or without ``/api``).

    Raises
    ------
    ConfigError
        ``node`` is not an http(s) URL with a host.
    """
    parts = urlsplit(node)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"--node {node!r}: not an http(s) URL of a Sesam node (https://NODE.sesam.cloud)")
    base = node.rstrip("/")
    if base.endswith("/api"):
        base = base[: -len("/api")]
    return f"{base}/api/datasets/{quote(dataset, safe='')}/entities"


class _Pager:
    """One dataset read: a session, the retry policy and the counts."""

    def __init__(self, url: str, settings: SesamSettings, session: requests.Session):
        self.url, self.settings, self.session = url, settings, session
        self.requests = self.retries = 0

    def _before_sleep(self, state: RetryCallState) -> None:
        self.retries += 1
        exc = state.outcome.exception() if state.outcome else None
        log.info("attempt %d failed (%s); retrying", state.attempt_number, redaction.redact(str(exc))[:200])

    def _once(self, params: dict[str, Any]) -> requests.Response:
        self.requests += 1
        headers = {"Authorization": f"Bearer {self.settings.jwt.get_secret_value()}", "Accept": "application/json"}
        response = self.session.get(self.url, params=params, headers=headers, timeout=(10.0, self.settings.timeout))
        log.debug("GET %s -> %s", redaction.redact_url(response.url), response.status_code)
        if response.status_code in RETRY_STATUSES:
            raise Retryable(response, retry_after_seconds(response))
        return response

    def page(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        """One page of entities, retried as the policy says; errors in the toolkit's tree."""
        retrying = Retrying(
            retry=retry_if_exception_type((Retryable, *NETWORK_ERRORS)),
            wait=WaitRetryAfter(self.settings),
            stop=stop_after_attempt(self.settings.max_attempts),
            before_sleep=self._before_sleep,
            reraise=True,
        )
        try:
            response = retrying(self._once, params)
        except Retryable as exc:
            response = exc.response
        except NETWORK_ERRORS as exc:
            raise ApiUnreachable(
                f"GET {self.url} got no answer after {self.settings.max_attempts} attempts: {type(exc).__name__}"
            ) from None
        return _entities(self.url, response)


def _entities(url: str, response: requests.Response) -> list[dict[str, Any]]:
    """The entities of a 200 answer; the error each other answer means."""
    status = response.status_code
    if status in (401, 403):
        raise AuthError(f"GET {url} answered {status}: the node refused {ENV_JWT} (a JWT with access to it?)")
    if status == 404:
        raise ConfigError(f"GET {url} answered 404: no such dataset on the node")
    if status != 200:
        raise ApiError(f"GET {url} answered {status}: {redaction.redact(response.text[:200])}")
    try:
        body = response.json()
    except ValueError:
        raise ApiError(f"GET {url} answered 200 with a body that is not JSON") from None
    if not isinstance(body, list) or not all(isinstance(e, dict) for e in body):
        raise ApiError(f"GET {url} answered 200 with something other than a JSON array of entities")
    return body


def _pages(pager: _Pager, page_size: int) -> Iterator[list[dict[str, Any]]]:
    """Every page, each without entities already seen (``since`` assumed exclusive)."""
    since: Any = None
    seen_last: Any = None
    while True:
        params: dict[str, Any] = {"history": "false", "deleted": "true", "limit": page_size}
        if since is not None:
            params["since"] = since
        entities = pager.page(params)
        fresh = [e for e in entities if seen_last is None or e.get("_updated") != seen_last]
        yield fresh
        if len(entities) < page_size or not entities:
            return
        since = seen_last = entities[-1].get("_updated")
        if since is None:
            raise ApiError(f"GET {pager.url}: a full page whose last entity has no _updated; cannot ask for the next")


def read_dataset(
    node: str,
    dataset: str,
    out: str | Path,
    *,
    settings: SesamSettings | None = None,
    session: requests.Session | None = None,
    progress: Callable[..., Any] | None = None,
) -> DatasetRead:
    """Read ``dataset`` from ``node`` into the export file ``out`` (a JSON array, one entity
    a line), written atomically.

    Raises
    ------
    ConfigError
        ``SESAM_JWT`` unset or the dataset unknown (exit 2).
    AuthError, ApiError, ApiUnreachable
        The node refused the JWT, answered an error after retries, or never answered (exit 3).
    """
    settings = settings or SesamSettings.from_env()
    redaction.install([log.name])  # a filter acts on records of its own logger only
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    pager = _Pager(entities_url(node, dataset), settings, session or requests.Session())
    result = DatasetRead(out)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("w", encoding="utf-8") as handle, _bar(progress, dataset) as bar:
            handle.write("[")
            for page in _pages(pager, settings.page_size):
                for entity in page:
                    handle.write(("\n" if not result.entities else ",\n") + json.dumps(entity, ensure_ascii=False))
                    result.entities += 1
                    result.deleted += entity.get("_deleted") is True
                result.pages += 1
                bar.update(len(page))
            handle.write("\n]\n")
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    result.requests, result.retries = pager.requests, pager.retries
    return result


class _NoBar:
    def __enter__(self) -> _NoBar:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def update(self, n: int) -> None:
        return None


def _bar(progress: Callable[..., Any] | None, dataset: str) -> Any:
    """The caller's progress bar (a context manager with ``update``), or none."""
    return progress(f"sesam {dataset}", unit="ent") if progress is not None else _NoBar()
