"""The links of one pair, and the linked frame the comparison reads.

The link method is the first that applies (see :mod:`audit.core.links`): merge rules,
else the run's link source (a links file, or a Sesam export), else ids. Merge rules and
link sources give candidate links first; ids are linked together with the value columns,
in one join when every id is unique.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import polars as pl

from audit.core.binding import BoundRules, CheckPlan
from audit.core.compare import text_expr
from audit.core.link_sources import GivenLinks
from audit.core.links import (
    LinkResult,
    RuleColumns,
    link_ids,
    match_ids,
    match_links_file,
    match_rules,
    native_keys,
    resolve_links,
)
from audit.core.snapshot import EntityFrame
from audit.flow.model import Pair

__all__ = ["CandidateLinks", "link_candidates", "link_values", "ambiguous_rows"]


@dataclass(frozen=True)
class CandidateLinks:
    """The pair's link method and, unless it links by ids, its links.

    Attributes
    ----------
    method : str
        ``merge_rules``, ``links_file``, ``sesam`` or ``id``.
    link : LinkResult or None
        ``None`` for ``id``: ids are linked with the value columns (:func:`link_values`).
    stats : dict
        Counts for the summary gathered before linking (rows of the link source).
    linkable : bool
        False when the pair has merge rules but none resolved on both sides (then no
        record is listed as missing: the unresolved rules are the cause).
    """

    method: str
    link: LinkResult | None
    stats: dict[str, Any]
    linkable: bool


def _ids(ef: EntityFrame) -> pl.Series:
    return ef.frame.get_column(ef.id_column)


def link_candidates(
    pair: Pair, se: EntityFrame, te: EntityFrame, rules: BoundRules, given: GivenLinks | pl.DataFrame | None
) -> CandidateLinks:
    """Link by merge rules or by the links a link source gives (a links file's table, or
    :class:`GivenLinks`), counting candidate links per rule into ``rules.summary``; for
    ids, only say so."""
    s_keys, t_keys = _ids(se), _ids(te)
    stats: dict[str, Any] = {}
    linkable = True
    if pair.merge_rules:
        method = "merge_rules"
        edges = match_rules(se.frame, te.frame, [rc for _, rc in rules.columns], se.id_column, te.id_column)
        linkable = bool(rules.columns) or se.height == 0 or te.height == 0
    elif given is not None:
        if isinstance(given, pl.DataFrame):
            given = GivenLinks("links_file", given)
        method = given.method
        edges, dangling = match_links_file(given.table, s_keys, t_keys)
        stats.update(given.stats)
        # the distinct links given, and those of them naming a record a snapshot lacks
        stats[f"{method}_rows"] = edges.height + dangling
        stats[f"{method}_dangling_rows"] = dangling
    else:
        return CandidateLinks("id", None, stats, linkable)  # linked with the value columns, once known
    link = resolve_links(method, edges, s_keys, t_keys, stats, distinct=method != "merge_rules")
    if method == "merge_rules":
        per_rule = link.stats.pop("candidate_links_per_rule", {})
        for position, (index, _) in enumerate(rules.columns):
            rules.summary[index]["candidate_links"] = per_rule.get(position, 0)
    if not linkable:
        # Nothing can link, and listing every record as missing would bury the real cause
        # (the unresolved_property rows).
        empty_s = link.missing_in_target.head(0)
        empty_t = link.missing_in_source.head(0)
        link = replace(link, missing_in_target=empty_s, missing_in_source=empty_t)
    return CandidateLinks(method, link, stats, linkable)


def _key_frame(ef: EntityFrame, name: str, columns: Mapping[str, str], native: bool = False) -> pl.DataFrame:
    """``name`` (the id as text, or as Int64 when ``native``) plus the needed value
    columns renamed."""
    frame = ef.frame
    key = pl.col(ef.id_column)
    exprs = [(key.cast(pl.Int64) if native else text_expr(key, frame.schema[ef.id_column])).alias(name)]
    exprs += [pl.col(col).alias(alias) for col, alias in columns.items()]
    return frame.select(exprs)


def link_values(
    candidates: CandidateLinks, se: EntityFrame, te: EntityFrame, plan: CheckPlan
) -> tuple[LinkResult, pl.DataFrame]:
    """The pair's links and the linked frame: ``source_key``, ``target_key`` and the value
    columns the plan reads, one row per link."""
    s_keys, t_keys = _ids(se), _ids(te)
    link = candidates.link
    if link is None:
        # ids linked in one join match as integers when both sides' ids are integers
        native = native_keys(s_keys.dtype, t_keys.dtype)
        s_frame = _key_frame(se, "source_key", plan.source_columns, native)
        t_frame = _key_frame(te, "target_key", plan.target_columns, native)
        by_ids = link_ids(s_frame, t_frame, candidates.stats)
        if by_ids is not None:  # unique ids: links and values in one join
            return by_ids
        link = resolve_links(candidates.method, match_ids(s_keys, t_keys), s_keys, t_keys, candidates.stats)
    linked = link.linked
    # the value columns of each side, when the pair compares any
    if plan.source_columns:
        linked = _with_values(linked, se, "source_key", plan.source_columns)
    if plan.target_columns:
        linked = _with_values(linked, te, "target_key", plan.target_columns)
    return link, linked


def _with_values(linked: pl.DataFrame, ef: EntityFrame, key: str, columns: Mapping[str, str]) -> pl.DataFrame:
    """``linked`` with the value ``columns`` of the ``ef`` record its ``key`` names.

    A link's key is the text of its record's id, so where the ids are integers the
    records are joined on them as integers (the same rows, a cheaper join)."""
    if native_keys(ef.frame.schema[ef.id_column]):
        values = _key_frame(ef, key, columns, native=True)
        joined = linked.with_columns(pl.col(key).cast(pl.Int64)).join(values, on=key, how="left")
        return joined.with_columns(pl.col(key).cast(pl.String))
    return linked.join(_key_frame(ef, key, columns), on=key, how="left")


def _records(ef: EntityFrame, keys: pl.Series) -> pl.DataFrame:
    """The records of ``ef`` whose ids have the texts ``keys`` (found without making text
    of every id when the ids are integers)."""
    dtype = ef.frame.schema[ef.id_column]
    if native_keys(dtype):
        wanted = keys.cast(pl.Int64, strict=False).drop_nulls()
        found = ef.frame.filter(pl.col(ef.id_column).cast(pl.Int64).is_in(wanted.implode()))
        # "007" is not the text of 7: keep the records whose text is one of the keys
        return found.filter(pl.col(ef.id_column).cast(pl.String).is_in(keys.implode()))
    return ef.frame.filter(text_expr(pl.col(ef.id_column), dtype).is_in(keys.implode()))


def _keyed_values(ef: EntityFrame, keys: pl.Series, column: str, side: str) -> pl.DataFrame:
    """``<side>_key`` and ``<side>_value`` (``column``) of the records with ids ``keys``, as text."""
    schema = ef.frame.schema
    return _records(ef, keys).select(
        text_expr(pl.col(ef.id_column), schema[ef.id_column]).alias(f"{side}_key"),
        text_expr(pl.col(column), schema[column]).alias(f"{side}_value"),
    )


def ambiguous_rows(
    link: LinkResult, se: EntityFrame, te: EntityFrame, rules: list[tuple[int, RuleColumns]]
) -> pl.DataFrame:
    """Ambiguous candidate links with, for merge rules, the matching rule's paths and values."""
    amb = link.ambiguous
    if not amb.height or not rules:
        return amb.select("source_key", "target_key")
    parts = []
    for position, (_, rc) in enumerate(rules):
        sub = amb.filter(pl.col("rule") == position)
        if not sub.height:
            continue
        # only the records of the candidate links (few) are looked up in the entity frames
        sv = _keyed_values(se, sub.get_column("source_key"), rc.source_column, "source")
        tv = _keyed_values(te, sub.get_column("target_key"), rc.target_column, "target")
        parts.append(
            sub.join(sv, on="source_key", how="left")
            .join(tv, on="target_key", how="left")
            .with_columns(
                pl.lit(rc.source_path).alias("source_property"),
                pl.lit(rc.target_path).alias("target_property"),
            )
            .drop("rule")
        )
    return pl.concat(parts) if parts else amb.select("source_key", "target_key")
