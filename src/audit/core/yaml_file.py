"""YAML files the user writes (the policy, the nightly jobs), read with errors that name the
file and the line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from audit.errors import ConfigError

__all__ = ["read_yaml"]


def read_yaml(path: str | Path, what: str) -> Any:
    """The YAML document of ``path``; :class:`ConfigError` naming ``path`` (and, for bad
    YAML, the line) when it cannot be read."""
    path = Path(path)
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read {what} ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: {what} is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise ConfigError(f"{where}: not valid YAML: {getattr(exc, 'problem', None) or exc}") from None
