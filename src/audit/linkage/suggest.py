"""``audit links suggest``: proposed links of every pair without merge rules, written as
the links files ``audit run --links DIR`` reads, for a person to review.

Each file is ``<Source>-<Target>.csv`` (:func:`audit.core.links_files.links_file_name`)
with the columns ``source_id,target_id`` the links-file reader takes, then ``score`` (the
model's match probability), ``matched`` (the source paths whose values are equal on both
records) and ``differs`` (those set on both and unequal); the reader ignores the extra
columns. Nothing here runs an audit or points one at the files: they become a link
source only when a person passes their directory to ``audit run --links``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from audit.core.links_files import links_file_name
from audit.core.snapshot import EntityFrame, read_snapshot
from audit.flow.model import Flow, Pair
from audit.flow.profile import profiles_for
from audit.linkage.fields import match_fields, side_frame
from audit.linkage.model import blocking_keys, score_links

__all__ = ["PairSuggestions", "Suggestions", "suggest_links", "DEFAULT_THRESHOLD"]

#: The least score a suggestion needs (splink's match probability).
DEFAULT_THRESHOLD = 0.9


@dataclass
class PairSuggestions:
    """The suggestions of one pair, or why there are none."""

    heading: str
    file: Path | None = None
    links: int = 0
    source_records: int = 0
    target_records: int = 0
    fields: list[str] = field(default_factory=list)
    ambiguous: int = 0
    weaker: int = 0
    skipped: str | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class Suggestions:
    """What :func:`suggest_links` wrote."""

    out: Path
    threshold: float
    pairs: list[PairSuggestions] = field(default_factory=list)


def _write_csv(frame: pl.DataFrame, path: Path) -> None:
    """Write ``frame`` beside ``path`` and rename it into place."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        frame.write_csv(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def best_links(links: pl.DataFrame) -> pl.DataFrame:
    """The links that score highest for both their source and their target record.

    A second, weaker candidate of a record that has a better one (a namesake in the same
    town with another e-mail) is left out; equal best scores are all kept, and counted as
    ambiguous, so that no tie is broken silently.
    """
    best = (pl.col("score") == pl.col("score").max().over("source_id")) & (
        pl.col("score") == pl.col("score").max().over("target_id")
    )
    return links.filter(best)


def _ambiguous(links: pl.DataFrame) -> int:
    """Records proposed for more than one counterpart (either side)."""
    return sum(int((links[c].value_counts()["count"] > 1).sum()) for c in ("source_id", "target_id"))


def suggest_pair(pair: Pair, se: EntityFrame, te: EntityFrame, out: Path, threshold: float) -> PairSuggestions:
    """Score the links of one pair and write its CSV file into ``out``."""
    found = PairSuggestions(pair.heading, source_records=se.height, target_records=te.height)
    fields = match_fields(pair, se, te)
    found.fields = [f.source for f in fields]
    if not blocking_keys([f.role for f in fields]):
        found.skipped = "no e-mail, name with date of birth, or phone number mapped on both sides"
        return found
    if not se.height or not te.height:
        found.skipped = "one side has no records"
        return found
    scored = score_links(side_frame(se, fields, "source"), side_frame(te, fields, "target"), fields, threshold)
    links = best_links(scored.links)
    found.file = out / links_file_name(pair.source_entity, pair.target_entity)
    _write_csv(links, found.file)
    found.links, found.ambiguous, found.notes = links.height, _ambiguous(links), scored.notes
    found.weaker = scored.links.height - links.height
    return found


def suggest_links(
    flow: Flow | str | Path,
    source: str | Path,
    target: str | Path,
    out: str | Path,
    threshold: float = DEFAULT_THRESHOLD,
) -> Suggestions:
    """Propose links for every pair of ``flow`` without merge rules, one CSV file per pair
    in ``out``, from the snapshot directories ``source`` and ``target``."""
    from audit.flow.parser import parse_file

    flow = flow if isinstance(flow, Flow) else parse_file(flow)
    pairs = [p for p in flow.pairs if not p.merge_rules]
    profiles = profiles_for(flow.source_system, flow.target_system)
    sources = read_snapshot(source, {p.source_entity for p in pairs})
    targets = read_snapshot(target, {p.target_entity for p in pairs})
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    result = Suggestions(out, threshold)
    for pair in pairs:
        se = sources.entity(pair.source_entity).of_system(profiles.source)
        te = targets.entity(pair.target_entity).of_system(profiles.target)
        result.pairs.append(suggest_pair(pair, se, te, out, threshold))
    return result
