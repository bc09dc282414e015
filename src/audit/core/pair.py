"""The audit of one pair of entity frames: links, comparison, validation, findings.

:func:`prepare_pair` then :func:`finish_pair` run the steps in order, each a function of its own
(``finish_pair(prepare_pair(...))`` audits a pair in one go):

1. bind the merge rules' and properties' paths to columns (:mod:`audit.core.binding`);
2. link the records and gather the linked values (:mod:`audit.core.pair_links`);
3. compare each property on the linked records (:mod:`audit.core.compare`);
4. collect every failing record into the findings table (:mod:`audit.core.findings`);
5. validate the linked values with the pair's GX suite and the user's own (:mod:`audit.gx`);
6. summarise (:mod:`audit.core.summary`).
"""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from audit.core import findings as fnd
from audit.core.binding import BoundRules, CheckPlan, bind_rules, plan_checks
from audit.core.compare import compare_linked
from audit.core.link_sources import GivenLinks
from audit.core.links import LinkResult
from audit.core.pair_links import ambiguous_rows, link_candidates, link_values
from audit.core.policy import Policy
from audit.core.problems import demote_duplicates
from audit.core.snapshot import EntityFrame
from audit.core.summary import count_properties, pair_summary, side_facts
from audit.flow.model import Flow, Pair
from audit.flow.profile import profiles_for
from audit.gx.columns import rule_column, value_columns
from audit.gx.suites import build_suite, pair_slug, suite_dict
from audit.gx.user_suites import load_user_suite, user_findings
from audit.gx.validate import validate, validation_frame, wait_for_warm_up

__all__ = ["PairResult", "PreparedPair", "prepare_pair", "validate_ids", "id_samples", "finish_pair"]

SIDES = ("source", "target")


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


@dataclass
class PreparedPair:
    """A pair linked and compared, its findings gathered, ready for its GX validation
    (:func:`finish_pair`); holds no entity frame, so the next pair can be read meanwhile."""

    flow: Flow
    pair: Pair
    policy: Policy
    user_suite: Any
    vframe: pl.DataFrame
    parts: list[pl.DataFrame]
    summary_args: tuple


def validate_ids(flow: Flow, pair: Pair, policy: Policy, records: pl.DataFrame, samples: int) -> dict[str, Any]:
    """The pair's id expectations on its two sides' records
    (:func:`audit.gx.validate.records_frame`): a run validates them on its GX thread as
    soon as the pair's files are read, while the pair is linked and compared.

    ``samples`` is how many unexpected ids GX lists (:func:`id_samples`)."""
    wait_for_warm_up()
    return validate(records, build_suite(flow, pair, policy, "ids"), samples)


def id_samples(policy: Policy, se: EntityFrame, te: EntityFrame) -> int:
    """How many unexpected ids the id expectations list: the policy's count where a side has
    duplicate or missing ids, else none. GX still counts them itself; the list it would
    fetch is then known to be empty, and asking for none spares DuckDB a second
    ``count(*) OVER (PARTITION BY id)`` window per side (``LIMIT 0`` is not executed)."""
    found = any(ef.problems.duplicates.height or ef.problems.missing.height for ef in (se, te))
    return policy.gx_partial_unexpected_count if found else 0


def prepare_pair(
    flow: Flow,
    pair: Pair,
    se: EntityFrame,
    te: EntityFrame,
    policy: Policy,
    links_table: GivenLinks | pl.DataFrame | None = None,
    user_suite: Any = None,
) -> PreparedPair:
    """Link and compare one pair of entity frames and gather its findings: everything of the
    audit of a pair up to the GX validation (:func:`finish_pair`).

    Parameters
    ----------
    flow : Flow
        The flow (for the suite name).
    pair : Pair
        The pair to audit.
    se, te : EntityFrame
        Source and target entity frames.
    policy : Policy
    links_table : GivenLinks or pl.DataFrame, optional
        The links a link source gives a pair without merge rules (a bare frame
        ``source_id, target_id`` is a links file's).
    user_suite : great_expectations.ExpectationSuite or path, optional
        The user's own expectations for the pair, or their file (:mod:`audit.gx.user_suites`;
        read when the pair is validated, none when the file does not exist).
    """
    profiles = profiles_for(flow.source_system, flow.target_system)
    se, te = se.of_system(profiles.source), te.of_system(profiles.target)
    ctx = fnd.PairContext(pair.heading, pair.source_entity, pair.target_entity)
    rules = bind_rules(pair, se, te, policy)
    candidates = link_candidates(pair, se, te, rules, links_table)
    plan = plan_checks(pair, policy, se, te)
    link, linked = link_values(candidates, se, te, plan)
    link, linked = demote_duplicates(link, linked, se.problems.duplicate_keys, te.problems.duplicate_keys)
    ambiguous = ambiguous_rows(link, se, te, rules.columns)
    parts = [fnd.link_findings(ctx, link.missing_in_target, link.missing_in_source, ambiguous)]
    for side, ef in zip(SIDES, (se, te), strict=True):
        parts.append(fnd.problem_findings(ctx, side, ef.id_column, ef.problems))
    compared = _compare(linked, plan)
    del linked
    parts += _property_findings(ctx, compared, plan)
    parts.append(fnd.unresolved_findings(ctx, rules.unresolved + plan.unresolved))
    count_properties(compared, plan.summaries)
    vframe = _validation_frame(pair, (link, compared, rules, plan), (se, te))
    sides = (side_facts(se), side_facts(te))
    summary_args = (sides, candidates, link, rules.summary, plan.summaries)
    return PreparedPair(flow, pair, policy, user_suite, vframe, parts, summary_args)


def finish_pair(prepared: PreparedPair, ids: Future | dict[str, Any] | None = None) -> PairResult:
    """Validate a prepared pair with its GX suites and summarise it.

    ``ids`` is the result of its id expectations when they were validated first
    (:func:`validate_ids`); without it the whole suite is validated here."""
    flow, pair, policy = prepared.flow, prepared.pair, prepared.policy
    wait_for_warm_up()
    suite = build_suite(flow, pair, policy)
    own = prepared.user_suite
    own = load_user_suite(own) if isinstance(own, (str, Path)) else own
    partial = policy.gx_partial_unexpected_count
    if ids is None:
        gx_result = validate(prepared.vframe, suite, partial, own)
    else:  # the id expectations were validated first: the others, then their result
        ids = ids.result() if isinstance(ids, Future) else ids
        gx_result = validate(prepared.vframe, build_suite(flow, pair, policy, "values"), partial, own, then=ids)
    ctx = fnd.PairContext(pair.heading, pair.source_entity, pair.target_entity)
    pair_findings = fnd.concat_findings([*prepared.parts, user_findings(ctx, gx_result)], [pair.heading])
    slug = pair_slug(pair)
    summary = pair_summary(pair, slug, *prepared.summary_args, pair_findings, policy, gx_result)
    return PairResult(pair.heading, slug, pair_findings, summary, gx_result, suite_dict(suite), summary["success"])


def _compare(linked: pl.DataFrame, plan: CheckPlan) -> pl.DataFrame:
    """The linked frame with the compact agreement columns of every check (all null for
    the properties that cannot be compared)."""
    compared = compare_linked(linked, plan.checks, keep_texts=True)
    if plan.null_columns:
        compared = compared.with_columns([pl.lit(None, dtype=pl.Int8).alias(c) for c in plan.null_columns])
    return compared


def _property_findings(ctx: fnd.PairContext, compared: pl.DataFrame, plan: CheckPlan) -> list[pl.DataFrame]:
    """The findings of every compared (``compare`` mode) and resolved property."""
    parts = []
    for planned, check in zip(plan.planned, plan.checks, strict=True):
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
    return parts


def _validation_frame(
    pair: Pair,
    audited: tuple[LinkResult, pl.DataFrame, BoundRules, CheckPlan],
    sides: tuple[EntityFrame, EntityFrame],
) -> pl.DataFrame:
    """The table the pair's GX suites validate (:func:`audit.gx.validate.validation_frame`)."""
    link, compared, rules, plan = audited
    columns = value_columns(plan.planned)
    resolved_rules = [rule_column(pair.merge_rules[index]) for index, _ in rules.columns]
    return validation_frame(link, compared, sides, columns, resolved_rules)
