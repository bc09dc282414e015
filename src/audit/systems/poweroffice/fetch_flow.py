"""``audit fetch``: the entities a command line names (or a flow uses) into a snapshot."""

from __future__ import annotations

from pathlib import Path

from audit.errors import ConfigError
from audit.systems.poweroffice.fetch import FetchResult, fetch_snapshot


def entity_names(entities: str | None, flow_doc: Path | None) -> list[str] | None:
    """The comma list ``entities``, then the entities of ``flow_doc`` not yet in it.

    ``None`` (every entity) when neither is given.
    """
    names: list[str] | None = None
    if entities:
        names = [e.strip() for e in entities.split(",") if e.strip()]
    if flow_doc is not None:
        from audit.flow.parser import parse_file

        flow_entities = parse_file(flow_doc).entities()
        names = (names or []) + [e for e in flow_entities if e not in (names or [])]
    return names


def fetch_entities(
    out: Path,
    api: str,
    *,
    entities: str | None = None,
    since: str | None = None,
    base: Path | None = None,
    tenant: str | None = None,
    flow_doc: Path | None = None,
) -> FetchResult:
    """Read one tenant's entities through API generation ``api`` into the snapshot ``out``.

    Raises
    ------
    ConfigError
        ``api`` is neither ``v1`` nor ``v2``, or the flow document does not parse.
    """
    if api not in ("v1", "v2"):
        raise ConfigError(f"--api {api!r}: use v1 or v2")
    names = entity_names(entities, flow_doc)
    return fetch_snapshot(out, api, entities=names, since=since, base=base, tenant=tenant)  # type: ignore[arg-type]
