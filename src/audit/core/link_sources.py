"""Where the links of pairs without merge rules come from, and the rule that no pair of
two entity types is linked on ids silently.

``audit run --links PATH`` names one link source for the run:

- a directory of ``<source entity>-<target entity>.csv`` files (``source_id,target_id``;
  :mod:`audit.core.links_files`), link method ``links_file``;
- a Sesam dataset export, ``.json`` or ``.jsonl`` (:mod:`audit.core.sesam_links`), link
  method ``sesam``. It covers a pair when it names records of both the pair's datasets
  (:class:`~audit.core.link_policy.LinkSettings`).

A pair the link source does not cover is linked ``id`` to ``id`` only when both sides are
one entity type or the user says the ids are shared (``--link-by-id``, ``links: id`` in
the policy): :func:`check_linkable` stops the run otherwise (exit 2), naming the pair and
the ways to give links. An ``id -> id`` row of such a pair means Sesam carries the
identity across, not that the numbers match.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from audit.core.link_policy import LinkSettings
from audit.core.links_files import links_file_name, read_links_dir
from audit.core.sesam_links import SesamExport, is_export, read_export
from audit.errors import ConfigError
from audit.flow.model import Flow, Pair, entity_file_stem

__all__ = ["GivenLinks", "LinkSource", "check_linkable", "open_link_source"]


@dataclass(frozen=True)
class GivenLinks:
    """The links a link source gives one pair.

    Attributes
    ----------
    method : str
        ``links_file`` or ``sesam``.
    table : pl.DataFrame
        ``source_id, target_id`` (text), one row per candidate link.
    stats : dict
        What the summary records of the source (the datasets read, for ``sesam``).
    """

    method: str
    table: pl.DataFrame
    stats: dict[str, Any] = field(default_factory=dict)


def _stems(pair: Pair) -> tuple[str, str]:
    return entity_file_stem(pair.source_entity), entity_file_stem(pair.target_entity)


@dataclass(frozen=True)
class LinkSource:
    """The run's link source: links files by pair, a Sesam export, or nothing."""

    path: str | None = None
    files: Mapping[tuple[str, str], pl.DataFrame] = field(default_factory=dict)
    export: SesamExport | None = None

    def covers(self, flow: Flow, pair: Pair, settings: LinkSettings) -> bool:
        """True when :meth:`for_pair` gives ``pair`` links (without building them)."""
        if pair.merge_rules:
            return False
        if self.export is None:
            return _stems(pair) in self.files
        named = set(self.export.datasets)
        return all(ds in named for ds in settings.pair_datasets(flow, pair))

    def for_pair(self, flow: Flow, pair: Pair, settings: LinkSettings) -> GivenLinks | None:
        """The links of ``pair`` (one without merge rules), or ``None`` when the source
        does not cover it."""
        if pair.merge_rules:
            return None
        if self.export is None:
            table = self.files.get(_stems(pair))
            return None if table is None else GivenLinks("links_file", table)
        source_ds, target_ds = settings.pair_datasets(flow, pair)
        named = set(self.export.datasets)
        if source_ds not in named or target_ds not in named:
            return None
        stats = {"sesam_export": self.export.file, "source_dataset": source_ds, "target_dataset": target_ds}
        stats.update(self.export.stats)
        return GivenLinks("sesam", self.export.links_between(source_ds, target_ds, distinct=False), stats)


def open_link_source(
    path: str | Path | None, flow: Flow, files: Mapping[tuple[str, str], pl.DataFrame] | None = None
) -> LinkSource:
    """Read the link source ``path`` names (a directory of links files, or a Sesam export
    file), or wrap links files already read (``files``, keyed by entity stems)."""
    if files is not None:
        return LinkSource(None if path is None else str(path), files)
    if path is None:
        return LinkSource()
    if is_export(path) and not Path(path).is_dir():
        return LinkSource(str(path), export=read_export(path))
    return LinkSource(str(path), read_links_dir(path, [(p.source_entity, p.target_entity) for p in flow.pairs]))


def _ways(flow: Flow, pair: Pair, source: LinkSource, settings: LinkSettings) -> str:
    """The sentence naming the ways to give a pair links."""
    source_ds, target_ds = settings.pair_datasets(flow, pair)
    csv = links_file_name(pair.source_entity, pair.target_entity)
    why = ""
    if source.export is not None:
        named = ", ".join(source.export.datasets) or "none"
        why = (
            f" {source.path} names no record of dataset {source_ds!r} or {target_ds!r} (it names: {named});"
            " set the datasets under `links:` in the --config file."
        )
    elif source.path is not None:
        why = f" {source.path} holds no {csv}."
    return (
        f"{why} Give links with --links EXPORT.json (a Sesam dataset export whose $ids name records of "
        f"{source_ds!r} and {target_ds!r}; `audit sesam-links` reads one from a node), or --links DIR "
        f"(a directory holding {csv} with columns source_id,target_id), or, only if both sides really share "
        "ids, --link-by-id (`links: id` in the --config file)."
    )


def check_linkable(flow: Flow, source: LinkSource, settings: LinkSettings, by_id: bool = False) -> None:
    """Refuse a run that would link two different entity types on ids without being told to.

    Raises
    ------
    ConfigError
        A pair without merge rules that the link source does not cover, whose two sides
        are different entity types, while neither ``by_id`` nor ``settings.by_id`` is set.
    """
    if by_id or settings.by_id:
        return
    for pair in flow.pairs:
        stems = _stems(pair)
        if pair.merge_rules or stems[0] == stems[1] or source.covers(flow, pair, settings):
            continue
        raise ConfigError(
            f"pair {pair.heading!r} ({pair.source_entity} -> {pair.target_entity}) has no merge rules and no "
            f"links; {pair.source_entity} and {pair.target_entity} records have ids of their own, so matching "
            f"id to id would link nothing true.{_ways(flow, pair, source, settings)}"
        )
