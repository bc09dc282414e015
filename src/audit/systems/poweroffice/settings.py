"""Connection settings for PowerOffice Go: where the API is, which keys to use, and how
hard to push it.

Settings come from the environment, or from a git-ignored ``.env`` file in the working
directory (python-dotenv); the environment wins over the file. Secrets are never command
line arguments. Variables:

==================================  ===================================================
``POWEROFFICE_APPLICATION_KEY``     application key (per integration), both generations
``POWEROFFICE_CLIENT_KEY``          client key (per tenant), both generations
``POWEROFFICE_SUBSCRIPTION_KEY``    subscription key (per developer account), v2 only
``POWEROFFICE_V2_URL``              default ``https://goapi.poweroffice.net/v2``
``POWEROFFICE_V1_URL``              default ``https://api.poweroffice.net``
``POWEROFFICE_TOKEN_URL``           default: the generation's own token endpoint
                                    (v2: the v2 URL without ``/v2`` + ``/OAuth/Token``;
                                    v1: ``{v1 URL}/OAuth/Token``)
``POWEROFFICE_RATE_LIMIT``          client-side requests/second (default 9 v2, 45 v1:
                                    90 % of the documented 10 and 50)
``POWEROFFICE_RATE_BURST``          slots the client-side bucket holds (default 1)
``POWEROFFICE_PAGE_SIZE``           records per page (default 5000 v2, 1000 v1)
``POWEROFFICE_CONCURRENCY``         connections kept open per client (default 4)
``POWEROFFICE_V1_CONTACT_ROUTE``    v1 route a contact person is written to (default
                                    ``/Customer/{id}/Contact/``, ``{id}`` its party)
``POWEROFFICE_RETRIES``             attempts per request before giving up (default 6)
``POWEROFFICE_TIMEOUT``             read timeout in seconds (default 60)
==================================  ===================================================

Every key read here is registered with :mod:`audit.systems.http.redaction`, so it is masked in any
log line or message.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from audit.errors import ConfigError
from audit.systems.http import redaction

Api = Literal["v1", "v2"]

DEFAULT_V2_URL = "https://goapi.poweroffice.net/v2"
DEFAULT_V1_URL = "https://api.poweroffice.net"
#: Requests a second the client sends by default: 90 % of the documented limits, 10/s per
#: subscription key (v2) and 50/s per integration key (v1) (see ``Settings.endpoint``).
DEFAULT_RATE = {"v2": 9.0, "v1": 45.0}

ENV_APPLICATION_KEY = "POWEROFFICE_APPLICATION_KEY"
ENV_CLIENT_KEY = "POWEROFFICE_CLIENT_KEY"
ENV_SUBSCRIPTION_KEY = "POWEROFFICE_SUBSCRIPTION_KEY"
ENV_V2_URL = "POWEROFFICE_V2_URL"
ENV_V1_URL = "POWEROFFICE_V1_URL"
ENV_TOKEN_URL = "POWEROFFICE_TOKEN_URL"

_ENV_FIELDS = {
    ENV_APPLICATION_KEY: "application_key",
    ENV_CLIENT_KEY: "client_key",
    ENV_SUBSCRIPTION_KEY: "subscription_key",
    ENV_V2_URL: "v2_url",
    ENV_V1_URL: "v1_url",
    ENV_TOKEN_URL: "token_url",
    "POWEROFFICE_RATE_LIMIT": "rate_limit",
    "POWEROFFICE_RATE_BURST": "rate_burst",
    "POWEROFFICE_PAGE_SIZE": "page_size",
    "POWEROFFICE_CONCURRENCY": "concurrency",
    "POWEROFFICE_V1_CONTACT_ROUTE": "v1_contact_route",
    "POWEROFFICE_RETRIES": "max_attempts",
    "POWEROFFICE_TIMEOUT": "read_timeout",
}


@dataclass(frozen=True)
class Timeouts:
    """Seconds to wait for a connection and for each read of an answer."""

    connect: float = 5.0
    read: float = 60.0

    def as_requests(self) -> tuple[float, float]:
        return (self.connect, self.read)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a failed request is tried again.

    ``max_attempts`` counts the first try. Waits grow exponentially from ``backoff_initial``
    up to ``backoff_max`` (with jitter); a ``Retry-After`` header wins when present, capped
    at ``retry_after_max``; a 429 without one waits ``rate_limited_wait`` (the API's
    documented "try again in 1 seconds").
    """

    max_attempts: int = 6
    backoff_initial: float = 0.5
    backoff_max: float = 20.0
    retry_after_max: float = 60.0
    rate_limited_wait: float = 1.0


@dataclass(frozen=True)
class Endpoint:
    """One generation's resolved connection: URLs and limits, keys kept as secrets."""

    api: Api
    base_url: str
    token_url: str
    application_key: SecretStr
    client_key: SecretStr
    subscription_key: SecretStr | None
    rate_limit: float
    rate_burst: float
    page_size: int
    concurrency: int
    token_refresh_margin: float
    timeouts: Timeouts
    retry: RetryPolicy
    v1_contact_route: str


class ConnectionSettings(BaseModel):
    """Everything the connector needs to reach one PowerOffice Go tenant.

    Generation-specific defaults (rate limit, page size, token URL) are ``None`` here and
    resolved by :meth:`endpoint`.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    application_key: SecretStr | None = None
    client_key: SecretStr | None = None
    subscription_key: SecretStr | None = None
    v2_url: str = DEFAULT_V2_URL
    v1_url: str = DEFAULT_V1_URL
    token_url: str | None = None
    rate_limit: float | None = Field(default=None, gt=0)
    #: Slots the client-side bucket can hold: over any T seconds at most
    #: ``rate_burst + R*T`` requests go. 1 spaces them evenly, so that no second holds more
    #: than the limit the API counts in a sliding window (see :meth:`endpoint`).
    rate_burst: float = Field(default=1.0, ge=1)
    page_size: int | None = Field(default=None, ge=1, le=20000)
    concurrency: int = Field(default=4, ge=1, le=64)
    token_refresh_margin: float = Field(default=60.0, ge=0)
    connect_timeout: float = Field(default=5.0, gt=0)
    read_timeout: float = Field(default=60.0, gt=0)
    max_attempts: int = Field(default=6, ge=1, le=50)
    backoff_initial: float = Field(default=0.5, ge=0)
    backoff_max: float = Field(default=20.0, ge=0)
    retry_after_max: float = Field(default=60.0, ge=0)
    #: v1 route a contact person is posted to; ``{id}`` is its party's id
    #: (``POST /Customer/{parentId}/Contact/``, go-api-documentation
    #: ``docs/api/reference/rest/route_post_customer__parentid__contact_.md``).
    v1_contact_route: str = "/Customer/{id}/Contact/"
    #: ``source`` / ``target`` when read by :func:`tenant_settings`: a missing key is then
    #: named by that side's variable too (``POWEROFFICE_TARGET_CLIENT_KEY``).
    tenant: str | None = None

    @field_validator("v1_contact_route")
    @classmethod
    def _has_id(cls, value: str) -> str:
        if "{id}" not in value:
            raise ValueError("must contain {id}")
        return value

    @field_validator("v2_url", "v1_url", "token_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] | None = None,
        dotenv_path: str | Path | None = ".env",
        **overrides: object,
    ) -> ConnectionSettings:
        """Settings from ``.env`` (if the file exists) overlaid by the environment, then
        by ``overrides``.

        Raises
        ------
        ConfigError
            A value that is not valid (the message names the variable, never its value).
        """
        values: dict[str, str] = {}
        if dotenv_path is not None and Path(dotenv_path).is_file():
            from dotenv import dotenv_values

            values.update({k: v for k, v in dotenv_values(dotenv_path).items() if v is not None})
        values.update(os.environ if environ is None else environ)
        data: dict[str, object] = {}
        for var, name in _ENV_FIELDS.items():
            raw = values.get(var)
            if raw is not None and raw.strip() != "":
                data[name] = raw.strip()
        data.update(overrides)
        try:
            settings = cls(**data)
        except ValidationError as exc:
            names = {v: k for k, v in _ENV_FIELDS.items()}
            problems = []
            for err in exc.errors():
                field = str(err["loc"][0]) if err["loc"] else "?"
                problems.append(f"{names.get(field, field)}: {err['msg']}")
            raise ConfigError("invalid connection settings: " + "; ".join(problems)) from None
        settings.register_secrets()
        return settings

    def register_secrets(self) -> None:
        """Register every key with the redaction registry."""
        for secret in (self.application_key, self.client_key, self.subscription_key):
            if secret is not None:
                redaction.register_secret(secret.get_secret_value())

    def endpoint(self, api: Api) -> Endpoint:
        """The resolved connection for one generation.

        Raises
        ------
        ConfigError
            A key the generation needs is not set (the message names the variable).
        """
        self._check_keys(api)
        base = self.v2_url if api == "v2" else self.v1_url
        assert self.application_key is not None and self.client_key is not None
        return Endpoint(
            api=api,
            base_url=base,
            token_url=self._token_url(api, base),
            application_key=self.application_key,
            client_key=self.client_key,
            subscription_key=self.subscription_key if api == "v2" else None,
            # 10/s per subscription key (v2), 50/s per integration key (v1): PowerOffice's
            # developer pages; the v2 OpenAPI document lists 429 "throttled" with no figure.
            # The gateway counts requests as they arrive, in a sliding window (Azure API
            # Management's rate-limit policy); requests sent exactly 1/R apart arrive with
            # jitter, so the client keeps 10 % under the limit unless told a rate.
            rate_limit=self.rate_limit or DEFAULT_RATE[api],
            rate_burst=self.rate_burst,
            # v2: ``ResourceParameters.PageSize``'s default (v2 OpenAPI); v1 documents none.
            page_size=self.page_size or (5000 if api == "v2" else 1000),
            concurrency=self.concurrency,
            token_refresh_margin=self.token_refresh_margin,
            timeouts=Timeouts(self.connect_timeout, self.read_timeout),
            retry=RetryPolicy(
                max_attempts=self.max_attempts,
                backoff_initial=self.backoff_initial,
                backoff_max=self.backoff_max,
                retry_after_max=self.retry_after_max,
            ),
            v1_contact_route=self.v1_contact_route,
        )

    def _check_keys(self, api: Api) -> None:
        """:class:`ConfigError` for an unknown generation or a key it needs that is not set."""
        if api not in ("v1", "v2"):
            raise ConfigError(f"unknown API generation {api!r}; use v1 or v2")
        missing = [ENV_APPLICATION_KEY] if self.application_key is None else []
        if self.client_key is None:
            missing.append(ENV_CLIENT_KEY)
        if api == "v2" and self.subscription_key is None:
            missing.append(ENV_SUBSCRIPTION_KEY)
        if missing:
            side = f" ({self.tenant} tenant)" if self.tenant else ""
            raise ConfigError(
                f"PowerOffice Go {api}{side} needs {', '.join(self._side_names(missing))} (environment or .env); "
                "secrets are never taken as command line arguments"
            )

    def _side_names(self, names: list[str]) -> list[str]:
        """``POWEROFFICE_X`` as ``POWEROFFICE_TARGET_X or POWEROFFICE_X`` for a tenant's settings."""
        if not self.tenant:
            return names
        prefix = f"POWEROFFICE_{self.tenant.upper()}_"
        return [f"{prefix}{name[len('POWEROFFICE_'):]} or {name}" for name in names]

    def _token_url(self, api: Api, base: str) -> str:
        """``POWEROFFICE_TOKEN_URL`` when set, else the generation's token endpoint."""
        if self.token_url:
            return self.token_url
        if api == "v2":
            root = base[: -len("/v2")] if base.lower().endswith("/v2") else base
            return root + "/OAuth/Token"
        return base + "/OAuth/Token"


def tenant_settings(
    tenant: str,
    environ: Mapping[str, str] | None = None,
    dotenv_path: str | Path | None = ".env",
    **overrides: object,
) -> ConnectionSettings:
    """Connection settings of one tenant (``source`` or ``target``).

    ``POWEROFFICE_SOURCE_V2_URL`` (and every other ``POWEROFFICE_<TENANT>_<NAME>``)
    overrides ``POWEROFFICE_V2_URL`` for that tenant; ``.env`` is read first, the
    environment overlays it.
    """
    values: dict[str, str] = {}
    if dotenv_path is not None and Path(dotenv_path).is_file():
        from dotenv import dotenv_values

        values.update({k: v for k, v in dotenv_values(dotenv_path).items() if v is not None})
    values.update(os.environ if environ is None else environ)
    prefix = f"POWEROFFICE_{tenant.upper()}_"
    for name in _ENV_FIELDS:
        specific = prefix + name[len("POWEROFFICE_") :]
        if values.get(specific, "").strip():
            values[name] = values[specific]
    return ConnectionSettings.from_env(environ=values, dotenv_path=None, **{"tenant": tenant, **overrides})
