"""A corrected field keeps its JSON type: the new value is written as the type the field
holds now, or the change is refused (``type_conflict``).

The audit compares values by the value model (:mod:`audit.core.values`): where the flow
declares a string, the number ``1473`` and the text ``"1473"`` are the same value. A
field's JSON type, though, is the record's: a snapshot whose field holds numbers in some
records and strings in others is unreadable (exit 2, "mixed types"). So a write-back that
copies ``"1474"`` into a field holding numbers writes the number ``1474``, and one that
copies the number ``150`` into a field holding strings writes ``"150"``. Where no value of
the field's type is the same value as the new one (``"0150"`` into a number field: the
number ``150`` is not ``"0150"``), a careful tool writes nothing and says so, since
writing text there would make the tenant's data unreadable to the next audit.

The type is learned from the record itself: the snapshot's value when the plan is made
(:mod:`audit.writeback.plan_rows`), the API's answer to the guard read when it is applied
(:mod:`audit.writeback.write`). A field without a value (``null``, absent) takes the new
value as it is.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from audit.core.values import WHITESPACE, ValueSpec, canonical_boolean, equal, normalise, text_of
from audit.core.written import json_type
from audit.writeback.model import Change, RecordRef

__all__ = ["TYPE_CONFLICT", "TypeConflict", "json_type", "in_type_of", "conflict_text", "typed_for"]

#: Status and skip reason of a change whose new value the field's JSON type cannot hold.
TYPE_CONFLICT = "type_conflict"

#: A JSON number as RFC 8259 section 6 spells it (no leading zeros, no ``+``, no bare ``.``).
JSON_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")


class TypeConflict(ValueError):
    """No value of the field's JSON type is the same value as the new one."""

    def __init__(self, field_type: str, current: Any, new: Any):
        self.field_type, self.current, self.new = field_type, current, new
        super().__init__(f"holds a JSON {field_type} ({text_of(current)}); {new!r} is no {field_type} equal to it")


def _number(text: str, spec: ValueSpec) -> int | Decimal | None:
    """The JSON number that is ``text`` under ``spec``: as written when it is a JSON
    number, else its canonical spelling (``"0150"`` is ``150`` where the type is numeric)."""
    for spelling in dict.fromkeys((text, text.strip(WHITESPACE), normalise(text, spec) or "")):
        if JSON_NUMBER.fullmatch(spelling):
            number: int | Decimal = Decimal(spelling) if re.search("[.eE]", spelling) else int(spelling)
            if equal(number, text, spec):
                return number
    return None


def in_type_of(new: Any, current: Any, spec: ValueSpec) -> Any:
    """``new`` as a value of ``current``'s JSON type that is the same value under ``spec``.

    ``new`` is returned as it is when either is null or both have one type.

    Raises
    ------
    TypeConflict
        No value of ``current``'s type is the same value as ``new``.
    """
    want, have = json_type(current), json_type(new)
    if want is None or have is None or want == have:
        return new
    typed: Any = None
    if want == "string" and have in ("number", "boolean"):
        typed = text_of(new)
    elif want == "number" and have == "string":
        typed = _number(new, spec)
    elif want == "boolean" and have == "string":
        word = canonical_boolean(new)
        typed = None if word is None else word == "true"
    if typed is None or not equal(typed, new, spec):
        raise TypeConflict(want, current, new)
    return typed


def conflict_text(exc: TypeConflict, ref: RecordRef, field: str, spec: ValueSpec) -> str:
    """Why a change is refused, naming the record, the field, its JSON type and the value
    (``type_conflict: contactperson 4000039 field MailAddress.ZipCode holds a JSON number
    (150); '0150' is no number equal to it (declared type string); not written``)."""
    return (
        f"{TYPE_CONFLICT}: {ref.entity} {ref.record_id} field {field} {exc} "
        f"(declared type {spec.datatype}); not written"
    )


def typed_for(c: Change, current: Any, field: str) -> tuple[Any, str | None]:
    """``(value to write, None)`` for change ``c`` on a field holding ``current`` as the
    API answered the guard read, or ``(None, why it is refused)``."""
    spec = c.value_spec()
    try:
        return in_type_of(c.new_value, current, spec), None
    except TypeConflict as exc:
        return None, conflict_text(exc, c.corrected, field, spec)
