"""The tenants a write-back command reaches: one API generation each, one open gateway each."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager

from audit.errors import ConfigError
from audit.writeback.gateway import RecordGateway, connect_tenants
from audit.writeback.model import Change
from audit.writeback.outcome import Limits


def checked_limits(max_failures: int, max_conflicts: int, max_changes: int | None, workers: int) -> Limits:
    """The circuit breaker of a run, refused when a bound is negative or no worker is left."""
    if max_failures < 0 or max_conflicts < 0 or (max_changes is not None and max_changes < 0) or workers < 1:
        raise ConfigError("--max-failures, --max-conflicts and --max-changes must be >= 0, --workers >= 1")
    return Limits(max_failures=max_failures, max_conflicts=max_conflicts, max_changes=max_changes, workers=workers)


def _choose(wanted: Mapping[str, set[str]], overrides: Mapping[str, str | None]) -> dict[str, str]:
    """One API generation per tenant: the override, else the only one the changes use."""
    out: dict[str, str] = {}
    for tenant, gens in wanted.items():
        chosen = overrides.get(tenant)
        if chosen is None:
            if len(gens) != 1:
                raise ConfigError(
                    f"the {tenant} tenant's records use {', '.join(sorted(gens))}; choose one with --api-{tenant}"
                )
            chosen = next(iter(gens))
        if chosen not in ("v1", "v2"):
            raise ConfigError(f"--api-{tenant} {chosen!r}: use v1 or v2")
        out[tenant] = chosen
    return out


def tenant_generations(
    changes: Iterable[Change], overrides: Mapping[str, str | None], counterparts: bool = False
) -> dict[str, str]:
    """The generation to reach each tenant the changes correct (and, with ``counterparts``,
    the tenants of their counterparts) through.

    ``overrides`` maps ``source``/``target`` to ``--api-source``/``--api-target``.
    """
    wanted: dict[str, set[str]] = {}
    for c in changes:
        for ref in (c.corrected, c.counterpart) if counterparts else (c.corrected,):
            wanted.setdefault(ref.tenant, set()).add(ref.generation)
    return _choose(wanted, overrides)


@contextmanager
def open_gateways(
    changes: list[Change], overrides: Mapping[str, str | None], counterparts: bool = False
) -> Iterator[dict[str, RecordGateway]]:
    """The gateways of :func:`tenant_generations` (none when there are no changes), closed on exit."""
    generations = tenant_generations(changes, overrides, counterparts)
    gateways = connect_tenants(generations) if changes else {}
    try:
        yield gateways
    finally:
        for gw in gateways.values():
            gw.close()
