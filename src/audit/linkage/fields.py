"""Which of a pair's mapped properties can tell that two records are one person, and their
values made comparable.

A property takes part when both its paths name the same kind of field, read from the
path's last part (``emailAddress``, ``mailAddress.zipCode``; case ignored). Values are
trimmed and lower-cased; dates keep their first ten characters, so a v1
``1985-03-14T00:00:00`` equals a v2 ``1985-03-14``. Stamps, ids and fields of unknown
kind take no part: they say nothing of who a record is.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from audit.core.binding import resolve_on
from audit.core.snapshot import EntityFrame
from audit.flow.model import Pair

__all__ = ["ROLES", "MatchField", "match_fields", "side_frame", "ID"]

#: The id column of the frames handed to the model.
ID = "unique_id"

#: Last part of a path (lower case) -> the kind of field, in matching order.
ROLES: dict[str, str] = {
    "emailaddress": "email",
    "email": "email",
    "firstname": "first_name",
    "lastname": "last_name",
    "dateofbirth": "dob",
    "birthdate": "dob",
    "phonenumber": "phone",
    "zipcode": "zip",
    "postcode": "zip",
    "city": "city",
}


def _role(path: str) -> str | None:
    return ROLES.get(path.rsplit(".", 1)[-1].strip().lower())


@dataclass(frozen=True)
class MatchField:
    """One mapped property both sides can be matched on.

    Attributes
    ----------
    role : str
        The kind of field (``email``, ``first_name``, ``dob``, ...); the model's column.
    source, target : str
        The property's paths as the flow writes them.
    source_column, target_column : str
        The columns they resolved to.
    """

    role: str
    source: str
    target: str
    source_column: str
    target_column: str


def match_fields(pair: Pair, se: EntityFrame, te: EntityFrame) -> list[MatchField]:
    """The pair's properties that name one kind of field on both sides and resolve on
    both frames; one per kind (the first in the table)."""
    found: dict[str, MatchField] = {}
    for prop in pair.properties:
        role = _role(prop.source)
        if role is None or role != _role(prop.target) or role in found:
            continue
        rs, rt = resolve_on(prop.source, se), resolve_on(prop.target, te)
        if rs.column is not None and rt.column is not None:
            found[role] = MatchField(role, prop.source, prop.target, rs.column, rt.column)
    return [found[role] for role in dict.fromkeys(ROLES.values()) if role in found]


def _normalised(column: str, role: str) -> pl.Expr:
    text = pl.col(column).cast(pl.String).str.strip_chars().str.to_lowercase()
    text = text.str.replace_all(r"\s+", " ")
    if role == "dob":
        text = text.str.slice(0, 10)
    return pl.when(text == "").then(None).otherwise(text).alias(role)


def side_frame(ef: EntityFrame, fields: list[MatchField], side: str) -> pl.DataFrame:
    """One side's records as the model reads them: ``unique_id`` (the record id, text)
    and one normalised column per field (empty as null)."""
    columns = [f.source_column if side == "source" else f.target_column for f in fields]
    return ef.frame.select(
        pl.col(ef.id_column).cast(pl.String).alias(ID),
        *(_normalised(c, f.role) for c, f in zip(columns, fields, strict=True)),
    ).filter(pl.col(ID).is_not_null())
