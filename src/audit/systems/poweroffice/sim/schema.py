"""The simulator's own table of the two generations' fields, written from the documents
and never taken from the client's :mod:`audit.systems.poweroffice.fields`: the simulator
serves a record seeded in one generation through the other with this table, so a wrong
client table meets a simulator that disagrees with it (in the contract tests
``tests/test_contract_v1.py`` / ``test_contract_v2.py`` and in ``tests/test_sim_schema.py``,
which also holds this table to the v2 contract).

- v1 names: PowerOffice/go-api-documentation, ``docs/api/reference/rest/route_get_customer_.md``
  (a party: ``mailAddress {city, zipCode, address1, address2, countryCode, lastChanged, id,
  isPrimary, externalCode}``, ``code``, ``vatNumber``, ...) and
  ``route_get_partycontactperson_.md`` (a contact person: ``partyId``, ``address1``,
  ``city``, ``residenceCountryCode``, ``externalCode``, ...).
- v2 names and read-only flags: the v2 OpenAPI document, ``components.schemas.CustomerDto``,
  ``SupplierDto``, ``ContactPersonDto``, ``ContactAddressDto`` (a party's ``MailAddress``)
  and ``AddressDto`` (a contact person's ``MailAddress``: no ``Id``, no stamp).
- Which v1 name is which v2 name no document says; the pairs are the same word in
  either casing, plus the renames the README lists ("What the defaults assume", v1 and v2
  field names).

A v1 ``dateOfBirth`` (``Date``, route_get_customer_.md) is served as a midnight timestamp
and a v2 ``DateOfBirth`` as ``yyyy-MM-dd`` (``format: date``).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from audit.core.dotted import get_path, set_path
from audit.core.yaml_file import read_yaml

Record = dict[str, Any]
Pairs = tuple[tuple[str, str], ...]

#: A party's mail address: v1 ``mailAddress`` / v2 ``ContactAddressDto``.
_MAIL: Pairs = (
    ("id", "Id"),
    ("address1", "AddressLine1"),
    ("address2", "AddressLine2"),
    ("city", "City"),
    ("zipCode", "ZipCode"),
    ("countryCode", "CountryCode"),
    ("externalCode", "ExternalCode"),
    ("lastChanged", "LastChangedDateTimeOffset"),
)

#: A customer or supplier: v1 ``GoApi.Party.Customer`` / v2 ``CustomerDto``, ``SupplierDto``.
_PARTY: Pairs = (
    ("id", "Id"),
    ("code", "Number"),
    ("name", "Name"),
    ("legalName", "LegalName"),
    ("firstName", "FirstName"),
    ("lastName", "LastName"),
    ("isPerson", "IsPerson"),
    ("emailAddress", "EmailAddress"),
    ("phoneNumber", "PhoneNumber"),
    ("websiteUrl", "WebsiteUrl"),
    ("dateOfBirth", "DateOfBirth"),
    ("vatNumber", "OrganizationNumber"),
    ("isArchived", "IsArchived"),
    ("lastChanged", "LastChangedDateTimeOffset"),
) + tuple((f"mailAddress.{v1}", f"MailAddress.{v2}") for v1, v2 in _MAIL)

#: A contact person: v1 ``GoApi.Party.ContactPerson`` / v2 ``ContactPersonDto`` (its
#: ``MailAddress`` an ``AddressDto``).
_CONTACT_PERSON: Pairs = (
    ("id", "Id"),
    ("partyId", "ContactId"),
    ("firstName", "FirstName"),
    ("lastName", "LastName"),
    ("emailAddress", "EmailAddress"),
    ("phoneNumber", "PhoneNumber"),
    ("isActive", "IsActive"),
    ("externalCode", "ExternalCode"),
    ("lastChanged", "LastChangedDateTimeOffset"),
    ("address1", "MailAddress.AddressLine1"),
    ("address2", "MailAddress.AddressLine2"),
    ("city", "MailAddress.City"),
    ("zipCode", "MailAddress.ZipCode"),
    ("residenceCountryCode", "MailAddress.CountryCode"),
)

PAIRS: dict[str, Pairs] = {"customer": _PARTY, "supplier": _PARTY, "contactperson": _CONTACT_PERSON}

_MAIL_READ_ONLY = frozenset({"MailAddress.Id", "MailAddress.LastChangedDateTimeOffset"})  # ContactAddressDto

#: v2 paths marked ``readOnly: true`` in the DTOs: a PATCH of one is refused.
READ_ONLY: dict[str, frozenset[str]] = {
    "customer": frozenset(
        {
            "Id",
            "LastChangedDateTimeOffset",
            "IsActive",
            "ContactCreatedDateTimeOffset",
            "CustomerCreatedDateTimeOffset",
            "CreatedFromImportJournalId",
            "DeliveryTerm",
            "DepartmentCode",
            "InvoiceBrandingThemeCode",
            "PaymentTerm",
            "SalesPersonEmployeeNumber",
            "SubledgerAccountId",
        }
    )
    | _MAIL_READ_ONLY,
    "supplier": frozenset(
        {
            "Id",
            "LastChangedDateTimeOffset",
            "IsActive",
            "ContactCreatedDateTimeOffset",
            "SupplierCreatedDateTimeOffset",
            "CreatedFromImportJournalId",
            "SubledgerAccountId",
        }
    )
    | _MAIL_READ_ONLY,
    "contactperson": frozenset({"Id", "ContactId", "CreatedDateTimeOffset", "LastChangedDateTimeOffset"}),
}

_DATES = {"DateOfBirth": "dateOfBirth"}  # v2 ``format: date``


def generation_of(record: Record) -> str:
    """``"v2"`` for a PascalCase record (the v2 DTOs), ``"v1"`` for a camelCase one."""
    return "v2" if any(key[:1].isupper() for key in record) else "v1"


def is_read_only(entity: str, path: str) -> bool:
    """Whether the v2 DTO of ``entity`` marks the dotted ``path`` read-only (any case)."""
    low = path.lower()
    return any(name.lower() == low for name in READ_ONLY[entity])


def v1_name(entity: str, v2_path: str) -> str | None:
    """The v1 name of a v2 path of ``entity``, or ``None`` when v1 has no such field."""
    return next((v1 for v1, v2 in PAIRS[entity] if v2 == v2_path), None)


def _date(value: Any, to: str) -> Any:
    if not isinstance(value, str):
        return value
    if to == "v2":
        return value[:10]
    return value + "T00:00:00" if len(value) == 10 else value


def convert(entity: str, record: Record, to: str) -> Record:
    """``record`` in the other generation's shape: the fields both know, renamed; an
    object that is ``null`` stays ``null`` under its new name."""
    src, dst = (0, 1) if to == "v2" else (1, 0)
    out: Record = {}
    for pair in PAIRS[entity]:
        head = pair[src].split(".")[0]
        if "." in pair[src] and head in record and record[head] is None:
            out.setdefault(pair[dst].split(".")[0], None)
            continue
        found, value = get_path(record, pair[src])
        if found:
            date = pair[1] in _DATES
            set_path(out, pair[dst], _date(value, to) if date else value)
    return out


#: The v2 DTO each entity is served and patched as.
DTOS = {"customer": "CustomerDto", "supplier": "SupplierDto", "contactperson": "ContactPersonDto"}
#: The v2 DTOs as the bundled contract holds them (its schemas are the official document's).
_CONTRACT = Path(__file__).resolve().parents[1] / "contract" / "v2-contract.yaml"


@cache
def _schemas() -> dict[str, Any]:
    return read_yaml(_CONTRACT, "the v2 contract")["components"]["schemas"]


def dto_path(entity: str, parts: list[str]) -> list[str] | None:
    """The members a JSON Patch path's ``parts`` name on ``entity``'s DTO, spelt as
    the DTO spells it (members matched in any case, as the v2 document's own PATCH example
    writes ``/phoneNumber`` and ``/firstname``), or ``None`` when the DTO has no such member.
    A path into a list or a free-form object is not followed past its member."""
    schemas = _schemas()
    schema = schemas[DTOS[entity]]
    out: list[str] = []
    for part in parts:
        members = schema.get("properties") if isinstance(schema, dict) else None
        if not members:
            return out + parts[len(out) :] if out else None
        found = next((name for name in members if name.lower() == part.lower()), None)
        if found is None:
            return None
        out.append(found)
        schema = members[found]
        if "$ref" in schema:
            schema = schemas[schema["$ref"].rsplit("/", 1)[-1]]
    return out
