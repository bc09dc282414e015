"""The audit of one flow: every pair audited, the results gathered, the outputs written.

:func:`run_audit` is the Python API the command line, the nightly notebook and the
write-back call. Given :class:`~audit.core.snapshot.Snapshot` objects it touches no file and
prints nothing; given directories it reads them through :mod:`audit.core.snapshot` first.
:func:`write_outputs` writes a result into an output directory in the ``audit run``
format (``findings.parquet``, ``findings.csv``, ``summary.json``, ``gx/<pair>.json``).

The pairs are audited in flow order (:mod:`audit.core.pair`): each is linked and compared
on the main thread (:func:`~audit.core.pair.prepare_pair`), then validated by its GX
suites on a worker thread (:func:`~audit.core.pair.finish_pair`) while the next pair is
linked (the suite's id expectations, which need only the two entity files, already while
the pair itself is linked: :func:`~audit.core.pair.validate_ids`), its entity files read
in the background by :mod:`audit.core.loader`; :mod:`audit.core.summary` adds up their
summaries.

The audit succeeds when no finding has a status the policy fails on. The GX verdict over
``critical`` expectations is recorded next to it (``gx.critical_success``) and agrees
with it by construction.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from audit.core import findings as fnd
from audit.core.link_sources import LinkSource, check_linkable, open_link_source
from audit.core.loader import SnapshotLoader
from audit.core.pair import PairResult, finish_pair, id_samples, prepare_pair, validate_ids
from audit.core.policy import Policy, default_policy, load_policy
from audit.core.snapshot import Snapshot
from audit.core.summary import now, run_summary
from audit.core.tenant_label import tenant_label
from audit.errors import ConfigError
from audit.flow.model import Flow
from audit.gx.user_suites import user_suite_path
from audit.gx.validate import records_frame, warm_up

__all__ = ["AuditResult", "PairResult", "run_audit", "write_outputs"]

Progress = Callable[[str], None]


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

    @classmethod
    def from_pairs(cls, pairs: list[PairResult], findings: pl.DataFrame, summary: dict[str, Any]) -> AuditResult:
        """The result of a run from its pairs' results, all their findings and its summary."""
        return cls(
            findings=findings,
            summary=summary,
            success=summary["success"],
            gx_results={r.slug: r.gx_result for r in pairs},
            suites={r.slug: r.suite for r in pairs},
            pairs=tuple(pairs),
        )


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


def _directory(snapshot: Snapshot | str | Path) -> str | None:
    """Where a snapshot was read from (for the summary)."""
    return (None if isinstance(snapshot, Snapshot) else str(snapshot)) or snapshot.directory


def _inputs(
    source: Snapshot | str | Path,
    target: Snapshot | str | Path,
    links_dir: str | Path | None,
    labels: Mapping[str, str | None],
) -> dict:
    """The run's input directories and its tenants' labels, as the summary records them."""
    dirs = {"source": _directory(source), "target": _directory(target)}
    return {
        **dirs,
        "links": str(links_dir) if links_dir is not None else None,
        **{f"{side}_label": tenant_label(labels.get(side), dirs[side]) for side in dirs},
    }


def _audit_pairs(
    flow: Flow,
    loader: SnapshotLoader,
    policy: Policy,
    links: LinkSource,
    progress: Progress | None,
    expectations_dir: str | Path | None = None,
) -> list[PairResult]:
    """Audit the pairs in flow order, each pair's files read while the previous pairs are
    audited. Any error is raised as reading both snapshots first would have raised it."""
    validating = ThreadPoolExecutor(max_workers=1, thread_name_prefix="audit-gx")
    linking = ThreadPoolExecutor(max_workers=1, thread_name_prefix="audit-links")
    given = [linking.submit(links.for_pair, flow, pair, policy.links) for pair in flow.pairs]  # while files read
    pending: list[Future[PairResult]] = []
    try:
        for position, pair in enumerate(flow.pairs):
            if progress:
                progress(pair.heading)
            se = loader.entity("source", pair.source_entity)
            te = loader.entity("target", pair.target_entity)
            own = user_suite_path(expectations_dir, flow, pair) if expectations_dir else None  # read by the worker
            samples = id_samples(policy, se, te)
            ids = validating.submit(validate_ids, flow, pair, policy, records_frame((se, te)), samples)
            prepared = prepare_pair(flow, pair, se, te, policy, given[position].result(), own)
            pending.append(validating.submit(finish_pair, prepared, ids))
            del se, te
            loader.release(list(flow.pairs[position + 1 :]))
        return [future.result() for future in pending]
    except Exception:
        loader.raise_read_error()
        raise
    finally:
        linking.shutdown(wait=True, cancel_futures=True)
        validating.shutdown(wait=True, cancel_futures=True)
        loader.close()


def _all_findings(flow: Flow, results: list[PairResult]) -> pl.DataFrame:
    """The findings of every pair in one table, in findings order."""
    headings = [p.heading for p in flow.pairs]
    if len(set(headings)) == len(headings):
        # each pair's rows are already in findings order, so in flow order they all are
        return pl.concat([r.findings for r in results]) if results else fnd.empty_findings()
    return fnd.concat_findings([r.findings for r in results], headings)


def _link_source(
    flow: Flow,
    policy: Policy,
    links_dir: str | Path | None,
    links: Mapping[tuple[str, str], pl.DataFrame] | None,
    link_by_id: bool,
) -> LinkSource:
    """The run's link source, once it is known every pair can be linked."""
    link_source = open_link_source(links_dir, flow, links)
    check_linkable(flow, link_source, policy.links, link_by_id)
    return link_source


def run_audit(
    flow: Flow | str | Path,
    source: Snapshot | str | Path,
    target: Snapshot | str | Path,
    links_dir: str | Path | None = None,
    policy: Policy | str | Path | None = None,
    links: Mapping[tuple[str, str], pl.DataFrame] | None = None,
    progress: Progress | None = None,
    link_by_id: bool = False,
    labels: Mapping[str, str | None] | None = None,
    expectations_dir: str | Path | None = None,
) -> AuditResult:
    """Audit every pair of a flow.

    Parameters
    ----------
    flow : Flow or path
        The parsed flow, or a dataflow document to parse.
    source, target : Snapshot or path
        The two tenants' snapshots or snapshot directories (may be the same one).
    links_dir : path, optional
        Links of pairs without merge rules: links files' directory or a Sesam export.
    policy : Policy or path, optional
        The audit policy, or a policy file; default: the shipped default policy.
    links : mapping, optional
        Links already read, by ``(source stem, target stem)`` (instead of ``links_dir``).
    progress : callable, optional
        Called with a short text before each pair.
    link_by_id : bool
        Link ``id`` to ``id`` the pairs of two entity types without merge rules or links
        (both sides share ids; also ``links: id`` in the policy).
    labels : mapping, optional
        The tenants' names in the run history (:mod:`audit.core.tenant_label`).
    expectations_dir : path, optional
        The user's own suites (:mod:`audit.gx.user_suites`); none when missing.

    Returns
    -------
    AuditResult

    Raises
    ------
    SnapshotError, ConfigError, DocumentError
        Bad input (exit code 2), e.g. a pair that cannot be linked (:func:`check_linkable`).
    """
    started_at = now()
    flow, policy = _as_flow(flow), _as_policy(policy)
    if not flow.pairs:
        raise ConfigError(f"{flow.file or flow.title}: the flow has no pairs to audit")
    warm_up()  # GX imports while the snapshots and links are read
    loader = SnapshotLoader(flow, source, target)  # starts reading the first pair's files
    try:
        link_source = _link_source(flow, policy, links_dir, links, link_by_id)
        results = _audit_pairs(flow, loader, policy, link_source, progress, expectations_dir)
    finally:
        loader.close()
    findings = _all_findings(flow, results)
    inputs = _inputs(source, target, links_dir, labels or {})
    summary = run_summary(flow, policy, [r.summary for r in results], findings.height, started_at, inputs)
    return AuditResult.from_pairs(results, findings, summary)


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")


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
    _write_json(paths["summary"], result.summary)
    for slug, gx_result in result.gx_results.items():
        path = out / "gx" / f"{slug}.json"
        _write_json(path, gx_result)
        paths[f"gx:{slug}"] = path
    return paths
