"""Demo PowerOffice Go tenants for the seed flow, with planted drift and its ground truth.

The seed flow (``data/flows/powerofficego-powerofficego.rst``) links

- Supplier -> Address on ``Supplier.MailAddress.Id = Address.id``;
- Contactperson -> Customer and Customer -> Contactperson, every record, on ``id``.

So the demo world is built from people who appear once as a customer and once as a
contact person with the *same id* on the other side, plus suppliers whose mail
addresses are the target's addresses.

Layouts (``mode``):

``two-tenants`` (default)
    ``source/`` (API v1 shape by default) and ``target/`` (v2 by default). Source
    contact persons ``K`` are target customers ``K``; source customers ``C`` are target
    contact persons ``C``; suppliers exist on both sides with the same mail addresses.
``self``
    ``tenant/``: one tenant syncing with itself; customer ``i`` and contact person
    ``i`` are the same person.

Planted drift (every kind the audit reports for this flow), a few records each and about
one percent at scale:

- a value changed on one side (city, e-mail, first and last name);
- a zip code that lost its leading zero on one side (``0150`` vs ``150``);
- a missing counterpart on either side, and a supplier without a mail address;
- a duplicate merge key (two suppliers sharing one mail-address id);
- empty against missing (``""`` on one side, no value on the other: *not* drift by
  default policy);
- the two API generations against each other (v1 ``1985-03-14T00:00:00`` against v2
  ``1985-03-14`` is not drift; the contact person's date of birth, which v2 lacks, is
  an ``unresolved_property``).

``expected_findings.csv`` lists every finding the audit must report, by identity
``(pair, source_key, target_key, source_property, target_property, status)``; the
generator writes it from what it planted, not by comparing the tenants.

Generation is vectorised with numpy and polars, deterministic for a given seed, and
scales from 100 to 1,000,000 records per entity.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import polars as pl

from audit.flow.model import Flow, entity_file_stem
from audit.systems.poweroffice.fields import FIELDS

Generation = Literal["v1", "v2"]
Mode = Literal["two-tenants", "self"]

FIRST_NAMES = [
    "Kari",
    "Ola",
    "Åse",
    "Bjørn",
    "Øystein",
    "Ingrid",
    "Siri",
    "Håkon",
    "Sølvi",
    "Jørgen",
    "Marit",
    "Per",
    "Anne",
    "Lars",
    "Æsa",
    "Tørris",
    "Kjærsti",
    "Nils",
    "Ragnhild",
    "Eirik",
    "Solveig",
    "Trond",
    "Åsmund",
    "Liv",
    "Ståle",
    "Gro",
    "Dagfinn",
    "Bodil",
    "Øyvind",
    "Mette",
]
LAST_NAMES = [
    "Hansen",
    "Johansen",
    "Olsen",
    "Larsen",
    "Andersen",
    "Pedersen",
    "Nilsen",
    "Kristiansen",
    "Jensen",
    "Karlsen",
    "Berg",
    "Haugen",
    "Hagen",
    "Dahl",
    "Jørgensen",
    "Halvorsen",
    "Lund",
    "Sørensen",
    "Sæther",
    "Bræk",
    "Løvås",
    "Ødegård",
    "Strøm",
    "Aasen",
    "Solberg",
    "Bakke",
    "Nærø",
    "Kværner",
    "Åmodt",
    "Fjæreide",
]
PLACES = [
    ("0150", "Oslo"),
    ("0161", "Oslo"),
    ("0250", "Oslo"),
    ("0484", "Oslo"),
    ("0661", "Oslo"),
    ("0873", "Oslo"),
    ("0010", "Oslo"),
    ("1366", "Lysaker"),
    ("1530", "Moss"),
    ("1601", "Fredrikstad"),
    ("2317", "Hamar"),
    ("2609", "Lillehammer"),
    ("3015", "Drammen"),
    ("3110", "Tønsberg"),
    ("4006", "Stavanger"),
    ("4608", "Kristiansand"),
    ("4836", "Arendal"),
    ("5003", "Bergen"),
    ("6002", "Ålesund"),
    ("6413", "Molde"),
    ("7010", "Trondheim"),
    ("8006", "Bodø"),
    ("8515", "Narvik"),
    ("9008", "Tromsø"),
    ("9600", "Hammerfest"),
    ("9990", "Båtsfjord"),
]
STREETS = [
    "Storgata",
    "Kongens gate",
    "Dronningens gate",
    "Øvre Slottsgate",
    "Sjøgata",
    "Fjordveien",
    "Skogveien",
    "Ålgårdsvegen",
    "Kirkegata",
    "Bryggen",
    "Løkkeveien",
    "Bjørnstjerne Bjørnsons gate",
]
COMPANY_SUFFIXES = ["AS", "Bygg AS", "Regnskap AS", "Transport AS", "Rørlegger AS", "Elektro AS", "Sjømat AS"]

#: Id ranges, far apart so that every entity's ids are recognisable in findings.
CUSTOMER_BASE, SUPPLIER_BASE, CONTACT_BASE = 1_000_000, 2_000_000, 5_000_000
CUSTOMER_ADDR_BASE, SUPPLIER_ADDR_BASE, TARGET_ADDR_BASE = 6_000_000, 7_000_000, 8_000_000

FINDING_KEYS = ["pair", "source_key", "target_key", "source_property", "target_property", "status"]


@dataclass
class DemoResult:
    """Where the demo was written and what was planted."""

    out: Path
    source: Path
    target: Path
    counts: dict[str, dict[str, int]]
    planted: dict[str, int]
    expected: pl.DataFrame = field(repr=False)


# --------------------------------------------------------------------------- people
def _people(rng: np.random.Generator, n: int, tag: str) -> pl.DataFrame:
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
    ascii_ = {"æ": "ae", "ø": "o", "å": "a", "Æ": "ae", "Ø": "o", "Å": "a"}
    fold = pl.col("FirstName").str.to_lowercase()
    lfold = pl.col("LastName").str.to_lowercase()
    for a, b in ascii_.items():
        fold = fold.str.replace_all(a, b, literal=True)
        lfold = lfold.str.replace_all(a, b, literal=True)
    return frame.with_columns(
        EmailAddress=pl.concat_str(
            [fold, pl.lit("."), lfold, pl.lit(f".{tag}"), pl.int_range(pl.len()).cast(pl.Utf8), pl.lit("@example.no")]
        ),
        AddressLine1=pl.concat_str([pl.col("Street"), pl.lit(" "), pl.col("No").cast(pl.Utf8)]),
        CountryCode=pl.when(pl.int_range(pl.len()) % 23 == 7).then(pl.lit("SE")).otherwise(pl.lit("NO")),
    ).drop("Street", "No")


def _stamp(rng: np.random.Generator, n: int) -> np.ndarray:
    seconds = rng.integers(0, 365 * 24 * 3600, n)
    return (np.datetime64("2024-01-01T00:00:00") + seconds.astype("timedelta64[s]")).astype(str)


# --------------------------------------------------------------------------- shapes
def _neutral_name(v1: str | None, v2: str | None) -> str:
    return v2 or v1 or ""


def _shape(entity: str, neutral: pl.DataFrame, generation: Generation) -> pl.DataFrame:
    """Neutral flat frame (v2 dotted names, v1 names for v1-only fields) -> the API's
    nested record shape of one generation."""
    columns: dict[str, pl.Expr] = {}
    for v1, v2 in FIELDS[entity]:
        name = _neutral_name(v1, v2)
        out = v1 if generation == "v1" else v2
        if out is None or name not in neutral.columns:
            continue
        expr = pl.col(name)
        if generation == "v1" and name.split(".")[-1] == "DateOfBirth":
            expr = pl.when(expr.is_not_null()).then(expr + "T00:00:00")
        if generation == "v1" and name == "dateOfBirth":
            expr = pl.when(expr.is_not_null()).then(expr + "T00:00:00")
        columns[out] = expr
        if "." in name and f"{name.split('.')[0]}.__null__" in neutral.columns:
            columns[f"{out.split('.')[0]}.__null__"] = pl.col(f"{name.split('.')[0]}.__null__")
    flat = neutral.select(**columns)
    return _nest(flat)


def _nest(flat: pl.DataFrame) -> pl.DataFrame:
    heads: dict[str, list[str]] = {}
    for col in flat.columns:
        head = col.split(".")[0]
        heads.setdefault(head, []).append(col)
    exprs = []
    for head, cols in heads.items():
        if cols == [head]:
            exprs.append(pl.col(head))
            continue
        null_marker = f"{head}.__null__"
        fields = [pl.col(c).alias(c.split(".", 1)[1]) for c in cols if c != null_marker]
        struct = pl.struct(fields)
        if null_marker in flat.columns:
            struct = pl.when(pl.col(null_marker)).then(None).otherwise(struct)
        exprs.append(struct.alias(head))
    return flat.select(exprs)


def _addresses(parties: pl.DataFrame) -> pl.DataFrame:
    cols = [c for c in parties.columns if c.startswith("MailAddress.") and not c.endswith("__null__")]
    frame = parties
    if "MailAddress.__null__" in parties.columns:
        frame = parties.filter(~pl.col("MailAddress.__null__"))
    return (
        frame.select(cols)
        .rename({c: c.split(".", 1)[1] for c in cols})
        .unique(subset="Id", keep="first", maintain_order=True)
    )


def _write(frame: pl.DataFrame, path: Path, fmt: str) -> None:
    if fmt == "parquet":
        frame.write_parquet(path.with_suffix(".parquet"))
    else:
        frame.write_ndjson(path.with_suffix(".jsonl"))


def _pick(rng: np.random.Generator, pool: np.ndarray, k: int, taken: set[int]) -> np.ndarray:
    choices = [int(i) for i in rng.permutation(pool) if int(i) not in taken][:k]
    taken.update(choices)
    return np.array(sorted(choices), dtype=np.int64)


def _set(frame: pl.DataFrame, rows: np.ndarray, column: str, value: pl.Expr) -> pl.DataFrame:
    hit = pl.int_range(pl.len()).is_in(rows.tolist())
    return frame.with_columns(pl.when(hit).then(value).otherwise(pl.col(column)).alias(column))


# --------------------------------------------------------------------------- generator
def generate(
    out: str | Path,
    flow: Flow,
    records: int = 100,
    seed: int = 7,
    mode: Mode = "two-tenants",
    source_api: Generation = "v1",
    target_api: Generation = "v2",
    fmt: Literal["jsonl", "parquet"] = "jsonl",
) -> DemoResult:
    """Write demo tenants for the seed ``flow`` into ``out`` and return what was planted.

    Parameters
    ----------
    out : directory to create (``source/``, ``target/`` or ``tenant/``, plus
        ``expected_findings.csv`` and ``manifest.json``).
    flow : the parsed seed flow; pair headings and property paths come from it.
    records : records per entity (customers, suppliers and contact persons each).
    seed : random seed; the same seed gives byte-identical files.
    mode : ``two-tenants`` or ``self`` (one tenant syncing with itself).
    source_api, target_api : the API generation each side's records are shaped as
        (``self`` uses ``source_api`` for its one tenant).
    fmt : ``jsonl`` (the API's records, one per line) or ``parquet``.
    """
    if records < 20:
        raise ValueError("records must be at least 20 so that every kind of drift can be planted")
    pairs = {(p.source_entity.lower(), p.target_entity.lower()): p for p in flow.pairs}
    try:
        p_addr = pairs[("supplier", "address")]
        p_cc = pairs[("contactperson", "customer")]
        p_cp = pairs[("customer", "contactperson")]
    except KeyError as exc:
        raise ValueError(f"demo data needs the seed flow's pairs; {flow.file} lacks {exc}") from None

    rng = np.random.default_rng(seed)
    n = records
    k = max(2, n // 100)  # records per planted kind
    out = Path(out)
    expected: list[dict[str, str]] = []
    planted: dict[str, int] = {}

    def expect(pair, status, skey="", tkey="", sprop="", tprop=""):
        expected.append(
            {
                "pair": pair.heading,
                "source_key": str(skey) if skey != "" else "",
                "target_key": str(tkey) if tkey != "" else "",
                "source_property": sprop,
                "target_property": tprop,
                "status": status,
            }
        )

    def prop(pair, source_path):
        for p in pair.properties:
            if p.source.lower() == source_path.lower():
                return p
        raise ValueError(f"{pair.heading} maps no {source_path}")

    # -- people and suppliers ----------------------------------------------------
    persons_c = _people(rng, n, "c")  # customers on the source, contact persons on the target
    persons_k = _people(rng, n, "k")  # contact persons on the source, customers on the target
    companies = _people(rng, n, "s")
    self_mode = mode == "self"
    if self_mode:
        persons_k = persons_c
    ids_c = np.arange(n, dtype=np.int64) + CUSTOMER_BASE
    ids_k = ids_c if self_mode else np.arange(n, dtype=np.int64) + CONTACT_BASE
    ids_s = np.arange(n, dtype=np.int64) + SUPPLIER_BASE

    suppliers = pl.DataFrame({"Id": ids_s, "Number": (ids_s - SUPPLIER_BASE + 30000)}).with_columns(
        Name=pl.concat_str(
            [
                companies["LastName"],
                pl.lit(" "),
                pl.Series(np.array(COMPANY_SUFFIXES)[rng.integers(0, len(COMPANY_SUFFIXES), n)]),
            ]
        ),
        IsPerson=pl.lit(False),
        EmailAddress=companies["EmailAddress"],
        PhoneNumber=companies["Phone"],
        OrganizationNumber=pl.Series(rng.integers(910_000_000, 999_999_999, n).astype(str)),
        IsArchived=pl.lit(False),
        LastChangedDateTimeOffset=pl.Series(_stamp(rng, n)),
        **{
            "MailAddress.Id": pl.Series(ids_s - SUPPLIER_BASE + SUPPLIER_ADDR_BASE),
            "MailAddress.AddressLine1": companies["AddressLine1"],
            "MailAddress.City": companies["City"],
            "MailAddress.ZipCode": companies["ZipCode"],
            "MailAddress.CountryCode": companies["CountryCode"],
            "MailAddress.LastChangedDateTimeOffset": pl.Series(_stamp(rng, n)),
            "MailAddress.__null__": pl.lit(False),
        },
    )

    def customers(persons: pl.DataFrame, ids: np.ndarray, addr_ids: np.ndarray, number_base: int) -> pl.DataFrame:
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
            LastChangedDateTimeOffset=pl.Series(_stamp(rng, size)),
            **{
                "MailAddress.Id": pl.Series(addr_ids.astype(np.int64)),
                "MailAddress.AddressLine1": persons["AddressLine1"],
                "MailAddress.City": persons["City"],
                "MailAddress.ZipCode": persons["ZipCode"],
                "MailAddress.CountryCode": persons["CountryCode"],
                "MailAddress.LastChangedDateTimeOffset": pl.Series(_stamp(rng, size)),
            },
        )

    def contacts(persons: pl.DataFrame, ids: np.ndarray) -> pl.DataFrame:
        return pl.DataFrame({"Id": ids}).with_columns(
            ContactId=pl.Series(ids_s[rng.integers(0, n, n)]),
            FirstName=persons["FirstName"],
            LastName=persons["LastName"],
            EmailAddress=persons["EmailAddress"],
            PhoneNumber=persons["Phone"],
            IsActive=pl.lit(True),
            LastChangedDateTimeOffset=pl.Series(_stamp(rng, n)),
            dateOfBirth=persons["DateOfBirth"],
            **{
                "MailAddress.AddressLine1": persons["AddressLine1"],
                "MailAddress.City": persons["City"],
                "MailAddress.ZipCode": persons["ZipCode"],
                "MailAddress.CountryCode": persons["CountryCode"],
            },
        )

    src_customers = customers(persons_c, ids_c, np.arange(n) + CUSTOMER_ADDR_BASE, 10000)
    src_contacts = contacts(persons_k, ids_k)
    src_suppliers = suppliers
    if self_mode:
        tgt_customers, tgt_contacts, tgt_suppliers = src_customers, src_contacts, src_suppliers
    else:
        tgt_customers = customers(persons_k, ids_k, np.arange(n) + TARGET_ADDR_BASE, 10000)
        tgt_contacts = contacts(persons_c, ids_c)
        tgt_suppliers = suppliers.with_columns(LastChangedDateTimeOffset=pl.Series(_stamp(rng, n)))

    # -- planted drift -------------------------------------------------------------
    rows = np.arange(n)
    taken_k: set[int] = set()  # rows of persons_k (source contacts / target customers)
    taken_c: set[int] = set()  # rows of persons_c (source customers / target contacts)
    if self_mode:
        taken_c = taken_k  # the same people

    # a value changed on one side: city on the customer
    r = _pick(rng, rows, k, taken_k)
    tgt_customers = _set(tgt_customers, r, "MailAddress.City", pl.lit("Hønefoss"))
    if self_mode:
        src_customers, src_contacts = tgt_customers, src_contacts
    for i in r:
        expect(p_cc, "mismatch", ids_k[i], ids_k[i], "city", prop(p_cc, "city").target)
        if self_mode:
            expect(p_cp, "mismatch", ids_c[i], ids_c[i], "mailAddress.city", prop(p_cp, "mailAddress.city").target)
    planted["value_changed_city"] = len(r)

    # a zip code that lost its leading zero on the customer
    zero_rows = np.flatnonzero(persons_k["ZipCode"].str.starts_with("0").to_numpy())
    r = _pick(rng, zero_rows, k, taken_k)
    tgt_customers = _set(
        tgt_customers, r, "MailAddress.ZipCode", pl.col("MailAddress.ZipCode").str.strip_chars_start("0")
    )
    if self_mode:
        src_customers = tgt_customers
    for i in r:
        expect(p_cc, "mismatch", ids_k[i], ids_k[i], "zipCode", prop(p_cc, "zipCode").target)
        if self_mode:
            expect(
                p_cp, "mismatch", ids_c[i], ids_c[i], "mailAddress.zipCode", prop(p_cp, "mailAddress.zipCode").target
            )
    planted["zip_leading_zero"] = len(r)

    # a value changed on one side: e-mail on the source contact person
    r = _pick(rng, rows, k, taken_k)
    src_contacts = _set(src_contacts, r, "EmailAddress", pl.concat_str([pl.lit("ny."), pl.col("EmailAddress")]))
    if self_mode:
        tgt_contacts = src_contacts
    for i in r:
        expect(p_cc, "mismatch", ids_k[i], ids_k[i], "emailAddress", prop(p_cc, "emailAddress").target)
        if self_mode:
            expect(p_cp, "mismatch", ids_c[i], ids_c[i], "emailAddress", prop(p_cp, "emailAddress").target)
    planted["value_changed_email"] = len(r)

    # empty against missing: "" on the source contact, no value on the customer (not drift)
    r = _pick(rng, rows, k, taken_k)
    src_contacts = _set(src_contacts, r, "EmailAddress", pl.lit(""))
    tgt_customers = _set(tgt_customers, r, "EmailAddress", pl.lit(None, dtype=pl.Utf8))
    if self_mode:
        tgt_contacts, src_customers = src_contacts, tgt_customers
    planted["empty_vs_missing"] = len(r)

    if not self_mode:
        # first and last name changed on the other pair's records
        r = _pick(rng, rows, k, taken_c)
        tgt_contacts = _set(tgt_contacts, r, "FirstName", pl.concat_str([pl.col("FirstName"), pl.lit("-Marie")]))
        for i in r:
            expect(p_cp, "mismatch", ids_c[i], ids_c[i], "firstName", prop(p_cp, "firstName").target)
        planted["value_changed_first_name"] = len(r)
        r = _pick(rng, rows, k, taken_c)
        src_customers = _set(src_customers, r, "LastName", pl.lit("Østby"))
        for i in r:
            expect(p_cp, "mismatch", ids_c[i], ids_c[i], prop(p_cp, "LastName").source, prop(p_cp, "LastName").target)
        planted["value_changed_last_name"] = len(r)

    # missing counterparts
    r_k = _pick(rng, rows, k, taken_k)  # contact persons whose customer is gone
    if self_mode:
        r_c = r_k
    else:
        r_c = _pick(rng, rows, k, taken_c)  # customers whose contact person is gone
    keep_k = ~np.isin(rows, r_k)
    keep_c = ~np.isin(rows, r_c)
    tgt_customers = tgt_customers.filter(pl.Series(keep_k))
    tgt_contacts = tgt_contacts.filter(pl.Series(keep_c))
    if self_mode:
        # one tenant: the customer is gone, so the contact person has no customer and
        # (in the other direction) nothing links to that contact person
        for i in r_k:
            expect(p_cc, "missing_in_target", skey=ids_k[i])
            expect(p_cp, "missing_in_source", tkey=ids_k[i])
        src_customers = tgt_customers
        tgt_contacts = src_contacts
        keep_c = np.ones(n, dtype=bool)
    else:
        for i in r_k:
            expect(p_cc, "missing_in_target", skey=ids_k[i])
        for i in r_c:
            expect(p_cp, "missing_in_target", skey=ids_c[i])
    planted["missing_in_target"] = len(r_k) + (0 if self_mode else len(r_c))

    extra = 0
    if not self_mode:
        # target records that no source record links to
        extra_ids = np.arange(k, dtype=np.int64) + CONTACT_BASE + n + 1000
        extra_people = _people(rng, k, "x")
        more = customers(extra_people, extra_ids, np.arange(k) + TARGET_ADDR_BASE + n + 1000, 90000)
        tgt_customers = pl.concat([tgt_customers, more.select(tgt_customers.columns)])
        for tid in extra_ids:
            expect(p_cc, "missing_in_source", tkey=tid)
        extra = k
    planted["missing_in_source"] = extra + (len(r_k) if self_mode else 0)

    # suppliers: one without a mail address, two sharing one mail-address id, and (two
    # tenants) one whose target address got a new id
    srows = np.arange(n)
    taken_s: set[int] = set()
    r_null = _pick(rng, srows, 1, taken_s)
    r_dup = _pick(rng, srows, 2, taken_s)
    r_moved = _pick(rng, srows, 1, taken_s)
    shared_addr = int(ids_s[r_dup[0]] - SUPPLIER_BASE + SUPPLIER_ADDR_BASE)
    src_suppliers = _set(src_suppliers, r_null, "MailAddress.__null__", pl.lit(True))
    src_suppliers = _set(src_suppliers, r_dup[1:], "MailAddress.Id", pl.lit(shared_addr, dtype=pl.Int64))
    tgt_suppliers = _set(tgt_suppliers, r_dup[1:], "MailAddress.Id", pl.lit(shared_addr, dtype=pl.Int64))
    if self_mode:
        tgt_suppliers = src_suppliers
    else:
        tgt_suppliers = _set(tgt_suppliers, r_moved, "MailAddress.Id", pl.col("MailAddress.Id") + 500_000)
    expect(p_addr, "missing_in_target", skey=ids_s[r_null[0]])
    rule = p_addr.merge_rules[0]  # the audit names the rule that matched twice
    for i in r_dup:
        expect(p_addr, "ambiguous_link", skey=ids_s[i], tkey=shared_addr, sprop=rule.source, tprop=rule.target)
    planted["supplier_without_address"] = 1
    planted["duplicate_merge_key"] = 1
    if not self_mode:
        expect(p_addr, "missing_in_target", skey=ids_s[r_moved[0]])
        planted["address_replaced"] = 1

    # -- the two generations against each other ------------------------------------
    tgt_gen = source_api if self_mode else target_api
    if tgt_gen == "v2":
        for p in (p_cp,):
            for q in p.properties:
                if q.target.lower() == "dateofbirth":
                    expect(p, "unresolved_property", sprop=q.source, tprop=q.target)
                    planted["unresolved_property"] = planted.get("unresolved_property", 0) + 1
    if source_api == "v2":
        for q in p_cc.properties:
            if q.source.lower() == "dateofbirth":
                expect(p_cc, "unresolved_property", sprop=q.source, tprop=q.target)
                planted["unresolved_property"] = planted.get("unresolved_property", 0) + 1

    # -- addresses, and every target address no supplier links to -----------------
    src_addresses = pl.concat([_addresses(src_customers), _addresses(src_suppliers)])
    tgt_addresses = pl.concat([_addresses(tgt_customers), _addresses(tgt_suppliers)]).unique(
        subset="Id", keep="first", maintain_order=True
    )
    linked_addr = set(src_suppliers.filter(~pl.col("MailAddress.__null__"))["MailAddress.Id"].to_list())
    for aid in tgt_addresses["Id"].to_list():
        if aid not in linked_addr:
            expect(p_addr, "missing_in_source", tkey=aid)

    # -- write ------------------------------------------------------------------------
    out.mkdir(parents=True, exist_ok=True)
    sides = {"tenant": source_api} if self_mode else {"source": source_api, "target": target_api}
    frames = {
        "source": {
            "customer": src_customers,
            "supplier": src_suppliers,
            "contactperson": src_contacts,
            "address": src_addresses,
        },
        "target": {
            "customer": tgt_customers,
            "supplier": tgt_suppliers,
            "contactperson": tgt_contacts,
            "address": tgt_addresses,
        },
    }
    counts: dict[str, dict[str, int]] = {}
    for side, generation in sides.items():
        directory = out / side
        directory.mkdir(parents=True, exist_ok=True)
        data = frames["source" if side in ("tenant", "source") else "target"]
        counts[side] = {}
        for entity, frame in data.items():
            stem = entity_file_stem(entity)
            shaped = _shape(entity, frame, generation)
            _write(shaped, directory / stem, fmt)
            counts[side][entity] = shaped.height

    expected_df = pl.DataFrame(expected, schema={c: pl.Utf8 for c in FINDING_KEYS}).sort(FINDING_KEYS)
    expected_df.write_csv(out / "expected_findings.csv")
    source_dir = out / ("tenant" if self_mode else "source")
    target_dir = out / ("tenant" if self_mode else "target")
    manifest = {
        "generator": "audit demo-data",
        "flow": flow.title,
        "mode": mode,
        "seed": seed,
        "records_per_entity": n,
        "format": fmt,
        "generations": sides,
        "source": source_dir.name,
        "target": target_dir.name,
        "counts": counts,
        "planted": planted,
        "expected_findings": expected_df.height,
        "expected_by_status": dict(sorted(expected_df.group_by("status").len().iter_rows())),
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return DemoResult(
        out=out, source=source_dir, target=target_dir, counts=counts, planted=planted, expected=expected_df
    )
