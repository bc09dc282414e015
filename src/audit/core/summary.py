"""The summaries of an audit (``summary.json``): one per pair, and one for the run.

Each pair's summary says how its records linked, what each property check found, how many
findings of each status it has and what its GX validation concluded; the run's summary
adds them up and records the inputs and the policy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import polars as pl

from audit.core.compare import eq_column, typeok_column
from audit.core.links import LinkResult
from audit.core.pair_links import CandidateLinks
from audit.core.policy import STATUSES, Policy
from audit.core.snapshot import EntityFrame
from audit.flow.model import Flow, Pair
from audit.flow.profile import SystemProfile, profiles_for
from audit.gx.user_suites import WHERE_KEY
from audit.gx.validate import critical_success

__all__ = ["now", "count_properties", "status_counts", "pair_summary", "run_summary", "link_warning"]

#: A pair that links fewer than this share of its source records is warned about.
LOW_COVERAGE = 0.5

_HOW = {
    "merge_rules": "its merge rules",
    "links_file": "its links file",
    "sesam": "the Sesam export",
    "id": "matching id to id",
}


def now() -> str:
    """The current UTC time, to the second, in ISO format."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _count_exprs(compared: pl.DataFrame, summaries: Sequence[dict[str, Any]]) -> list[pl.Expr]:
    """Per compact column of the properties: its non-null count and its count of zeros."""
    exprs = []
    for entry in summaries:
        for prefix in ("eq__", "typeok__"):
            col = prefix + entry["key"]
            if col in compared.columns:
                exprs += [
                    pl.col(col).count().alias(f"n:{col}"),
                    (pl.col(col) == 0).sum().alias(f"f:{col}"),
                ]
    return exprs


def _record_counts(entry: dict[str, Any], counts: dict[str, Any]) -> None:
    """Write the counts of one checked property into its summary entry."""
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
        entry["unresolved"] = [side for side in ("source", "target") if entry[f"{side}_resolution"]["via"] is None]


def count_properties(compared: pl.DataFrame, summaries: Sequence[dict[str, Any]]) -> None:
    """Fill in each checked property's counts (``checked``, ``failing``, ...) from the
    compared frame, counted in one pass."""
    exprs = _count_exprs(compared, summaries)
    counts = compared.select(exprs).row(0, named=True) if exprs else {}
    for entry in summaries:
        if entry["mode"] != "ignore":
            _record_counts(entry, counts)


def status_counts(findings: pl.DataFrame) -> dict[str, int]:
    """The number of findings of each status (every status, in report order)."""
    counts = {s: 0 for s in STATUSES}
    for status, n in findings.group_by("status").len().iter_rows():
        counts[status] = int(n)
    return counts


def link_warning(pair: str, method: str, linked: int, records: int) -> str | None:
    """The warning for a pair that links under half of its source records, naming how it
    was linked; ``None`` otherwise (and for a pair without source records).

    So few links usually mean wrong links (ids of two unrelated id spaces, a Sesam export
    of other datasets), not drift; the findings of such a pair are mostly noise.
    """
    if not records or linked / records >= LOW_COVERAGE:
        return None
    return (
        f"{pair}: only {linked} of {records} source records ({linked / records:.1%}) linked by "
        f"{_HOW.get(method, method)} (link method {method}); the links are probably wrong, so most "
        "of this pair's findings are too"
    )


@dataclass(frozen=True)
class SideFacts:
    """What a pair's summary says of one side's entity file (kept instead of its frame)."""

    file: str | None
    generation: str | None
    height: int
    warnings: tuple[str, ...]


def side_facts(ef: EntityFrame) -> SideFacts:
    """The summary's facts of an entity frame."""
    return SideFacts(ef.file, ef.generation, ef.height, tuple(ef.problems.warnings))


def pair_summary(
    pair: Pair,
    slug: str,
    sides: tuple[SideFacts, SideFacts],
    candidates: CandidateLinks,
    link: LinkResult,
    rules: list[dict[str, Any]],
    properties: list[dict[str, Any]],
    findings: pl.DataFrame,
    policy: Policy,
    gx_result: dict[str, Any],
) -> dict[str, Any]:
    """The summary of one pair (one entry of ``summary.json``'s ``pairs``)."""
    se, te = sides
    counts = status_counts(findings)
    return {
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
        "link_method": candidates.method,
        "link_coverage": round(link.linked.height / se.height, 6) if se.height else None,
        "link_warning": link_warning(pair.heading, candidates.method, link.linked.height, se.height),
        "missing_in_target": link.missing_in_target.height,
        "missing_in_source": link.missing_in_source.height,
        "ambiguous_links": link.ambiguous.height,
        "warnings": [*se.warnings, *te.warnings, *_user_not_run(pair.heading, gx_result)],
        "link": {**link.stats, "linkable": candidates.linkable, "merge_rules": rules},
        "properties": properties,
        "status_counts": counts,
        "success": not any(counts[s] for s in policy.fail_on.failing()),
        "gx": {
            "file": f"gx/{slug}.json",
            "success": bool(gx_result.get("success")),
            "critical_success": critical_success(gx_result),
            "evaluated_expectations": len(gx_result.get("results", [])),
            "user_expectations": sum(1 for item in gx_result.get("results", []) if _origin(item) == "user"),
        },
    }


def _origin(item: dict[str, Any]) -> str | None:
    return ((item.get("expectation_config") or {}).get("meta") or {}).get("origin")


def _user_not_run(pair: str, gx_result: dict[str, Any]) -> list[str]:
    """A warning per user expectation that could not run (GX raised, e.g. on a column the
    pair's table does not have)."""
    out = []
    for item in gx_result.get("results", []):
        info = item.get("exception_info") or {}
        if _origin(item) == "user" and info.get("raised_exception"):
            config = item.get("expectation_config") or {}
            message = info.get("exception_message") or "it raised"
            where = (config.get("meta") or {}).get(WHERE_KEY)
            named = f"{config.get('type')} ({where})" if where else config.get("type")
            out.append(f"{pair}: your expectation {named} could not run: {message}")
    return out


def _profiles(flow: Flow) -> tuple[SystemProfile, SystemProfile]:
    return profiles_for(flow.source_system, flow.target_system)


def run_summary(
    flow: Flow,
    policy: Policy,
    pairs: Sequence[dict[str, Any]],
    findings: int,
    started_at: str,
    inputs: dict[str, str | None],
) -> dict[str, Any]:
    """The content of ``summary.json``: the pairs' summaries (``pairs``) added up.

    ``inputs`` holds the ``source`` and ``target`` directories and the ``links`` directory.
    """
    counts = {s: sum(p["status_counts"][s] for p in pairs) for s in STATUSES}
    return {
        "success": all(p["success"] for p in pairs),
        "started_at": started_at,
        "finished_at": now(),
        "flow": {"title": flow.title, "file": flow.file},
        "profiles": {side: p.name for side, p in zip(("source", "target"), _profiles(flow), strict=True)},
        **inputs,
        "failing_statuses": sorted(policy.fail_on.failing(), key=STATUSES.index),
        "status_counts": counts,
        "findings": findings,
        "warnings": [p["link_warning"] for p in pairs if p.get("link_warning")]
        + list(dict.fromkeys(w for p in pairs for w in p.get("warnings", []))),
        "pairs": list(pairs),
        "policy": policy.to_dict(),
    }
