"""``audit demo-data``: check the command's choices, then generate the demo tenants."""

from __future__ import annotations

from pathlib import Path

from audit.demo.generator import DemoResult, generate
from audit.errors import ConfigError
from audit.flow.parser import parse_file


def _check_choices(records: int, mode: str, source_api: str, target_api: str, fmt: str) -> None:
    """Raise :class:`ConfigError` naming the first option with a value it does not take."""
    choices = {
        "mode": (mode, ("two-tenants", "self")),
        "--source-api": (source_api, ("v1", "v2")),
        "--target-api": (target_api, ("v1", "v2")),
        "--format": (fmt, ("jsonl", "parquet")),
    }
    for name, (value, allowed) in choices.items():
        if value not in allowed:
            raise ConfigError(f"{name} must be one of {', '.join(allowed)}, not {value!r}")
    if records < 20:
        raise ConfigError("--records must be at least 20")


def make_demo(
    out: Path,
    flow_doc: Path,
    *,
    records: int,
    seed: int,
    mode: str,
    source_api: str,
    target_api: str,
    fmt: str,
) -> DemoResult:
    """Write demo tenants for the seed flow document ``flow_doc`` into ``out``.

    Raises
    ------
    ConfigError
        A choice the generator does not offer, or fewer than 20 records.
    """
    _check_choices(records, mode, source_api, target_api, fmt)
    return generate(
        out,
        parse_file(flow_doc),
        records=records,
        seed=seed,
        mode=mode,  # type: ignore[arg-type]
        source_api=source_api,  # type: ignore[arg-type]
        target_api=target_api,  # type: ignore[arg-type]
        fmt=fmt,  # type: ignore[arg-type]
    )
