"""Base records of the demo tenants, before any drift is planted.

Records are neutral flat frames: v2 property names, dotted for nested values
(``MailAddress.City``), v1 names for the v1-only fields (``dateOfBirth``). A
``MailAddress.__null__`` column marks a mail address that is absent as a whole.
:mod:`audit.demo.output` turns them into the API shapes.

Every builder draws from the one random generator in a fixed order, so a seed gives
the same records; keep the order of the calls when changing anything here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from audit.demo.vocabulary import COMPANY_SUFFIXES, FIRST_NAMES, LAST_NAMES, PLACES, STREETS

#: Id ranges, far apart so that every entity's ids are recognisable in findings. Each
#: tenant numbers its customers and contact persons itself, so one person's records have
#: unrelated ids (the target's are a shuffle of their own range); only Sesam's global
#: dataset (:mod:`audit.demo.sesam`) knows which records are one person.
CUSTOMER_BASE, SUPPLIER_BASE, CONTACT_BASE = 1_000_000, 2_000_000, 5_000_000
TARGET_CUSTOMER_BASE, TARGET_CONTACT_BASE = 3_000_000, 4_000_000
CUSTOMER_ADDR_BASE, SUPPLIER_ADDR_BASE, TARGET_ADDR_BASE = 6_000_000, 7_000_000, 8_000_000

#: First customer number; the customers added to the target only start at ``EXTRA_NUMBER_BASE``.
NUMBER_BASE, EXTRA_NUMBER_BASE = 10000, 90000

_ASCII = {"æ": "ae", "ø": "o", "å": "a", "Æ": "ae", "Ø": "o", "Å": "a"}


@dataclass
class Ids:
    """The ids of the groups of records, row ``i`` of each being person ``i`` of its group.

    ``c``: source customers (the ``c`` people); ``k``: source contact persons (the ``k``
    people; in self mode the ``c`` people too); ``target_customer``: the ``k`` people's
    customers on the target; ``target_contact``: the ``c`` people's contact persons on
    the target; ``s``: suppliers, the same on both sides. In self mode the target is the
    source, so ``target_customer`` is ``c`` and ``target_contact`` is ``k``.
    """

    c: np.ndarray
    k: np.ndarray
    s: np.ndarray
    target_customer: np.ndarray
    target_contact: np.ndarray


@dataclass
class Tenants:
    """Both sides' records by entity (``customer``, ``supplier``, ``contactperson``).

    In self mode ``source`` and ``target`` are the same dict, so a change to one side
    is a change to the one tenant.
    """

    source: dict[str, pl.DataFrame]
    target: dict[str, pl.DataFrame]
    ids: Ids
    self_mode: bool

    @property
    def sides(self) -> tuple[dict[str, pl.DataFrame], ...]:
        """Each distinct side once (one in self mode, two otherwise)."""
        return (self.source,) if self.self_mode else (self.source, self.target)


def people(rng: np.random.Generator, n: int, tag: str) -> pl.DataFrame:
    """``n`` random people with name, mail address, date of birth, phone and e-mail.

    ``tag`` makes the e-mail addresses of one group unique (``kari.hansen.c17@...``).
    """
    first = np.array(FIRST_NAMES)[rng.integers(0, len(FIRST_NAMES), n)]
    last = np.array(LAST_NAMES)[rng.integers(0, len(LAST_NAMES), n)]
    place = rng.integers(0, len(PLACES), n)
    street = np.array(STREETS)[rng.integers(0, len(STREETS), n)]
    number = rng.integers(1, 120, n)
    days = rng.integers(0, 365 * 60, n)
    dob = (np.datetime64("1945-01-01") + days.astype("timedelta64[D]")).astype(str)
    frame = pl.DataFrame(
        {
            "FirstName": first,
            "LastName": last,
            "ZipCode": np.array([p[0] for p in PLACES])[place],
            "City": np.array([p[1] for p in PLACES])[place],
            "Street": street,
            "No": number,
            "DateOfBirth": dob,
            "Phone": rng.integers(40_000_000, 99_999_999, n).astype(str),
        }
    )
    row = pl.int_range(pl.len())
    return frame.with_columns(
        EmailAddress=pl.concat_str(
            [
                _ascii_lower("FirstName"),
                pl.lit("."),
                _ascii_lower("LastName"),
                pl.lit(f".{tag}"),
                row.cast(pl.Utf8),
                pl.lit("@example.no"),
            ]
        ),
        AddressLine1=pl.concat_str([pl.col("Street"), pl.lit(" "), pl.col("No").cast(pl.Utf8)]),
        CountryCode=pl.when(row % 23 == 7).then(pl.lit("SE")).otherwise(pl.lit("NO")),
    ).drop("Street", "No")


def _ascii_lower(column: str) -> pl.Expr:
    """The column in lower case with æ, ø and å spelt in ASCII, for e-mail addresses."""
    expr = pl.col(column).str.to_lowercase()
    for letter, ascii_ in _ASCII.items():
        expr = expr.str.replace_all(letter, ascii_, literal=True)
    return expr


def stamp(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` random change timestamps in 2024, as ISO text."""
    seconds = rng.integers(0, 365 * 24 * 3600, n)
    return (np.datetime64("2024-01-01T00:00:00") + seconds.astype("timedelta64[s]")).astype(str)


def _mail_address(persons: pl.DataFrame) -> dict[str, pl.Series]:
    """The ``MailAddress.*`` columns every party shares, from ``persons``."""
    return {
        "MailAddress.AddressLine1": persons["AddressLine1"],
        "MailAddress.City": persons["City"],
        "MailAddress.ZipCode": persons["ZipCode"],
        "MailAddress.CountryCode": persons["CountryCode"],
    }


def suppliers(rng: np.random.Generator, companies: pl.DataFrame, ids: np.ndarray) -> pl.DataFrame:
    """Suppliers named after ``companies``, each with its own mail address."""
    n = len(ids)
    suffix = np.array(COMPANY_SUFFIXES)[rng.integers(0, len(COMPANY_SUFFIXES), n)]
    return pl.DataFrame({"Id": ids, "Number": (ids - SUPPLIER_BASE + 30000)}).with_columns(
        Name=pl.concat_str([companies["LastName"], pl.lit(" "), pl.Series(suffix)]),
        IsPerson=pl.lit(False),
        EmailAddress=companies["EmailAddress"],
        PhoneNumber=companies["Phone"],
        OrganizationNumber=pl.Series(rng.integers(910_000_000, 999_999_999, n).astype(str)),
        IsArchived=pl.lit(False),
        LastChangedDateTimeOffset=pl.Series(stamp(rng, n)),
        **{
            "MailAddress.Id": pl.Series(ids - SUPPLIER_BASE + SUPPLIER_ADDR_BASE),
            **_mail_address(companies),
            "MailAddress.LastChangedDateTimeOffset": pl.Series(stamp(rng, n)),
            "MailAddress.__null__": pl.lit(False),
        },
    )


def customers(
    rng: np.random.Generator, persons: pl.DataFrame, ids: np.ndarray, addr_ids: np.ndarray, number_base: int
) -> pl.DataFrame:
    """Customers who are ``persons``, with mail-address ids ``addr_ids``, numbered from ``number_base``."""
    size = len(ids)
    return pl.DataFrame({"Id": ids}).with_columns(
        Number=pl.Series(np.arange(size) + number_base),
        Name=pl.concat_str([persons["FirstName"], pl.lit(" "), persons["LastName"]]),
        FirstName=persons["FirstName"],
        LastName=persons["LastName"],
        IsPerson=pl.lit(True),
        EmailAddress=persons["EmailAddress"],
        PhoneNumber=persons["Phone"],
        DateOfBirth=persons["DateOfBirth"],
        IsArchived=pl.lit(False),
        IsActive=pl.lit(True),
        LastChangedDateTimeOffset=pl.Series(stamp(rng, size)),
        **{
            "MailAddress.Id": pl.Series(addr_ids.astype(np.int64)),
            **_mail_address(persons),
            "MailAddress.LastChangedDateTimeOffset": pl.Series(stamp(rng, size)),
        },
    )


def contacts(
    rng: np.random.Generator, persons: pl.DataFrame, ids: np.ndarray, supplier_ids: np.ndarray
) -> pl.DataFrame:
    """Contact persons who are ``persons``, each at a random supplier (``ContactId``)."""
    n = len(ids)
    return pl.DataFrame({"Id": ids}).with_columns(
        ContactId=pl.Series(supplier_ids[rng.integers(0, len(supplier_ids), n)]),
        FirstName=persons["FirstName"],
        LastName=persons["LastName"],
        EmailAddress=persons["EmailAddress"],
        PhoneNumber=persons["Phone"],
        IsActive=pl.lit(True),
        LastChangedDateTimeOffset=pl.Series(stamp(rng, n)),
        dateOfBirth=persons["DateOfBirth"],
        **_mail_address(persons),
    )


def base_tenants(rng: np.random.Generator, n: int, self_mode: bool) -> Tenants:
    """``n`` customers, suppliers and contact persons per side, without drift.

    Two tenants: the source's contact persons are the target's customers (the same
    people, under ids of the target's own) and the other way round; suppliers are the
    same on both sides. Self mode: customer ``i`` and contact person ``i`` are the same
    person in one tenant, under unrelated ids.
    """
    persons_c = people(rng, n, "c")  # customers on the source, contact persons on the target
    persons_k = people(rng, n, "k")  # contact persons on the source, customers on the target
    companies = people(rng, n, "s")
    if self_mode:
        persons_k = persons_c
    ids_c = np.arange(n, dtype=np.int64) + CUSTOMER_BASE
    ids_k = rng.permutation(n).astype(np.int64) + CONTACT_BASE
    if self_mode:
        target_customer, target_contact = ids_c, ids_k
    else:
        target_customer = rng.permutation(n).astype(np.int64) + TARGET_CUSTOMER_BASE
        target_contact = rng.permutation(n).astype(np.int64) + TARGET_CONTACT_BASE
    ids = Ids(ids_c, ids_k, np.arange(n, dtype=np.int64) + SUPPLIER_BASE, target_customer, target_contact)
    supplier_records = suppliers(rng, companies, ids.s)
    source = {
        "customer": customers(rng, persons_c, ids.c, np.arange(n) + CUSTOMER_ADDR_BASE, NUMBER_BASE),
        "supplier": supplier_records,
        "contactperson": contacts(rng, persons_k, ids.k, ids.s),
    }
    if self_mode:
        return Tenants(source=source, target=source, ids=ids, self_mode=True)
    target_customers = customers(rng, persons_k, ids.target_customer, np.arange(n) + TARGET_ADDR_BASE, NUMBER_BASE)
    target_contacts = contacts(rng, persons_c, ids.target_contact, ids.s)
    target = {
        "customer": target_customers,
        "supplier": supplier_records.with_columns(LastChangedDateTimeOffset=pl.Series(stamp(rng, n))),
        "contactperson": target_contacts,
    }
    return Tenants(source=source, target=target, ids=ids, self_mode=False)
