"""Notebook parameters: the checks the audit and investigate notebooks (and the nightly
runner) share."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from audit.errors import ConfigError

#: Parameter names that look like secrets; keys come from the environment, never from
#: notebook parameters (papermill writes every parameter into the output notebook).
SECRET_NAME = re.compile(r"(key|token|secret|password)", re.IGNORECASE)


def problems(exc: ValidationError, root: str = "parameters") -> str:
    """Every problem of a pydantic validation as ``field: message``, joined by ``; ``
    (``root`` names a problem of the whole input)."""
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or root}: {e['msg']}" for e in exc.errors())


class NotebookParameters(BaseModel):
    """Notebook parameters: unknown names are refused, problems become one ConfigError."""

    model_config = ConfigDict(extra="forbid")

    @classmethod
    def check(cls, **params: Any):
        """Validate notebook parameters; a :class:`ConfigError` lists every problem."""
        try:
            return cls(**params)
        except ValidationError as exc:
            raise ConfigError(f"notebook parameters: {problems(exc)}") from None
