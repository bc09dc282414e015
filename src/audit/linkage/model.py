"""The record-linkage model: splink (Fellegi-Sunter) on DuckDB, trained without labels.

Per pair, the two sides' records (:func:`audit.linkage.fields.side_frame`) are compared
only where a blocking rule lets them meet: the same e-mail, the same last or first name
with the same date of birth, the same first and last name, the same phone number. Each
field is one comparison (names by Jaro-Winkler levels, the others exact). The model is
trained as splink's documentation describes for data without labels
(moj-analytical-services.github.io/splink, "Estimating model parameters"): the prior from
deterministic rules, ``u`` from random pairs, ``m`` by expectation maximisation blocked
on one field at a time. Its ``match_probability`` is the suggestion's ``score``.

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
#: Rules that admit almost no false link, for the prior (recall assumed below).
_DETERMINISTIC: tuple[tuple[str, ...], ...] = (("email",), ("first_name", "last_name", "dob"), ("phone",))
_RECALL = 0.9
#: Fields expectation maximisation is blocked on, one session each (the first two present).
_EM_BLOCKS: tuple[str, ...] = ("dob", "email", "last_name", "zip")
_SEED = 7


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


def _train(linker, roles: Sequence[str], notes: list[str]) -> None:
    """Prior, ``u`` and ``m`` of the model, as far as the data allows."""
    from splink import block_on

    # splink exports no exception class at its top level; this is the base of its own errors
    from splink.internals.exceptions import SplinkException

    rules = [block_on(*r) for r in _DETERMINISTIC if set(r) <= set(roles)] or [
        block_on(*r) for r in blocking_keys(roles)
    ]
    linker.training.estimate_probability_two_random_records_match(rules, recall=_RECALL)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=_SEED)
    for role in [r for r in _EM_BLOCKS if r in roles][:2]:
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(
                block_on(role), record_sample_proportion=1.0
            )
        except SplinkException as exc:
            notes.append(f"training blocked on {role} did not converge ({str(exc).splitlines()[0]})")


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
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    roles = [f.role for f in fields]
    settings = SettingsCreator(
        link_type="link_only",
        unique_id_column_name=ID,
        comparisons=_comparisons(roles),
        blocking_rules_to_generate_predictions=[block_on(*r) for r in blocking_keys(roles)],
        retain_matching_columns=True,
    )
    db = DuckDBAPI()
    tables = [db.register(t.to_arrow(), dataset_display_name=n) for t, n in ((left, "source"), (right, "target"))]
    linker = Linker(tables, settings, log_level=logging.ERROR)
    notes: list[str] = []
    _train(linker, roles, notes)
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
