"""Notebook parameters: the checks the audit and investigate notebooks (and the nightly
runner) share."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Union

from pydantic import BaseModel, ConfigDict, Discriminator, Tag, ValidationError

from audit.errors import ConfigError

#: Parameter names that look like secrets; keys come from the environment, never from
#: notebook parameters (papermill writes every parameter into the output notebook).
SECRET_NAME = re.compile(r"(key|token|secret|password)", re.IGNORECASE)


#: The tags of the two kinds of a :func:`path_or` field (left out of a problem's field name).
_PATH, _MAPPING = "<path>", "<mapping>"


def _path_or_mapping(value: Any) -> str:
    return _MAPPING if isinstance(value, (dict, BaseModel)) else _PATH


def path_or(model: type[BaseModel]) -> Any:
    """The type ``Path | model`` where a mapping is read as ``model`` and anything else as
    a path, so a problem is reported for the one kind the value is, not for both."""
    return Annotated[
        Union[Annotated[Path, Tag(_PATH)], Annotated[model, Tag(_MAPPING)]], Discriminator(_path_or_mapping)
    ]


def problems(exc: ValidationError, root: str = "parameters") -> str:
    """Every problem of a pydantic validation as ``field: message``, joined by ``; ``
    (``root`` names a problem of the whole input)."""
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc'] if p not in (_PATH, _MAPPING)) or root}: {e['msg']}"
        for e in exc.errors()
    )


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
