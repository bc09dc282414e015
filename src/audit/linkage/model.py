"""The record-linkage model: splink (Fellegi-Sunter) on DuckDB, trained without labels.

Per pair, the two sides' records (:func:`audit.linkage.fields.side_frame`) are compared
only where a blocking rule lets them meet: the same e-mail, the same last or first name
with the same date of birth, the same first and last name, the same phone number. Each
field is one comparison (names by Jaro-Winkler levels, the others exact). The model is
trained as splink's documentation describes for data without labels
(moj-analytical-services.github.io/splink, "Estimating model parameters"): ``u`` from
random pairs, ``m`` by expectation maximisation on the pairs of the first two blocking
rules (pairs sharing an e-mail, or a name with the date of birth, are mostly one person,
which is what expectation maximisation needs; blocked on one common field such as a last
name it settles on clusters of towns instead). The prior (how likely two random records
are one person) is not estimated from rules whose recall we would have to guess: each
record of a sync has at most one counterpart (:func:`prior`). The model's
``match_probability`` is the suggestion's ``score``.

splink is imported inside :func:`score_links` only.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import polars as pl

from audit.linkage.fields import ID, MatchField

__all__ = ["Scored", "blocking_keys", "score_links"]

#: Blocking rules of the predictions, in order; each is used when all its fields are mapped.
_BLOCKING: tuple[tuple[str, ...], ...] = (
    ("email",),
    ("last_name", "dob"),
    ("first_name", "dob"),
    ("first_name", "last_name"),
    ("phone",),
)
_SEED = 7
#: Fewer pairs than this teach expectation maximisation nothing reliable.
_MIN_EM_PAIRS = 10


def prior(left: int, right: int) -> float:
    """The chance that two random records are one person, when each record has at most
    one counterpart: about ``min(n, m)`` links among ``n * m`` pairs, ``1 / max(n, m)``."""
    return 1.0 / max(left, right, 2)


def blocking_keys(roles: Sequence[str]) -> list[tuple[str, ...]]:
    """The blocking rules the mapped ``roles`` allow (none: the pair cannot be matched)."""
    return [rule for rule in _BLOCKING if set(rule) <= set(roles)]


@dataclass
class Scored:
    """The scored candidate links of one pair, and what training could not estimate."""

    links: pl.DataFrame
    notes: list[str] = field(default_factory=list)


def _comparisons(roles: Sequence[str]) -> list:
    import splink.comparison_library as cl

    return [cl.NameComparison(r) if r in ("first_name", "last_name") else cl.ExactMatch(r) for r in roles]


def _pairs_sharing(left: pl.DataFrame, right: pl.DataFrame, rule: tuple[str, ...]) -> int:
    """How many source-target pairs agree on every field of ``rule`` (nulls never agree)."""
    keys = list(rule)
    sides = [t.select(keys).drop_nulls().group_by(keys).len() for t in (left, right)]
    joined = sides[0].join(sides[1], on=keys)
    return int((joined["len"] * joined["len_right"]).sum()) if joined.height else 0


def _em_rules(left: pl.DataFrame, right: pl.DataFrame, roles: Sequence[str], notes: list[str]) -> list:
    """The blocking rules expectation maximisation can learn from: the first two that
    leave a field to learn and find enough pairs."""
    usable = []
    for rule in blocking_keys(roles)[:2]:
        pairs = _pairs_sharing(left, right, rule)
        if set(roles) - set(rule) and pairs >= _MIN_EM_PAIRS:
            usable.append(rule)
        else:
            notes.append(f"m not trained on pairs sharing {' and '.join(rule)} ({pairs} such pairs)")
    return usable


def _linker(left: pl.DataFrame, right: pl.DataFrame, roles: Sequence[str]):
    """An untrained splink linker of the two sides on an in-memory DuckDB."""
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    settings = SettingsCreator(
        link_type="link_only",
        unique_id_column_name=ID,
        comparisons=_comparisons(roles),
        blocking_rules_to_generate_predictions=[block_on(*r) for r in blocking_keys(roles)],
        probability_two_random_records_match=prior(left.height, right.height),
        retain_matching_columns=True,
    )
    db = DuckDBAPI()
    tables = [db.register(t.to_arrow(), dataset_display_name=n) for t, n in ((left, "source"), (right, "target"))]
    return Linker(tables, settings, log_level=logging.ERROR)


def _trained(left: pl.DataFrame, right: pl.DataFrame, roles: Sequence[str], notes: list[str]):
    """A linker with ``u`` and, as far as the data allows, ``m`` estimated. Should
    expectation maximisation fail, the model keeps splink's default ``m`` values."""
    from splink import block_on

    # splink exports no exception class at its top level; this is the base of its own errors
    from splink.internals.exceptions import SplinkException

    linker = _linker(left, right, roles)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=_SEED)
    try:
        for rule in _em_rules(left, right, roles, notes):
            linker.training.estimate_parameters_using_expectation_maximisation(
                block_on(*rule), record_sample_proportion=1.0
            )
    except SplinkException as exc:
        notes.append(f"m not trained: {str(exc).split('  ')[0].strip()}")
        linker = _linker(left, right, roles)
        linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=_SEED)
    return linker


def _agreement(fields: Sequence[MatchField], frame: pl.DataFrame) -> tuple[pl.Expr, pl.Expr]:
    """``matched`` (fields equal on both sides) and ``differs`` (both set, unequal), as
    the source paths separated by ``;``."""
    def paths(test) -> pl.Expr:
        parts = [pl.when(test(f.role)).then(pl.lit(f.source)) for f in fields]
        return pl.concat_list(parts).list.drop_nulls().list.join(";")

    matched = paths(lambda r: pl.col(f"{r}_l") == pl.col(f"{r}_r"))
    differs = paths(lambda r: pl.col(f"{r}_l") != pl.col(f"{r}_r"))
    return matched.alias("matched"), differs.alias("differs")


def score_links(
    left: pl.DataFrame, right: pl.DataFrame, fields: Sequence[MatchField], threshold: float
) -> Scored:
    """Candidate links between ``left`` (source) and ``right`` (target) scoring at least
    ``threshold``: ``source_id, target_id, score, matched, differs``, best first."""
    notes: list[str] = []
    linker = _trained(left, right, [f.role for f in fields], notes)
    predicted = linker.inference.predict(threshold_match_probability=threshold, warning_mode="never")
    frame = pl.from_arrow(predicted.as_pyarrow_table())
    return Scored(_links(frame, fields), notes)


def _links(frame: pl.DataFrame, fields: Sequence[MatchField]) -> pl.DataFrame:
    """Splink's predictions as links rows, the source record always on the left."""
    swapped = pl.col("source_dataset_l") != "source"
    sides = {}
    for name in [ID] + [f.role for f in fields]:
        left, right = pl.col(f"{name}_l"), pl.col(f"{name}_r")
        sides[f"{name}_l"] = pl.when(swapped).then(right).otherwise(left)
        sides[f"{name}_r"] = pl.when(swapped).then(left).otherwise(right)
    frame = frame.with_columns(**sides)
    return frame.select(
        pl.col(f"{ID}_l").alias("source_id"),
        pl.col(f"{ID}_r").alias("target_id"),
        pl.col("match_probability").round(4).alias("score"),
        *_agreement(fields, frame),
    ).sort(["score", "source_id", "target_id"], descending=[True, False, False])
