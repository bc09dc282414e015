"""What the toolkit knows of PowerOffice Go's two API generations.

One table per entity lists its fields as ``(v1 path, v2 path)``; either may be ``None``
where a generation lacks the field (v2 contact persons have no date of birth). From the
table come

- :func:`alias`: the other generation's name of a path (used by path resolution);
- :func:`to_v1` / :func:`to_v2`: a record converted between generations (used by the
  simulator, which serves both generations from one snapshot, and by the demo data).

Entities are named by their snapshot stem (``customer``, ``supplier``,
``contactperson``, ``address``). "Address" is derived: the mail addresses embedded in
customers and suppliers, keyed by the address id.

Paths are dotted (``MailAddress.City``); lookups are case-insensitive.
"""

from __future__ import annotations

from typing import Any

from audit.core.dotted import get_path, set_path
from audit.flow.profile import SystemProfile

Record = dict[str, Any]

_ADDRESS_FIELDS: list[tuple[str | None, str | None]] = [
    ("id", "Id"),
    ("address1", "AddressLine1"),
    ("address2", "AddressLine2"),
    ("city", "City"),
    ("zipCode", "ZipCode"),
    ("countryCode", "CountryCode"),
    ("lastChanged", "LastChangedDateTimeOffset"),
    ("isPrimary", None),
    # v1 ``mailAddress.externalCode`` (go-api-documentation,
    # docs/api/reference/rest/route_get_customer_.md); v2 ``ContactAddressDto.ExternalCode``.
    ("externalCode", "ExternalCode"),
]

_PARTY_FIELDS: list[tuple[str | None, str | None]] = [
    ("id", "Id"),
    ("code", "Number"),
    ("name", "Name"),
    ("firstName", "FirstName"),
    ("lastName", "LastName"),
    ("isPerson", "IsPerson"),
    ("emailAddress", "EmailAddress"),
    ("phoneNumber", "PhoneNumber"),
    ("dateOfBirth", "DateOfBirth"),
    # v1 calls the organisation number ``vatNumber`` (go-api-documentation,
    # docs/api/rest/filtering.md, "Filter customer on VatNumber"); v2 ``OrganizationNumber``
    # (v2 OpenAPI, CustomerDto).
    ("vatNumber", "OrganizationNumber"),
    ("isArchived", "IsArchived"),
    (None, "IsActive"),
    ("lastChanged", "LastChangedDateTimeOffset"),
] + [(f"mailAddress.{v1}" if v1 else None, f"MailAddress.{v2}" if v2 else None) for v1, v2 in _ADDRESS_FIELDS]

FIELDS: dict[str, list[tuple[str | None, str | None]]] = {
    "customer": _PARTY_FIELDS,
    "supplier": _PARTY_FIELDS + [(None, "SupplierCreatedDateTimeOffset")],
    "contactperson": [
        ("id", "Id"),
        ("partyId", "ContactId"),
        ("firstName", "FirstName"),
        ("lastName", "LastName"),
        ("emailAddress", "EmailAddress"),
        ("phoneNumber", "PhoneNumber"),
        # v1 contact persons have no title (go-api-documentation,
        # docs/api/reference/rest/route_get_partycontactperson_.md); v2 ContactPersonDto has.
        (None, "Title"),
        ("isActive", "IsActive"),
        (None, "IsDefault"),
        ("lastChanged", "LastChangedDateTimeOffset"),
        ("address1", "MailAddress.AddressLine1"),
        ("address2", "MailAddress.AddressLine2"),
        ("city", "MailAddress.City"),
        ("zipCode", "MailAddress.ZipCode"),
        ("residenceCountryCode", "MailAddress.CountryCode"),
        ("dateOfBirth", None),
        # v1 ``externalCode`` (route_get_partycontactperson_.md); v2 ``ContactPersonDto.ExternalCode``
        # (and the ``externalCodes`` filter of v2 OpenAPI ``paths./ContactPersons.get``).
        ("externalCode", "ExternalCode"),
    ],
    "address": _ADDRESS_FIELDS,
}

#: Fields a write never sets (ids and system stamps), by generation-neutral lower-case path.
READ_ONLY = {
    "id",
    "lastchanged",
    "lastchangeddatetimeoffset",
    "mailaddress.id",
    "mailaddress.lastchanged",
    "mailaddress.lastchangeddatetimeoffset",
    "suppliercreateddatetimeoffset",
    "partyid",
    "contactid",
}

#: Read-only on some entities only: a customer's and a supplier's ``IsActive`` is
#: ``readOnly`` in the v2 OpenAPI document (CustomerDto, SupplierDto), a contact
#: person's is not (ContactPersonDto, ContactPersonPostDto).
READ_ONLY_BY_ENTITY = {"customer": frozenset({"isactive"}), "supplier": frozenset({"isactive"})}

#: v2 fields holding a date (``yyyy-MM-dd``) that v1 sends as a midnight timestamp.
DATE_FIELDS = {"DateOfBirth"}


#: Paths PowerOffice Go stamps on its own writes: two synced records differ there by design.
STAMPS = ("lastChanged", "mailAddress.lastChanged", "SupplierCreatedDateTimeOffset")

#: What the audit's core knows of PowerOffice Go (registered as the ``powerofficego`` system).
PROFILE = SystemProfile(
    name="powerofficego",
    fields=FIELDS,
    date_fields=frozenset(d.lower() for d in DATE_FIELDS),
    read_only=frozenset(READ_ONLY),
    stamps=STAMPS,
)


def _table(entity: str) -> list[tuple[str | None, str | None]]:
    try:
        return FIELDS[entity]
    except KeyError:
        raise KeyError(f"unknown PowerOffice Go entity {entity!r}; known: {', '.join(FIELDS)}") from None


def alias(entity: str, path: str) -> tuple[str | None, str | None] | None:
    """``(v1 path, v2 path)`` of the field that ``path`` names on either generation
    (case-insensitive), or ``None`` when the entity has no such field."""
    low = path.lower()
    for v1, v2 in _table(entity):
        if (v1 and v1.lower() == low) or (v2 and v2.lower() == low):
            return v1, v2
    return None


def is_read_only(path: str, entity: str | None = None) -> bool:
    """True for ids and system stamps, which a write-back never sets, and for fields
    read-only on ``entity`` (a customer's ``IsActive``; without an entity, any entity's)."""
    low = path.lower()
    if low in READ_ONLY:
        return True
    if entity is None:
        return any(low in fields for fields in READ_ONLY_BY_ENTITY.values())
    return low in READ_ONLY_BY_ENTITY.get(entity, frozenset())


def _convert(entity: str, record: Record, src: int, dst: int) -> Record:
    out: Record = {}
    nested_null: set[str] = set()
    for pair in _table(entity):
        s, d = pair[src], pair[dst]
        if s is None or d is None:
            continue
        head = s.split(".")[0]
        if "." in s and head in record and record[head] is None:
            nested_null.add(d.split(".")[0])
            continue
        found, value = get_path(record, s)
        if not found:
            continue
        if d.split(".")[-1] in DATE_FIELDS and isinstance(value, str) and dst == 1:
            value = value[:10]
        elif s.split(".")[-1] in DATE_FIELDS and isinstance(value, str) and dst == 0 and len(value) == 10:
            value = value + "T00:00:00"
        set_path(out, d, value)
    for head in nested_null:
        out.setdefault(head, None)
    return out


def to_v1(entity: str, record: Record) -> Record:
    """A v2 (PascalCase) record in v1 (camelCase) shape; fields v1 lacks are dropped."""
    return _convert(entity, record, src=1, dst=0)


def to_v2(entity: str, record: Record) -> Record:
    """A v1 (camelCase) record in v2 (PascalCase) shape; fields v2 lacks are dropped."""
    return _convert(entity, record, src=0, dst=1)


def generation_of(record: Record) -> str:
    """``"v2"`` when the record's keys are PascalCase (``Id``), else ``"v1"``."""
    return "v2" if "Id" in record or any(k[:1].isupper() for k in record) else "v1"
