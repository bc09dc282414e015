"""Planted drift: one function per kind, each changing the tenants and recording what the
audit must find.

The functions run in :data:`PLANTERS` order and draw their rows from the shared random
generator, so the order is part of the output for a seed. Rows are picked so that no
record carries two kinds of drift.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from audit.demo.drift_values import duplicate_id, local_time_stamp, offset_date, zip_as_number
from audit.demo.expected import Findings, SeedPairs, mapped
from audit.demo.output import Generation
from audit.demo.tenants import (
    EXTRA_NUMBER_BASE,
    SUPPLIER_ADDR_BASE,
    SUPPLIER_BASE,
    TARGET_ADDR_BASE,
    TARGET_CUSTOMER_BASE,
    Tenants,
    customers,
    people,
)
from audit.flow.model import Pair


@dataclass
class Planting:
    """The tenants being drifted, and what has been planted and is expected so far.

    ``k`` is the number of records per planted kind. ``taken_k`` and ``taken_c`` are
    the rows already drifted among the ``k`` and ``c`` people (one set in self mode).
    ``merged_k`` and ``merged_c`` are the rows of people Sesam merged into one global
    entity, two a row (:mod:`audit.demo.sesam` writes them so). ``generations`` are the
    API generations of the source and target records (the id field's name).
    """

    rng: np.random.Generator
    tenants: Tenants
    pairs: SeedPairs
    k: int
    findings: Findings = field(default_factory=Findings)
    planted: dict[str, int] = field(default_factory=dict)
    taken_k: set[int] = field(default_factory=set)
    taken_c: set[int] = field(default_factory=set)
    taken_s: set[int] = field(default_factory=set)
    merged_k: np.ndarray = field(default_factory=lambda: np.empty((0, 2), dtype=np.int64))
    merged_c: np.ndarray = field(default_factory=lambda: np.empty((0, 2), dtype=np.int64))
    generations: tuple[str, str] = ("v1", "v2")

    def __post_init__(self) -> None:
        if self.tenants.self_mode:
            self.taken_c = self.taken_k  # the same people

    @property
    def n(self) -> int:
        """Records per entity."""
        return len(self.tenants.ids.c)

    @property
    def self_mode(self) -> bool:
        """Whether the demo is one tenant syncing with itself."""
        return self.tenants.self_mode

    def pick(self, taken: set[int], k: int | None = None, pool: np.ndarray | None = None) -> np.ndarray:
        """``k`` random rows of ``pool`` (all rows by default) not yet ``taken``, sorted; marks them taken."""
        pool = np.arange(self.n) if pool is None else pool
        shuffled = self.rng.permutation(pool)
        free = shuffled[~np.isin(shuffled, np.fromiter(taken, dtype=np.int64, count=len(taken)))]
        chosen = np.sort(free[: self.k if k is None else k]).astype(np.int64)
        taken.update(chosen.tolist())
        return chosen


def _set(frame: pl.DataFrame, rows: np.ndarray, column: str, value: pl.Expr) -> pl.DataFrame:
    """``frame`` with ``column`` set to ``value`` in ``rows``."""
    hit = pl.int_range(pl.len()).is_in(rows.tolist())
    return frame.with_columns(pl.when(hit).then(value).otherwise(pl.col(column)).alias(column))


def _mismatch_on_k_people(p: Planting, rows: np.ndarray, contact_property: str, customer_property: str) -> None:
    """Expect a mismatch for a change to the ``k`` people's customers or contact persons.

    In self mode the one record is on both pairs, so the other pair finds it too.
    """
    ids = p.tenants.ids
    p.findings.mismatch(p.pairs.contact_customer, ids.k[rows], ids.target_customer[rows], contact_property)
    if p.self_mode:
        p.findings.mismatch(p.pairs.customer_contact, ids.c[rows], ids.target_contact[rows], customer_property)


def value_changed_city(p: Planting) -> None:
    """A target customer moved to another city."""
    rows = p.pick(p.taken_k)
    target = p.tenants.target
    target["customer"] = _set(target["customer"], rows, "MailAddress.City", pl.lit("Hønefoss"))
    _mismatch_on_k_people(p, rows, "city", "mailAddress.city")
    p.planted["value_changed_city"] = len(rows)


def zip_leading_zero(p: Planting) -> None:
    """A target customer's zip code lost its leading zero (``0150`` -> ``150``)."""
    target = p.tenants.target
    zero_rows = np.flatnonzero(target["customer"]["MailAddress.ZipCode"].str.starts_with("0").to_numpy())
    rows = p.pick(p.taken_k, pool=zero_rows)
    stripped = pl.col("MailAddress.ZipCode").str.strip_chars_start("0")
    target["customer"] = _set(target["customer"], rows, "MailAddress.ZipCode", stripped)
    _mismatch_on_k_people(p, rows, "zipCode", "mailAddress.zipCode")
    _expect_four_digit_rule(p, rows)  # "150" has three digits
    p.planted["zip_leading_zero"] = len(rows)


def value_changed_email(p: Planting) -> None:
    """A source contact person got a new e-mail address."""
    rows = p.pick(p.taken_k)
    source = p.tenants.source
    new = pl.concat_str([pl.lit("ny."), pl.col("EmailAddress")])
    source["contactperson"] = _set(source["contactperson"], rows, "EmailAddress", new)
    _mismatch_on_k_people(p, rows, "emailAddress", "emailAddress")
    p.planted["value_changed_email"] = len(rows)


def empty_vs_missing(p: Planting) -> None:
    """``""`` on the source contact person, no value on the customer: not drift, nothing expected."""
    rows = p.pick(p.taken_k)
    source, target = p.tenants.source, p.tenants.target
    source["contactperson"] = _set(source["contactperson"], rows, "EmailAddress", pl.lit(""))
    target["customer"] = _set(target["customer"], rows, "EmailAddress", pl.lit(None, dtype=pl.Utf8))
    p.planted["empty_vs_missing"] = len(rows)


def names_changed(p: Planting) -> None:
    """Two tenants: first names changed on target contact persons, last names on source customers."""
    if p.self_mode:
        return
    pair, ids, source, target = p.pairs.customer_contact, p.tenants.ids, p.tenants.source, p.tenants.target
    rows = p.pick(p.taken_c)
    first = pl.concat_str([pl.col("FirstName"), pl.lit("-Marie")])
    target["contactperson"] = _set(target["contactperson"], rows, "FirstName", first)
    p.findings.mismatch(pair, ids.c[rows], ids.target_contact[rows], "firstName")
    p.planted["value_changed_first_name"] = len(rows)
    rows = p.pick(p.taken_c)
    source["customer"] = _set(source["customer"], rows, "LastName", pl.lit("Østby"))
    p.findings.mismatch(pair, ids.c[rows], ids.target_contact[rows], mapped(pair, "LastName").source)
    p.planted["value_changed_last_name"] = len(rows)


def missing_counterparts(p: Planting) -> None:
    """Records whose counterpart is gone, and target records nothing links to."""
    gone = _drop_counterparts(p)
    if p.self_mode:
        # one tenant: nothing links to the contact person of the deleted customer either
        p.findings.add(p.pairs.customer_contact, "missing_in_source", target_keys=p.tenants.ids.target_contact[gone])
        p.planted["missing_in_source"] = len(gone)
    else:
        p.planted["missing_in_source"] = _add_unlinked_customers(p)


def _drop_counterparts(p: Planting) -> np.ndarray:
    """Delete target customers and (two tenants) target contact persons; return the
    deleted customers' rows."""
    rows = np.arange(p.n)
    target, ids = p.tenants.target, p.tenants.ids
    gone_k = p.pick(p.taken_k)  # contact persons whose customer is gone
    target["customer"] = target["customer"].filter(pl.Series(~np.isin(rows, gone_k)))
    p.findings.add(p.pairs.contact_customer, "missing_in_target", source_keys=ids.k[gone_k])
    p.planted["missing_in_target"] = len(gone_k)
    if p.self_mode:
        return gone_k
    gone_c = p.pick(p.taken_c)  # customers whose contact person is gone
    target["contactperson"] = target["contactperson"].filter(pl.Series(~np.isin(rows, gone_c)))
    p.findings.add(p.pairs.customer_contact, "missing_in_target", source_keys=ids.c[gone_c])
    p.planted["missing_in_target"] += len(gone_c)
    return gone_k


def _add_unlinked_customers(p: Planting) -> int:
    """Add ``k`` new target customers that no source contact person links to; return ``k``."""
    offset = p.n + 1000
    extra_ids = np.arange(p.k, dtype=np.int64) + TARGET_CUSTOMER_BASE + offset
    extra_people = people(p.rng, p.k, "x")
    addr_ids = np.arange(p.k) + TARGET_ADDR_BASE + offset
    more = customers(p.rng, extra_people, extra_ids, addr_ids, EXTRA_NUMBER_BASE)
    target = p.tenants.target
    target["customer"] = pl.concat([target["customer"], more.select(target["customer"].columns)])
    p.findings.add(p.pairs.contact_customer, "missing_in_source", target_keys=extra_ids)
    return p.k


def supplier_without_address(p: Planting) -> None:
    """A source supplier has no mail address at all."""
    rows = p.pick(p.taken_s, k=1)
    source = p.tenants.source
    source["supplier"] = _set(source["supplier"], rows, "MailAddress.__null__", pl.lit(True))
    p.findings.add(p.pairs.address, "missing_in_target", source_keys=p.tenants.ids.s[rows])
    p.planted["supplier_without_address"] = 1


def duplicate_merge_key(p: Planting) -> None:
    """Two suppliers share one mail-address id, so the merge rule matches twice."""
    rows = p.pick(p.taken_s, k=2)
    ids = p.tenants.ids.s
    shared = int(ids[rows[0]] - SUPPLIER_BASE + SUPPLIER_ADDR_BASE)
    for side in p.tenants.sides:
        side["supplier"] = _set(side["supplier"], rows[1:], "MailAddress.Id", pl.lit(shared, dtype=pl.Int64))
    rule = p.pairs.address.merge_rules[0]  # the audit names the rule that matched twice
    shared_keys = np.full(len(rows), shared, dtype=np.int64)
    p.findings.add(p.pairs.address, "ambiguous_link", ids[rows], shared_keys, rule.source, rule.target)
    p.planted["duplicate_merge_key"] = 1


def address_replaced(p: Planting) -> None:
    """Two tenants: a target supplier's mail address got a new id, so the source's is missing."""
    if p.self_mode:
        return
    rows = p.pick(p.taken_s, k=1)
    target = p.tenants.target
    target["supplier"] = _set(target["supplier"], rows, "MailAddress.Id", pl.col("MailAddress.Id") + 500_000)
    p.findings.add(p.pairs.address, "missing_in_target", source_keys=p.tenants.ids.s[rows])
    p.planted["address_replaced"] = 1


def merged_in_sesam(p: Planting) -> None:
    """Sesam merged two people into one global entity: both pairs of their records are
    ambiguous (every candidate link of the group is an ``ambiguous_link``, none picked).

    Two ``k`` people a group (in self mode also their customers and contact persons on
    the other pair); with two tenants, two ``c`` people a group as well.
    """
    groups = max(1, p.k // 2)
    ids = p.tenants.ids
    p.merged_k = p.pick(p.taken_k, k=2 * groups).reshape(groups, 2)
    _expect_merged(p, p.pairs.contact_customer, ids.k, ids.target_customer, p.merged_k)
    if p.self_mode:
        _expect_merged(p, p.pairs.customer_contact, ids.c, ids.target_contact, p.merged_k)
    else:
        p.merged_c = p.pick(p.taken_c, k=2 * groups).reshape(groups, 2)
        _expect_merged(p, p.pairs.customer_contact, ids.c, ids.target_contact, p.merged_c)
    p.planted["merged_in_sesam"] = groups * (1 if p.self_mode else 2)


def zip_five_digits(p: Planting) -> None:
    """Two people have a Swedish five-digit zip code (``41319``) on both sides: the sync
    holds (no mismatch), but a Norwegian zip code has four digits, which the project's own
    expectation on ``target.mailAddress.zipCode`` says
    (``expectations/<flow>/<contact person to customer>.user.json``): an
    ``expectation_failed`` finding each, where that suite is run."""
    rows = p.pick(p.taken_k, k=min(2, p.k))
    source, target, ids = p.tenants.source, p.tenants.target, p.tenants.ids
    for tenant, entity, keys in (
        (source, "contactperson", ids.k[rows]),
        (target, "customer", ids.target_customer[rows]),
    ):
        hit = pl.col("Id").is_in(pl.Series(keys).implode())  # by id: rows were removed since
        zip_code = pl.when(hit).then(pl.lit("41319")).otherwise(pl.col("MailAddress.ZipCode"))
        tenant[entity] = tenant[entity].with_columns(zip_code.alias("MailAddress.ZipCode"))
    _expect_four_digit_rule(p, rows)
    p.planted["zip_five_digits"] = len(rows)


def _expect_four_digit_rule(p: Planting, rows: np.ndarray) -> None:
    """The target zip codes of the ``k`` people's customers fail the project's own rule
    (a Norwegian zip code has four digits): ``expectation_failed`` on Contactperson ->
    Customer, where the user suite is run."""
    ids = p.tenants.ids
    keys = (ids.k[rows], ids.target_customer[rows])
    p.findings.add(p.pairs.contact_customer, "expectation_failed", *keys, target_property="mailAddress.zipCode")


def _expect_merged(p: Planting, pair: Pair, source: np.ndarray, target: np.ndarray, groups: np.ndarray) -> None:
    """Every source record of each group with every target record of it."""
    s_rows = np.repeat(groups, 2, axis=1).ravel()  # a a b b
    t_rows = np.tile(groups, 2).ravel()  # a b a b
    p.findings.add(pair, "ambiguous_link", source[s_rows], target[t_rows])


#: Every kind of planted drift, in the order it is planted.
PLANTERS: tuple[Callable[[Planting], None], ...] = (
    value_changed_city,
    zip_leading_zero,
    value_changed_email,
    empty_vs_missing,
    names_changed,
    missing_counterparts,
    supplier_without_address,
    duplicate_merge_key,
    address_replaced,
    merged_in_sesam,
    offset_date,
    local_time_stamp,
    duplicate_id,
    zip_as_number,
    zip_five_digits,
)


def plant(p: Planting) -> None:
    """Plant every kind of drift in :data:`PLANTERS` order."""
    for planter in PLANTERS:
        planter(p)


def generation_gaps(p: Planting, source_api: Generation, target_api: Generation) -> None:
    """Expect an unresolved property where a date of birth exists in one generation only.

    v2 contact persons have no date of birth: unresolved as a target of Customer ->
    Contactperson, and as a source of Contactperson -> Customer.
    """
    if (source_api if p.self_mode else target_api) == "v2":
        _unresolved_date_of_birth(p, p.pairs.customer_contact, "target")
    if source_api == "v2":
        _unresolved_date_of_birth(p, p.pairs.contact_customer, "source")


def _unresolved_date_of_birth(p: Planting, pair: Pair, end: str) -> None:
    """Expect every property of ``pair`` whose ``end`` (source or target) is a date of birth unresolved."""
    for q in pair.properties:
        if getattr(q, end).lower() == "dateofbirth":
            p.findings.add(pair, "unresolved_property", source_property=q.source, target_property=q.target)
            p.planted["unresolved_property"] = p.planted.get("unresolved_property", 0) + 1
