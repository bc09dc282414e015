"""Connection settings for a Sesam node: the JWT and how hard to push the node.

Settings come from the environment, or a git-ignored ``.env`` in the working directory
(the environment wins). The JWT is never a command-line argument; it is registered with
the redaction registry so that no log line or message shows it.

==========================  ============================================================
``SESAM_JWT``               the node's JSON Web Token (``Authorization: Bearer <JWT>``)
``SESAM_PAGE_SIZE``         entities per request (``limit``), default 10000
``SESAM_RETRIES``           attempts per request before giving up, default 6
``SESAM_TIMEOUT``           read timeout in seconds, default 60
==========================  ============================================================
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from audit.errors import ConfigError
from audit.systems.http import redaction

ENV_JWT = "SESAM_JWT"
_ENV_FIELDS = {
    ENV_JWT: "jwt",
    "SESAM_PAGE_SIZE": "page_size",
    "SESAM_RETRIES": "max_attempts",
    "SESAM_TIMEOUT": "timeout",
}


class SesamSettings(BaseModel):
    """What the client needs to read a dataset from a node."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    jwt: SecretStr
    page_size: int = Field(default=10_000, ge=1, le=1_000_000)
    max_attempts: int = Field(default=6, ge=1, le=20)
    timeout: float = Field(default=60.0, gt=0)
    backoff_initial: float = 0.2
    backoff_max: float = 10.0
    #: The longest ``Retry-After`` obeyed, and the least wait after a 429 without one.
    retry_after_max: float = 60.0
    rate_limited_wait: float = 1.0

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, dotenv_path: str | Path | None = ".env"
    ) -> SesamSettings:
        """Settings from ``.env`` overlaid by the environment.

        Raises
        ------
        ConfigError
            ``SESAM_JWT`` unset, or a value that is not valid (named, never shown).
        """
        values: dict[str, str] = {}
        if dotenv_path is not None and Path(dotenv_path).is_file():
            from dotenv import dotenv_values

            values.update({k: v for k, v in dotenv_values(dotenv_path).items() if v is not None})
        values.update(os.environ if environ is None else environ)
        data = {name: values[var].strip() for var, name in _ENV_FIELDS.items() if (values.get(var) or "").strip()}
        if "jwt" not in data:
            raise ConfigError(f"{ENV_JWT} is not set: put the node's JWT in the environment or .env")
        redaction.register_secret(data["jwt"])
        try:
            return cls(**data)
        except ValidationError as exc:
            names = {v: k for k, v in _ENV_FIELDS.items()}
            problems = "; ".join(f"{names.get(str(e['loc'][0]), e['loc'][0])}: {e['msg']}" for e in exc.errors())
            raise ConfigError(f"invalid Sesam settings: {problems}") from None
