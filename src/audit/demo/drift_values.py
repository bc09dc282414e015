"""Planted drift that tests the value model and the data checks, not the sync itself.

Each function is one kind in :data:`audit.demo.drift.PLANTERS` (planted after the
others): spellings the value model must call the same (an offset date, a stamp in local
time: planted, nothing expected), one it must not (a zip code field stored as JSON
numbers: ``1473`` is ``"1473"``, but ``150`` is not ``"0150"``) and a duplicate id
(``duplicate_id`` findings, and an ``ambiguous_link`` where it links).
Records are found by id, not by row: earlier kinds have deleted some.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from audit.core.values import DEFAULT_ZONE
from audit.demo.expected import mapped

if TYPE_CHECKING:  # pragma: no cover
    from audit.demo.drift import Planting

__all__ = ["offset_date", "local_time_stamp", "duplicate_id", "zip_as_number", "OFFSET_DATE"]

#: The first offset date planted: a Norwegian API's midnight, the date 1985-03-14.
OFFSET_DATE = "1985-03-14"

STAMP = "LastChangedDateTimeOffset"


def _set_ids(frame: pl.DataFrame, ids: np.ndarray, column: str, value: pl.Expr) -> pl.DataFrame:
    """``frame`` with ``column`` set to ``value`` in the records whose ``Id`` is in ``ids``."""
    hit = pl.col("Id").is_in(pl.Series(np.asarray(ids, dtype=np.int64)).implode())
    return frame.with_columns(pl.when(hit).then(value).otherwise(pl.col(column)).alias(column))


def _oslo_midnight(column: str) -> pl.Expr:
    """A date column as midnight in Norway with its offset (``1985-03-14T00:00:00+01:00``)."""
    midnight = pl.col(column).str.to_date().cast(pl.Datetime("us")).dt.replace_time_zone(DEFAULT_ZONE)
    return midnight.dt.strftime("%Y-%m-%dT%H:%M:%S%:z")


def _offset_dates(p: Planting, record: tuple[str, str, np.ndarray], other: tuple[str, str, np.ndarray]) -> None:
    """Write the source records' dates as Norwegian midnights; the first person's date,
    on both records, becomes :data:`OFFSET_DATE`."""
    (entity, column, ids), (other_entity, other_column, other_ids) = record, other
    source, target = p.tenants.source, p.tenants.target
    first = pl.lit(OFFSET_DATE)
    source[entity] = _set_ids(source[entity], ids[:1], column, first)
    target[other_entity] = _set_ids(target[other_entity], other_ids[:1], other_column, first)
    source[entity] = _set_ids(source[entity], ids, column, _oslo_midnight(column))


def offset_date(p: Planting) -> None:
    """Source dates of birth written as a Norwegian midnight with its offset
    (``1985-03-14T00:00:00+01:00``) against a plain date (``1985-03-14``) or a v1
    midnight: the same date under the value model, so nothing is expected.

    On the ``c`` people's source customers (compared wherever the counterpart's
    generation has a date of birth) and, with two tenants, on the ``k`` people's source
    contact persons (v1 only: v2 contact persons have no date of birth).
    """
    ids = p.tenants.ids
    rows = p.pick(p.taken_c)
    customers = ("customer", "DateOfBirth", ids.c[rows])
    _offset_dates(p, customers, ("contactperson", "dateOfBirth", ids.target_contact[rows]))
    planted = len(rows)
    if not p.self_mode:
        rows = p.pick(p.taken_k)
        contacts = ("contactperson", "dateOfBirth", ids.k[rows])
        _offset_dates(p, contacts, ("customer", "DateOfBirth", ids.target_customer[rows]))
        planted += len(rows)
    p.planted["offset_date"] = planted


def local_time_stamp(p: Planting) -> None:
    """The ``k`` people's source contact person last changed at a UTC stamp
    (``2024-05-02T10:15:00Z``), their customer on the target at the same instant in
    Norwegian local time without an offset (``2024-05-02T12:15:00``).

    ``lastChanged`` is informational, so nothing is expected; the write-back's
    "latest wins" must read the local stamp in ``Europe/Oslo`` and see one instant.
    """
    ids = p.tenants.ids
    rows = p.pick(p.taken_k)
    source, target = p.tenants.source, p.tenants.target
    moments = source["contactperson"].filter(pl.col("Id").is_in(pl.Series(ids.k[rows]).implode()))
    utc = pl.col(STAMP).str.to_datetime("%Y-%m-%dT%H:%M:%S", time_zone="UTC")
    stamps = moments.select(
        "Id", utc.dt.strftime("%Y-%m-%dT%H:%M:%SZ").alias("utc"), utc.dt.convert_time_zone(DEFAULT_ZONE).alias("at")
    ).with_columns(pl.col("at").dt.strftime("%Y-%m-%dT%H:%M:%S").alias("local"))
    pairs = zip(stamps["utc"].to_list(), stamps["local"].to_list(), strict=True)
    by_id = dict(zip(stamps["Id"].to_list(), pairs, strict=True))
    lookup = {int(ids.target_customer[r]): by_id[int(ids.k[r])][1] for r in rows}
    source["contactperson"] = source["contactperson"].with_columns(
        pl.col("Id").replace_strict({i: u for i, (u, _) in by_id.items()}, default=pl.col(STAMP)).alias(STAMP)
    )
    target["customer"] = target["customer"].with_columns(
        pl.col("Id").replace_strict(lookup, default=pl.col(STAMP)).alias(STAMP)
    )
    p.planted["local_time_stamp"] = len(rows)


def _id_column(generation: str) -> str:
    return "Id" if generation == "v2" else "id"


def duplicate_id(p: Planting) -> None:
    """A source contact person takes another one's id (two different records, one id).

    Expected: a ``duplicate_id`` row per record; the link of that id an
    ``ambiguous_link``; the customer of the person whose id was taken is linked to no
    contact person any more (``missing_in_source``; in self mode also, as a source,
    ``missing_in_target`` on Customer -> Contactperson, where the contact persons are
    the targets and their duplicate ids are found again).
    """
    ids, pairs = p.tenants.ids, p.pairs
    a, b = p.pick(p.taken_k, k=2)
    shared = int(ids.k[a])
    source = p.tenants.source
    source["contactperson"] = _set_ids(source["contactperson"], ids.k[[b]], "Id", pl.lit(shared, dtype=pl.Int64))
    twice = np.array([shared, shared], dtype=np.int64)
    source_api = p.generations[0]
    customer_a, customer_b = ids.target_customer[a], ids.target_customer[b]
    p.findings.add(pairs.contact_customer, "duplicate_id", twice, source_property=_id_column(source_api))
    p.findings.add(pairs.contact_customer, "ambiguous_link", ids.k[[a]], np.array([customer_a]))
    p.findings.add(pairs.contact_customer, "missing_in_source", target_keys=np.array([customer_b]))
    if p.self_mode:
        pair = pairs.customer_contact
        p.findings.add(pair, "duplicate_id", target_keys=twice, target_property=_id_column(source_api))
        p.findings.add(pair, "ambiguous_link", np.array([customer_a]), ids.k[[a]])
        p.findings.add(pair, "missing_in_target", source_keys=np.array([customer_b]))
    p.planted["duplicate_id"] = 2


def zip_as_number(p: Planting) -> None:
    """Two tenants: the target's contact persons hold their zip codes as JSON numbers
    (``"ZipCode": 1473``; the flow declares the field a string).

    A field holds one JSON type in every record, so the whole column is numbers. Numbers
    are read as written, so ``1473`` is the zip code ``"1473"`` (not drift), and ``150``
    is not ``"0150"``: every linked contact person whose zip code had a leading zero is a
    ``mismatch`` (those linked to nothing, or ambiguously, are compared with nothing).
    """
    if p.self_mode:
        return
    pair, ids = p.pairs.customer_contact, p.tenants.ids
    target = p.tenants.target
    contacts = target["contactperson"]
    unlinked = ids.target_contact[p.merged_c.ravel()]
    linked = ~pl.col("Id").is_in(pl.Series(unlinked).implode())
    zeros = contacts.filter(pl.col("MailAddress.ZipCode").str.starts_with("0") & linked)
    target_keys = np.sort(zeros.get_column("Id").to_numpy())
    order = np.argsort(ids.target_contact)
    rows = order[np.searchsorted(ids.target_contact, target_keys, sorter=order)]
    p.findings.mismatch(pair, ids.c[rows], target_keys, mapped(pair, "mailAddress.zipCode").source)
    target["contactperson"] = contacts.with_columns(pl.col("MailAddress.ZipCode").cast(pl.Int64))
    p.planted["zip_as_number"] = contacts.height
    p.planted["zip_as_number_lost_zero"] = len(target_keys)
