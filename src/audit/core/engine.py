"""The audit of one flow: snapshots -> links -> comparison -> validation -> findings.

:func:`run_audit` is the Python API the command line, the nightly notebook and the
write-back call. Given :class:`~audit.core.snapshot.Snapshot` objects it touches no file and
prints nothing; given directories it reads them through :mod:`audit.core.snapshot` first.
:func:`write_outputs` writes a result into an output directory in the ``audit run``
format (``findings.parquet``, ``findings.csv``, ``summary.json``, ``gx/<pair>.json``).

Per pair the steps are, in order (each its own module):

1. resolve the flow's paths against both frames (:mod:`audit.flow.paths`);
2. link the records (:mod:`audit.core.links`): merge rules, else a links file, else ids;
3. put linked records side by side and compare each property (:mod:`audit.core.compare`);
4. validate the compact agreement columns with the pair's GX suite
   (:mod:`audit.gx.suites`, :mod:`audit.gx.validate`);
5. collect every failing record into the findings table (:mod:`audit.core.findings`).

The audit succeeds when no finding has a status the policy fails on. The GX verdict over
``critical`` expectations is recorded next to it (``gx.critical_success``) and agrees
with it by construction.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import polars as pl

from audit.core import findings as fnd
from audit.core.compare import PropertyCheck, compare_linked, eq_column, text_expr, typeok_column
from audit.core.links import (
    LinkResult,
    RuleColumns,
    link_ids,
    match_ids,
    match_links_file,
    match_rules,
    native_keys,
    resolve_links,
    text_keys,
)
from audit.core.policy import STATUSES, Policy, default_policy, load_policy, plan_pair
from audit.core.snapshot import (
    EntityFrame,
    Snapshot,
    entity_file,
    find_id_column,
    read_entity_file,
    read_links_dir,
    read_snapshot,
)
from audit.errors import ConfigError, SnapshotError
from audit.flow.model import Flow, Pair, entity_file_stem
from audit.flow.paths import Resolution, resolve_path
from audit.flow.profile import SystemProfile, profiles_for
from audit.gx.suites import build_suite, pair_slug, suite_dict
from audit.gx.validate import critical_success, validate, validation_frame, wait_for_warm_up, warm_up

__all__ = ["AuditResult", "PairResult", "run_audit", "audit_pair", "write_outputs"]

Progress = Callable[[str], None]


@dataclass(frozen=True)
class PairResult:
    """The audit of one pair."""

    heading: str
    slug: str
    findings: pl.DataFrame
    summary: dict[str, Any]
    gx_result: dict[str, Any]
    suite: dict[str, Any]
    success: bool

    def to_dict(self) -> dict[str, Any]:
        return dict(self.summary)


@dataclass(frozen=True)
class AuditResult:
    """The audit of one flow.

    Attributes
    ----------
    findings : pl.DataFrame
        Every problem, one row each, with exactly the contract columns (all text).
    summary : dict
        The content of ``summary.json``.
    success : bool
        True when no finding has a status the policy fails on.
    gx_results : dict
        Great Expectations validation result (JSON-ready) per pair slug.
    suites : dict
        The expectation suite (JSON-ready) per pair slug.
    pairs : tuple of PairResult
    """

    findings: pl.DataFrame
    summary: dict[str, Any]
    success: bool
    gx_results: dict[str, dict[str, Any]] = field(default_factory=dict)
    suites: dict[str, dict[str, Any]] = field(default_factory=dict)
    pairs: tuple[PairResult, ...] = ()

    @property
    def exit_code(self) -> int:
        """``0`` in sync, ``1`` drift."""
        return 0 if self.success else 1

    def to_dict(self) -> dict[str, Any]:
        return dict(self.summary)


# --------------------------------------------------------------------------- helpers
def _resolve(path: str, ef: EntityFrame, profile: SystemProfile) -> Resolution:
    return resolve_path(path, ef.frame.columns, ef.entity, ef.id_column, ef.height > 0, profile)


def _key_frame(ef: EntityFrame, name: str, columns: Mapping[str, str], native: bool = False) -> pl.DataFrame:
    """``name`` (the id as text, or as Int64 when ``native``) plus the needed value
    columns renamed."""
    frame = ef.frame
    key = pl.col(ef.id_column)
    exprs = [(key.cast(pl.Int64) if native else text_expr(key, frame.schema[ef.id_column])).alias(name)]
    exprs += [pl.col(col).alias(alias) for col, alias in columns.items()]
    return frame.select(exprs)


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


def _ambiguous_rows(
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
        sv = _records(se, sub.get_column("source_key")).select(
            text_expr(pl.col(se.id_column), se.frame.schema[se.id_column]).alias("source_key"),
            text_expr(pl.col(rc.source_column), se.frame.schema[rc.source_column]).alias("source_value"),
        )
        tv = _records(te, sub.get_column("target_key")).select(
            text_expr(pl.col(te.id_column), te.frame.schema[te.id_column]).alias("target_key"),
            text_expr(pl.col(rc.target_column), te.frame.schema[rc.target_column]).alias("target_value"),
        )
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


# --------------------------------------------------------------------------- one pair
def audit_pair(
    flow: Flow,
    pair: Pair,
    se: EntityFrame,
    te: EntityFrame,
    policy: Policy,
    links_table: pl.DataFrame | None = None,
) -> PairResult:
    """Audit one pair of entity frames.

    Parameters
    ----------
    flow : Flow
        The flow (for the suite name).
    pair : Pair
        The pair to audit.
    se, te : EntityFrame
        Source and target entity frames.
    policy : Policy
    links_table : pl.DataFrame, optional
        Explicit links (``source_id, target_id``) for a pair without merge rules.
    """
    ctx = fnd.PairContext(pair.heading, pair.source_entity, pair.target_entity)
    profiles = profiles_for(flow.source_system, flow.target_system)
    unresolved: list[tuple[str, str]] = []
    parts: list[pl.DataFrame] = []

    # 1-2. merge rules and links
    rules: list[tuple[int, RuleColumns]] = []
    rules_summary = []
    for index, rule in enumerate(pair.merge_rules):
        rs, rt = _resolve(rule.source, se, profiles.source), _resolve(rule.target, te, profiles.target)
        rules_summary.append(
            {
                "source": rule.source,
                "target": rule.target,
                "source_resolution": rs.to_dict(),
                "target_resolution": rt.to_dict(),
            }
        )
        if rs.unresolved or rt.unresolved:
            unresolved.append((rule.source, rule.target))
        if rs.resolved and rt.resolved:
            rules.append((index, RuleColumns(rule.source, rule.target, rs.column, rt.column)))
    s_keys = se.frame.get_column(se.id_column)
    t_keys = te.frame.get_column(te.id_column)
    stats: dict[str, Any] = {}
    linkable = True
    if pair.merge_rules:
        method = "merge_rules"
        edges = match_rules(se.frame, te.frame, [rc for _, rc in rules], se.id_column, te.id_column)
        linkable = bool(rules) or se.height == 0 or te.height == 0
    elif links_table is not None:
        method = "links_file"
        edges, dangling = match_links_file(links_table, s_keys, t_keys)
        stats["links_file_rows"] = links_table.height
        stats["links_file_dangling_rows"] = dangling
    else:
        method = "id"
        edges = None  # linked below, with the value columns, once they are known
    link = resolve_links(method, edges, s_keys, t_keys, stats) if edges is not None else None
    if link is not None and method == "merge_rules":
        per_rule = link.stats.pop("candidate_links_per_rule", {})
        for position, (index, _) in enumerate(rules):
            rules_summary[index]["candidate_links"] = per_rule.get(position, 0)
    if link is not None and not linkable:
        # No merge rule resolved: nothing can link, and listing every record as missing
        # would bury the real cause (the unresolved_property rows).
        empty_s = link.missing_in_target.head(0)
        empty_t = link.missing_in_source.head(0)
        link = replace(link, missing_in_target=empty_s, missing_in_source=empty_t)

    # 3. properties
    plan = plan_pair(pair, policy, profiles)
    s_needed: dict[str, str] = {}
    t_needed: dict[str, str] = {}
    checks: list[PropertyCheck] = []
    prop_summaries: list[dict[str, Any]] = []
    null_columns: list[str] = []
    for planned in plan:
        prop = planned.prop
        entry: dict[str, Any] = {
            "key": planned.key,
            "source": prop.source,
            "target": prop.target,
            "datatype": prop.datatype,
            "mode": "link_key" if planned.link_key and planned.mode != "ignore" else planned.mode,
            **{k: v for k, v in planned.treatment.to_dict().items() if k != "mode"},
        }
        prop_summaries.append(entry)
        if planned.mode == "ignore":
            entry.update(checked=0, failing=0)
            continue
        rs, rt = _resolve(prop.source, se, profiles.source), _resolve(prop.target, te, profiles.target)
        entry["source_resolution"] = rs.to_dict()
        entry["target_resolution"] = rt.to_dict()
        if rs.unresolved or rt.unresolved:
            unresolved.append((prop.source, prop.target))
        elif not (rs.resolved and rt.resolved):  # an empty entity: nothing to compare
            null_columns += [typeok_column(planned.key)] + (
                [eq_column(planned.key)] if planned.checks_equal else []
            )
        s_col = t_col = None
        if rs.resolved:
            s_col = s_needed.setdefault(rs.column, f"s::{rs.column}")
        if rt.resolved:
            t_col = t_needed.setdefault(rt.column, f"t::{rt.column}")
        # conditions: same path -> any of its values; different paths -> all must hold
        by_path: dict[str, list[str]] = {}
        for cond in prop.conditions:
            by_path.setdefault(cond.path, []).append(cond.value)
        condition = []
        evaluable = True
        cond_summary = []
        for path, values in by_path.items():
            cs, ct = _resolve(path, se, profiles.source), _resolve(path, te, profiles.target)
            if cs.resolved:
                column, side = s_needed.setdefault(cs.column, f"s::{cs.column}"), "source"
            elif ct.resolved:
                column, side = t_needed.setdefault(ct.column, f"t::{ct.column}"), "target"
            else:
                column, side = None, None
                evaluable = False
            if column:
                condition.append((column, tuple(values)))
            cond_summary.append(
                {
                    "path": path,
                    "values": values,
                    "side": side,
                    "column": cs.column if side == "source" else ct.column if side else None,
                    "evaluable": column is not None,
                }
            )
        if cond_summary:
            entry["conditions"] = cond_summary
            if not evaluable:
                entry["note"] = "condition path resolves on neither side: property checked on no record"
        checks.append(
            PropertyCheck(
                key=planned.key,
                source_column=s_col,
                target_column=t_col,
                datatype=prop.datatype,
                normalizers=planned.treatment.normalizers,
                date=planned.treatment.date,
                empty_equals_missing=policy.empty_equals_missing,
                check_equal=planned.checks_equal,
                check_type=True,
                condition=tuple(condition),
                condition_evaluable=evaluable,
            )
        )
    # ids linked in one join match as integers when both sides' ids are integers
    native = link is None and native_keys(s_keys.dtype, t_keys.dtype)
    s_frame = _key_frame(se, "source_key", s_needed, native)
    t_frame = _key_frame(te, "target_key", t_needed, native)
    by_ids = link_ids(s_frame, t_frame, stats) if link is None else None
    if by_ids is not None:  # unique ids: links and values in one join
        link, linked = by_ids
    else:
        if link is None:
            link = resolve_links(method, match_ids(s_keys, t_keys), s_keys, t_keys, stats)
        linked = link.linked
        # the value columns of each side, when the pair compares any
        if s_needed:
            linked = linked.join(text_keys(s_frame), on="source_key", how="left")
        if t_needed:
            linked = linked.join(text_keys(t_frame), on="target_key", how="left")
    del s_frame, t_frame
    parts.append(
        fnd.link_findings(
            ctx, link.missing_in_target, link.missing_in_source, _ambiguous_rows(link, se, te, rules)
        )
    )
    compared = compare_linked(linked, checks)
    if null_columns:
        compared = compared.with_columns([pl.lit(None, dtype=pl.Int8).alias(c) for c in null_columns])
    for planned, check in zip([p for p in plan if p.mode != "ignore"], checks, strict=True):
        if planned.mode == "compare" and check.resolved:
            parts.append(
                fnd.property_findings(
                    ctx,
                    compared,
                    planned.key,
                    planned.prop.source,
                    planned.prop.target,
                    check.source_column,
                    check.target_column,
                    mismatch=planned.checks_equal,
                    type_violation=True,
                )
            )
    parts.append(fnd.unresolved_findings(ctx, unresolved))

    # counts per property, in one pass
    count_exprs = []
    for entry in prop_summaries:
        for prefix in ("eq__", "typeok__"):
            col = prefix + entry["key"]
            if col in compared.columns:
                count_exprs += [
                    pl.col(col).count().alias(f"n:{col}"),
                    (pl.col(col) == 0).sum().alias(f"f:{col}"),
                ]
    counts = compared.select(count_exprs).row(0, named=True) if count_exprs else {}
    for entry in prop_summaries:
        if entry["mode"] == "ignore":
            continue
        eq, ty = eq_column(entry["key"]), typeok_column(entry["key"])
        unequal = int(counts.get(f"f:{eq}") or 0)
        badtype = int(counts.get(f"f:{ty}") or 0)
        checked = counts.get(f"n:{eq}") if f"n:{eq}" in counts else counts.get(f"n:{ty}", 0)
        entry["checked"] = int(checked or 0)
        if entry["mode"] == "informational":
            entry.update(failing=0, differing=unequal)
        else:
            entry.update(mismatch=unequal, type_violation=badtype, failing=unequal + badtype)
        resolved = (
            "source_resolution" in entry
            and entry["source_resolution"]["via"] is not None
            and entry["target_resolution"]["via"] is not None
        )
        if not resolved:
            entry["unresolved"] = [
                side for side in ("source", "target") if entry[f"{side}_resolution"]["via"] is None
            ]

    # 4. validation
    wait_for_warm_up()
    suite = build_suite(flow, pair, policy)
    vframe = validation_frame(link, compared)
    vframe = vframe.with_columns([pl.lit(None, dtype=pl.Int8).alias(f"rule__{i:02d}") for i, _ in rules])
    gx_result = validate(vframe, suite, policy.gx_partial_unexpected_count)

    # 5. findings and summary
    pair_findings = fnd.concat_findings(parts, [pair.heading])
    status_counts = {s: 0 for s in STATUSES}
    for status, n in pair_findings.group_by("status").len().iter_rows():
        status_counts[status] = int(n)
    failing = policy.fail_on.failing()
    success = not any(status_counts[s] for s in failing)
    slug = pair_slug(pair)
    summary = {
        "pair": pair.heading,
        "slug": slug,
        "source_entity": pair.source_entity,
        "target_entity": pair.target_entity,
        "source_file": se.file,
        "target_file": te.file,
        "source_generation": se.generation,
        "target_generation": te.generation,
        "source_records": se.height,
        "target_records": te.height,
        "linked": link.linked.height,
        "link_method": method,
        "link_coverage": round(link.linked.height / se.height, 6) if se.height else None,
        "missing_in_target": link.missing_in_target.height,
        "missing_in_source": link.missing_in_source.height,
        "ambiguous_links": link.ambiguous.height,
        "link": {**link.stats, "linkable": linkable, "merge_rules": rules_summary},
        "properties": prop_summaries,
        "status_counts": status_counts,
        "success": success,
        "gx": {
            "file": f"gx/{slug}.json",
            "success": bool(gx_result.get("success")),
            "critical_success": critical_success(gx_result),
            "evaluated_expectations": len(gx_result.get("results", [])),
        },
    }
    return PairResult(pair.heading, slug, pair_findings, summary, gx_result, suite_dict(suite), success)


# --------------------------------------------------------------------------- the flow
def _as_flow(flow: Flow | str | Path) -> Flow:
    if isinstance(flow, Flow):
        return flow
    from audit.flow.parser import parse_file

    return parse_file(flow)


def _as_policy(policy: Policy | str | Path | None) -> Policy:
    if policy is None:
        return default_policy()
    if isinstance(policy, Policy):
        return policy
    return load_policy(policy)


def _flow_paths(flow: Flow) -> tuple[str, ...]:
    """Every path the flow names (merge rules, properties, conditions), either side."""
    paths: dict[str, None] = {}
    for pair in flow.pairs:
        for rule in pair.merge_rules:
            paths.update(dict.fromkeys((rule.source, rule.target)))
        for prop in pair.properties:
            paths.update(dict.fromkeys((prop.source, prop.target, *(c.path for c in prop.conditions))))
    return tuple(paths)


def _needed_columns(
    stem: str, paths: tuple[str, ...], profile: SystemProfile
) -> Callable[[list[str]], set[str | None]]:
    """A column chooser for :func:`~audit.core.snapshot.read_entity_file`: the columns any of
    ``paths`` resolves to in an entity file (the reader keeps the id column too).

    The audit of a pair never looks at another column, and each path resolves against the
    kept columns exactly as against all of them (the column it found is kept, in its
    place, and the others it passed over were not matches), so dropping the rest while
    reading changes no result and saves converting and holding most of a wide entity.
    """

    def choose(columns: list[str]) -> set[str | None]:
        id_column = find_id_column(columns)
        return {resolve_path(path, columns, stem, id_column, profile=profile).column for path in paths}

    return choose


class _SnapshotLoader:
    """The two snapshots of a run, their files read on a background thread in the order
    the pairs need them, so a pair is audited while the files of the next ones are read.

    Reading is native pyarrow work and auditing a pair mostly native polars work; both
    release the interpreter, so the two overlap on separate cores. The outcome is that of
    reading both snapshots first, file by file: when anything fails, :meth:`raise_read_error`
    replays that sequential read (using the files already read, reading again those
    already let go) and raises the error it would have met first. A file is let go
    (:meth:`release`) once no later pair reads it.
    """

    def __init__(self, flow: Flow, source: Snapshot | str | Path, target: Snapshot | str | Path) -> None:
        self._inputs = {"source": source, "target": target}
        self._entities = {
            "source": [p.source_entity for p in flow.pairs],
            "target": [p.target_entity for p in flow.pairs],
        }
        self._paths = _flow_paths(flow)
        self._profiles = profiles_for(flow.source_system, flow.target_system)._asdict()
        self._futures: dict[tuple[str, str], Future] = {}
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="audit-read")
        for pair in flow.pairs:
            for side, entity in (("source", pair.source_entity), ("target", pair.target_entity)):
                self._submit(side, entity)

    def _submit(self, side: str, entity: str) -> None:
        snap = self._inputs[side]
        if isinstance(snap, Snapshot):
            return
        try:
            path = entity_file(snap, entity_file_stem(entity))
        except SnapshotError:
            return  # raised in order by the sequential replay
        key = (side, str(path))
        if key not in self._futures:
            self._futures[key] = self._pool.submit(self._read_needed, path, entity_file_stem(entity), side)

    def _read_needed(self, path: Path, stem: str, side: str) -> EntityFrame:
        return read_entity_file(path, stem, columns=_needed_columns(stem, self._paths, self._profiles[side]))

    def release(self, pairs_left: list[Pair]) -> None:
        """Let go of the files no pair in ``pairs_left`` reads (their memory is reused by the
        next files; an error replay reads a released file again)."""
        keep = set()
        for pair in pairs_left:
            for side, entity in (("source", pair.source_entity), ("target", pair.target_entity)):
                snap = self._inputs[side]
                if not isinstance(snap, Snapshot):
                    try:
                        keep.add((side, str(entity_file(snap, entity_file_stem(entity)))))
                    except SnapshotError:
                        pass
        for key in [k for k, f in self._futures.items() if k not in keep and f.done()]:
            del self._futures[key]

    def entity(self, side: str, name: str) -> EntityFrame:
        """The frame of entity ``name`` on ``side`` (``source`` or ``target``)."""
        snap = self._inputs[side]
        if isinstance(snap, Snapshot):
            return snap.entity(name)
        path = entity_file(snap, entity_file_stem(name))
        future = self._futures.get((side, str(path)))
        return future.result() if future is not None else read_entity_file(path, entity_file_stem(name))

    def _read(self, side: str) -> Callable[[Path, str], EntityFrame]:
        def read(path: Path, stem: str) -> EntityFrame:
            future = self._futures.get((side, str(path)))
            if future is not None and not future.cancelled():
                return future.result()
            return read_entity_file(path, stem)

        return read

    def snapshots(self) -> tuple[Snapshot, Snapshot]:
        """Both snapshots, as :func:`~audit.core.snapshot.read_snapshot` gives them."""
        out = []
        for side in ("source", "target"):
            snap = self._inputs[side]
            if not isinstance(snap, Snapshot):
                snap = read_snapshot(snap, self._entities[side], read=self._read(side))
            out.append(snap)
        return out[0], out[1]

    def raise_read_error(self) -> None:
        """Raise the error reading both snapshots in order would have raised, if any."""
        self.close()
        self.snapshots()

    def close(self) -> None:
        """Stop reading files not started yet and wait for the one being read."""
        self._pool.shutdown(wait=True, cancel_futures=True)


def run_audit(
    flow: Flow | str | Path,
    source: Snapshot | str | Path,
    target: Snapshot | str | Path,
    links_dir: str | Path | None = None,
    policy: Policy | str | Path | None = None,
    links: Mapping[tuple[str, str], pl.DataFrame] | None = None,
    progress: Progress | None = None,
) -> AuditResult:
    """Audit every pair of a flow.

    Parameters
    ----------
    flow : Flow or path
        The parsed flow, or a dataflow document to parse.
    source, target : Snapshot or path
        The two tenants' snapshots (or snapshot directories; the same directory may be
        given twice). The source holds the pairs' source entities, the target their
        target entities.
    links_dir : path, optional
        Directory of explicit links files (``<source>-<target>.csv``).
    policy : Policy or path, optional
        The audit policy, or a policy file; default: the shipped default policy.
    links : mapping, optional
        Explicit links already read, keyed by ``(source stem, target stem)``; used
        instead of ``links_dir``.
    progress : callable, optional
        Called with a short text before each pair.

    Returns
    -------
    AuditResult

    Raises
    ------
    SnapshotError, ConfigError, DocumentError
        Bad input (exit code 2).
    """
    started_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    flow = _as_flow(flow)
    policy = _as_policy(policy)
    if not flow.pairs:
        raise ConfigError(f"{flow.file or flow.title}: the flow has no pairs to audit")
    source_dir = None if isinstance(source, Snapshot) else str(source)
    target_dir = None if isinstance(target, Snapshot) else str(target)
    warm_up()  # GX imports while the snapshots are read
    loader = _SnapshotLoader(flow, source, target)
    results: list[PairResult] = []
    try:
        if links is None:
            links = read_links_dir(links_dir, [(p.source_entity, p.target_entity) for p in flow.pairs])
        for position, pair in enumerate(flow.pairs):
            if progress:
                progress(pair.heading)
            se = loader.entity("source", pair.source_entity)
            te = loader.entity("target", pair.target_entity)
            table = (
                None
                if pair.merge_rules
                else links.get((entity_file_stem(pair.source_entity), entity_file_stem(pair.target_entity)))
            )
            results.append(audit_pair(flow, pair, se, te, policy, table))
            del se, te
            loader.release(list(flow.pairs[position + 1 :]))
    except Exception:
        loader.raise_read_error()
        raise
    finally:
        loader.close()
    headings = [p.heading for p in flow.pairs]
    if len(set(headings)) == len(headings):
        # each pair's rows are already in findings order, so in flow order they all are
        all_findings = pl.concat([r.findings for r in results]) if results else fnd.empty_findings()
    else:
        all_findings = fnd.concat_findings([r.findings for r in results], headings)
    status_counts = {s: sum(r.summary["status_counts"][s] for r in results) for s in STATUSES}
    success = all(r.success for r in results)
    summary = {
        "success": success,
        "started_at": started_at,
        "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "flow": {"title": flow.title, "file": flow.file},
        "source": source_dir or source.directory,
        "target": target_dir or target.directory,
        "links": str(links_dir) if links_dir is not None else None,
        "failing_statuses": sorted(policy.fail_on.failing(), key=STATUSES.index),
        "status_counts": status_counts,
        "findings": all_findings.height,
        "pairs": [r.summary for r in results],
        "policy": policy.to_dict(),
    }
    return AuditResult(
        findings=all_findings,
        summary=summary,
        success=success,
        gx_results={r.slug: r.gx_result for r in results},
        suites={r.slug: r.suite for r in results},
        pairs=tuple(results),
    )


def write_outputs(result: AuditResult, out_dir: str | Path) -> dict[str, Path]:
    """Write ``findings.parquet``, ``findings.csv``, ``summary.json`` and
    ``gx/<pair slug>.json`` into ``out_dir`` (created when missing).

    Returns
    -------
    dict
        What was written, by kind.
    """
    out = Path(out_dir)
    (out / "gx").mkdir(parents=True, exist_ok=True)
    paths = {
        "findings_parquet": out / "findings.parquet",
        "findings_csv": out / "findings.csv",
        "summary": out / "summary.json",
    }
    frame = result.findings.select(fnd.FINDINGS_COLUMNS)
    # the two files are written at once (polars leaves the interpreter while it writes)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="audit-write") as pool:
        csv = pool.submit(frame.write_csv, paths["findings_csv"])
        frame.write_parquet(paths["findings_parquet"])
        csv.result()
    paths["summary"].write_text(
        json.dumps(result.summary, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8"
    )
    for slug, gx_result in result.gx_results.items():
        path = out / "gx" / f"{slug}.json"
        path.write_text(
            json.dumps(gx_result, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8"
        )
        paths[f"gx:{slug}"] = path
    return paths
