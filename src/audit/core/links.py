"""Records of two entities -> links between them (frames in, frames out).

Per pair the link method is the first that applies:

1. ``merge_rules``: the pair's merge table. Each row is an alternative (OR): a source
   record and a target record link when, for any row, the source value equals the target
   value (compared as text by the value model, :mod:`audit.core.values`: trimmed, with
   the normalizers the policy sets for the rule's path). A null or empty value never links.
2. ``links_file``: explicit ``source_id,target_id`` rows (a pair without merge rules whose
   links directory holds ``<source>-<target>.csv``). Rows naming a record that does not
   exist are dropped and counted as ``dangling``.
   ``sesam``: the same from a Sesam dataset export, every source record of an entity's
   ``$ids`` with every target record of it (:mod:`audit.core.sesam_links`).
3. ``id``: a source record links to the target record with the same id (only for one
   entity type, or when the user says both sides share ids: :mod:`audit.core.link_sources`).

Links are transitive, as Sesam merges are: the candidate links form a bipartite graph,
and every connected component of it is one merged entity. (It is found from record degrees
alone: a component is one-to-one exactly when both records of its one edge have a single
candidate link.) A component with exactly one
record on each side is a link. A component holding more than one record on either side
is ambiguous: every candidate link in it becomes an ``ambiguous_link`` finding and none
of them is picked silently (so two source records matching one target through two
different rows are both reported, not just the second). A record in no component has no
counterpart: ``missing_in_target`` (a source record) or ``missing_in_source`` (a target
record).

Keys are the records' ids as text. (Inside, when both sides' ids are integers, records
are matched on the integers themselves, which are equal exactly when their texts are and
join faster; the frames handed out always hold text.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from audit.core.compare import as_text
from audit.core.values import ValueSpec
from audit.core.values_polars import canonical_expr

__all__ = [
    "LinkResult",
    "RuleColumns",
    "match_rules",
    "match_ids",
    "match_links_file",
    "resolve_links",
    "link_ids",
    "native_keys",
    "text_keys",
]

LINK_METHODS = ("merge_rules", "links_file", "sesam", "id")

_LINK_SCHEMA = {"source_key": pl.String, "target_key": pl.String}
_EDGE_SCHEMA = {**_LINK_SCHEMA, "rule": pl.Int32}


@dataclass(frozen=True)
class RuleColumns:
    """One merge rule bound to columns: the source column must equal the target column.

    ``source_path``/``target_path`` keep the flow's paths for findings and the summary;
    ``spec`` is how the values are read (the policy's normalizers and date handling for
    the path; the values are always trimmed, and an empty value never links).
    """

    source_path: str
    target_path: str
    source_column: str
    target_column: str
    spec: ValueSpec = ValueSpec(None)

    @property
    def key_spec(self) -> ValueSpec:
        """The value model's reading of merge keys: trimmed, empty is missing."""
        spec = self.spec
        return ValueSpec(spec.datatype, spec.date, ("trim", *spec.normalizers), True, spec.zone)


@dataclass(frozen=True)
class LinkResult:
    """The links of one pair.

    Attributes
    ----------
    method : str
        ``merge_rules``, ``links_file``, ``sesam`` or ``id``.
    linked : pl.DataFrame
        ``source_key, target_key``: one row per one-to-one link.
    ambiguous : pl.DataFrame
        ``source_key, target_key, rule``: every candidate link inside an ambiguous
        component (``rule`` is the index of the first merge rule that matched, or null).
    missing_in_target : pl.DataFrame
        ``source_key``: source records without a counterpart.
    missing_in_source : pl.DataFrame
        ``target_key``: target records no source record links to.
    stats : dict
        Counts for the summary (candidate links per rule, dangling links file rows,
        ambiguous records per side).
    """

    method: str
    linked: pl.DataFrame
    ambiguous: pl.DataFrame
    missing_in_target: pl.DataFrame
    missing_in_source: pl.DataFrame
    stats: dict[str, Any] = field(default_factory=dict)


#: Integer types whose every value fits in Int64 (ids of these are matched as integers).
_NATIVE = (pl.Int8, pl.Int16, pl.Int32, pl.Int64, pl.UInt8, pl.UInt16, pl.UInt32)


def native_keys(*dtypes: pl.DataType) -> bool:
    """True when every dtype is an integer type matched as Int64 (see the module docstring)."""
    return all(dtype in _NATIVE for dtype in dtypes)


def _key(expr: pl.Expr, dtype: pl.DataType, native: bool) -> pl.Expr:
    """Record ids as join keys: Int64 when ``native``, else their text."""
    return expr.cast(pl.Int64) if native else as_text(expr, dtype)


def text_keys(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with its ``source_key``/``target_key`` columns (if any) as text."""
    return frame.with_columns(
        [pl.col(c).cast(pl.String) for c in ("source_key", "target_key") if c in frame.columns]
    )


def _norm_key(expr: pl.Expr, dtype: pl.DataType, spec: ValueSpec) -> pl.Expr:
    """A merge key's canonical text (null when empty: an empty value never links)."""
    return canonical_expr(expr, dtype, spec)[0]


def match_rules(
    source: pl.DataFrame,
    target: pl.DataFrame,
    rules: Sequence[RuleColumns],
    source_key: str,
    target_key: str,
) -> pl.DataFrame:
    """Candidate links from merge rules (rows OR'ed, null/empty never links).

    Parameters
    ----------
    source, target : pl.DataFrame
        The two entities' frames.
    rules : sequence of RuleColumns
        The resolved merge rules, in document order (unresolved rules left out).
    source_key, target_key : str
        Id columns of the two frames.

    Returns
    -------
    pl.DataFrame
        ``source_key, target_key, rule`` (``rule`` Int32): one row per linked
        pair of records, ``rule`` the first rule (document order) that matched. The keys
        are Int64 when both id columns hold integers, else text; :func:`resolve_links`
        takes either.
    """
    native = native_keys(source.schema[source_key], target.schema[target_key])
    parts = [
        _rule_edges(source, target, rule, index, (source_key, target_key), native) for index, rule in enumerate(rules)
    ]
    if not parts:
        return pl.DataFrame(schema=_EDGE_SCHEMA)
    if len(parts) == 1:  # a repeated pair (ids repeated on a side) is dropped by resolve_links
        return parts[0]
    return (
        pl.concat(parts).group_by("source_key", "target_key", maintain_order=True).agg(pl.col("rule").min())
    )


def _rule_edges(
    source: pl.DataFrame, target: pl.DataFrame, rule: RuleColumns, index: int, keys: tuple[str, str], native: bool
) -> pl.DataFrame:
    """The candidate links of one merge rule (``rule`` = ``index``), keys Int64 when ``native``."""
    source_key, target_key = keys
    s_dt, t_dt = source.schema[rule.source_column], target.schema[rule.target_column]
    if native_keys(s_dt, t_dt):  # integers are equal exactly when their texts are
        s_value, t_value = pl.col(rule.source_column).cast(pl.Int64), pl.col(rule.target_column).cast(pl.Int64)
    else:
        spec = rule.key_spec
        s_value = _norm_key(pl.col(rule.source_column), s_dt, spec)
        t_value = _norm_key(pl.col(rule.target_column), t_dt, spec)
    left = source.select(
        _key(pl.col(source_key), source.schema[source_key], native).alias("source_key"), s_value.alias("v")
    ).drop_nulls("v")
    right = target.select(
        _key(pl.col(target_key), target.schema[target_key], native).alias("target_key"), t_value.alias("v")
    ).drop_nulls("v")
    return left.join(right, on="v", how="inner").select(
        "source_key", "target_key", pl.lit(index, dtype=pl.Int32).alias("rule")
    )


def match_ids(source_keys: pl.Series, target_keys: pl.Series) -> pl.DataFrame:
    """Candidate links ``id <-> id``: the same id text on both sides."""
    s = pl.DataFrame({"source_key": as_text(source_keys)})
    t = pl.DataFrame({"target_key": as_text(target_keys)})
    return s.join(t, left_on="source_key", right_on="target_key", how="inner").select(
        "source_key", pl.col("source_key").alias("target_key"), pl.lit(None, dtype=pl.Int32).alias("rule")
    )


#: The text of an integer as a number is written: no sign, no leading zero, and within Int64.
_CANONICAL_INT = r"^(?:0|-?[1-9][0-9]{0,17})$"


def _canonical_integers(rows: pl.DataFrame) -> bool:
    """True when every key of ``rows`` is an integer's own text (``"42"``, not ``"042"``)."""
    return bool(rows.select(pl.all().str.contains(_CANONICAL_INT).all()).row(0) == (True, True))


def match_links_file(
    links: pl.DataFrame, source_keys: pl.Series, target_keys: pl.Series
) -> tuple[pl.DataFrame, int]:
    """Candidate links from an explicit links table (``source_id, target_id``).

    Returns the candidate links, each ``source_key, target_key`` pair once, and the
    number of rows naming a record that does not exist on its side (dangling rows, dropped).
    """
    rows = links.select(
        as_text(pl.col("source_id")).str.strip_chars().alias("source_key"),
        as_text(pl.col("target_id")).str.strip_chars().alias("target_key"),
    ).unique()
    if native_keys(source_keys.dtype, target_keys.dtype) and _canonical_integers(rows):
        # integer ids, and every link names an id as an integer writes it: the same
        # matches as by text, on integers (cheaper to join)
        rows = rows.cast({"source_key": pl.Int64, "target_key": pl.Int64})
        s = pl.DataFrame({"source_key": source_keys.cast(pl.Int64)})
        t = pl.DataFrame({"target_key": target_keys.cast(pl.Int64)})
    else:
        s = pl.DataFrame({"source_key": as_text(source_keys)})
        t = pl.DataFrame({"target_key": as_text(target_keys)})
    kept = rows.join(s, on="source_key", how="semi").join(t, on="target_key", how="semi")
    edges = kept.with_columns(pl.lit(None, dtype=pl.Int32).alias("rule"))
    return edges, rows.height - kept.height


def resolve_links(
    method: str,
    edges: pl.DataFrame,
    source_keys: pl.Series,
    target_keys: pl.Series,
    stats: dict[str, Any] | None = None,
    distinct: bool = False,
) -> LinkResult:
    """Turn candidate links into one-to-one links, ambiguous components and the records
    without counterpart.

    Parameters
    ----------
    method : str
        The link method that produced ``edges``.
    edges : pl.DataFrame
        ``source_key, target_key, rule`` candidate links.
    source_keys, target_keys : pl.Series
        Every record id of each side.
    stats : dict, optional
        Extra counts to keep in the result.
    distinct : bool
        ``edges`` holds each ``source_key, target_key`` pair once already (as
        :func:`match_links_file` gives them), so they need not be made distinct.
    """
    if method not in LINK_METHODS:
        raise ValueError(f"unknown link method {method!r}")
    s_native = native_keys(edges.schema["source_key"], source_keys.dtype)
    t_native = native_keys(edges.schema["target_key"], target_keys.dtype)
    edges = edges.select(
        _key(pl.col("source_key"), edges.schema["source_key"], s_native),
        _key(pl.col("target_key"), edges.schema["target_key"], t_native),
        pl.col("rule").cast(pl.Int32),
    )
    if not distinct:  # the keys above are one-to-one with the keys given: distinct stays distinct
        edges = _distinct_edges(edges)
    stats = dict(stats or {})
    linked, ambiguous = _one_to_one(edges)
    s_all = pl.select(_key(pl.lit(source_keys), source_keys.dtype, s_native).alias("source_key"))
    t_all = pl.select(_key(pl.lit(target_keys), target_keys.dtype, t_native).alias("target_key"))
    missing_in_target = text_keys(s_all.join(edges, on="source_key", how="anti").select("source_key"))
    missing_in_source = text_keys(t_all.join(edges, on="target_key", how="anti").select("target_key"))
    stats.update(
        {
            "candidate_links": edges.height,
            "ambiguous_source_records": ambiguous.get_column("source_key").n_unique(),
            "ambiguous_target_records": ambiguous.get_column("target_key").n_unique(),
        }
    )
    if method == "merge_rules":
        counts = edges.group_by("rule").len()
        stats["candidate_links_per_rule"] = {int(r): int(n) for r, n in counts.iter_rows() if r is not None}
    return LinkResult(method, linked, ambiguous, missing_in_target, missing_in_source, stats)


def _distinct_edges(edges: pl.DataFrame) -> pl.DataFrame:
    """``edges`` without repeated ``source_key, target_key`` pairs (the first kept)."""
    # no pair repeats when the keys of either side do not (a count of distinct keys is far
    # cheaper than finding the distinct pairs)
    if edges.height and all(edges.get_column(c).n_unique() < edges.height for c in ("source_key", "target_key")):
        edges = edges.unique(subset=["source_key", "target_key"], keep="first", maintain_order=True)
    return edges


def _one_to_one(edges: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The one-to-one links among distinct candidate links, and the ambiguous rest (keys as text).

    A component is one-to-one exactly when its edge's two records each have one candidate
    link; any record with two or more puts two records on the other side of its component.
    So the components need not be labelled: an edge is a link when both its ends have
    degree 1, and every other edge is an ambiguous candidate link.
    """
    if not edges.height:
        return pl.DataFrame(schema=_LINK_SCHEMA), pl.DataFrame(schema=_EDGE_SCHEMA)
    one = (pl.len().over("source_key") == 1) & (pl.len().over("target_key") == 1)
    flagged = edges.with_columns(one.alias("_one"))
    linked = text_keys(flagged.filter(pl.col("_one")).select("source_key", "target_key"))
    ambiguous = text_keys(flagged.filter(~pl.col("_one")).select("source_key", "target_key", "rule")).sort(
        "source_key", "target_key"
    )
    return linked, ambiguous


def link_ids(
    source: pl.DataFrame, target: pl.DataFrame, stats: dict[str, Any] | None = None
) -> tuple[LinkResult, pl.DataFrame] | None:
    """Link by ids in one full join, when every id is present and unique on its side.

    Then every candidate link is one-to-one, so :func:`match_ids` followed by
    :func:`resolve_links` would give exactly these links (in another row order), no
    ambiguous component, and the same records without counterpart; one join also carries
    the records' value columns along.

    Parameters
    ----------
    source : pl.DataFrame
        ``source_key`` (the id: its text, or Int64 when both sides' ids are integers) and
        the source value columns.
    target : pl.DataFrame
        ``target_key`` (the id, likewise) and the target value columns.
    stats : dict, optional
        Extra counts to keep in the result.

    Returns
    -------
    tuple of (LinkResult, pl.DataFrame) or None
        The links and the linked frame (keys as text and both sides' value columns), or ``None``
        when an id is missing or repeated (then use :func:`match_ids` and
        :func:`resolve_links`).
    """
    s_keys, t_keys = source.get_column("source_key"), target.get_column("target_key")
    if not native_keys(s_keys.dtype, t_keys.dtype):
        source, target = text_keys(source), text_keys(target)
        s_keys, t_keys = source.get_column("source_key"), target.get_column("target_key")
    for keys in (s_keys, t_keys):
        if keys.null_count() or keys.n_unique() != keys.len():
            return None
    # an inner join gathers the value columns once (a full join, filtered, gathers them twice)
    linked_frame = text_keys(
        source.join(target, left_on="source_key", right_on="target_key", how="inner", coalesce=False)
    )
    s_only = _unmatched(source, "source_key", target, "target_key")
    t_only = _unmatched(target, "target_key", source, "source_key")
    linked = linked_frame.select("source_key", "target_key")
    stats = dict(stats or {})
    stats.update(candidate_links=linked.height, ambiguous_source_records=0, ambiguous_target_records=0)
    result = LinkResult("id", linked, pl.DataFrame(schema=_EDGE_SCHEMA), text_keys(s_only), text_keys(t_only), stats)
    return result, linked_frame


def _unmatched(frame: pl.DataFrame, key: str, other: pl.DataFrame, other_key: str) -> pl.DataFrame:
    """The ``key`` values of ``frame`` that ``other`` does not hold as ``other_key``."""
    return frame.select(key).join(other.select(other_key), left_on=key, right_on=other_key, how="anti")
