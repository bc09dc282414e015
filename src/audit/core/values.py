"""One meaning of "the same value": how a raw value is normalised and when two agree.

Every place that decides whether two values are the same asks this module: the audit's
comparison (:mod:`audit.core.compare`, as polars expressions over whole columns), merge
rules and conditions (:mod:`audit.core.links`, :mod:`audit.core.binding`), and the
write-back's plan, guard and read-back (plain Python on single values). Both forms follow
the same rules (the polars form lives in :mod:`audit.core.values_polars`); a property
test checks they agree (``tests/test_values_props.py``).

A :class:`ValueSpec` says how one property's values are read: its declared data type,
whether it is a calendar date, the policy's normalizers, whether an empty string is
missing, and the zone a stamp without an offset is read in. :func:`normalise` gives a
value's canonical text (``None``: missing); two values are equal when their canonical
texts are. The rules, by kind:

- text (``string``, an unknown type): the value as written (a number ``150`` is ``"150"``,
  a decimal ``150.0`` is ``"150.0"``; ``"0150"`` stays ``"0150"``), then the normalizers;
- ``integer``: digits with an optional sign, leading zeros dropped (``"007"`` is ``7``), of
  any length (never through a 64-bit integer); an integral decimal (``150.0``) is ``150``;
- ``float`` / ``decimal``: exact decimal text (``150`` = ``150.0`` = ``"150.00"``; trailing
  fraction zeros and leading integer zeros dropped), never through binary floats;
- ``boolean``: ``true`` / ``false`` (any case);
- ``list``: the list's compact JSON text;
- a date: ``1985-03-14``, or a timestamp that is midnight as written
  (``1985-03-14T00:00:00``, ``1985-03-14T00:00:00+01:00``), or one with an offset that is
  midnight in the configured zone (``1985-03-13T23:00:00Z`` in ``Europe/Oslo``), is the
  date ``1985-03-14``; another time is not a date.

A value not of the declared kind keeps its normalised text (and is a ``type_violation``
where the target must have the type). Numbers in exponent form (``1.5E3``, ``1e-7``, an
exponent of at most three digits) are numbers where the declared type is numeric
(``1.5E3`` = ``1500``); where it is ``string`` they are texts like any other.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

__all__ = [
    "DEFAULT_ZONE",
    "WHITESPACE",
    "ValueSpec",
    "text_of",
    "normalise",
    "type_ok",
    "equal",
    "is_missing",
    "as_date",
    "parse_instant",
    "same_instant",
]

#: The zone a stamp without an offset is read in, unless the policy names another:
#: PowerOffice Go writes Norwegian local time where it writes no offset.
DEFAULT_ZONE = "Europe/Oslo"

#: Unicode White_Space, spelled out so that Python's ``re``/``str.strip`` and polars (Rust)
#: strip and collapse exactly the same characters.
WHITESPACE = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
WS_RUN = f"[{WHITESPACE}]+"

INT_RE = r"^[+-]?[0-9]+(?:\.0*)?$"
DEC_RE = r"^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)$"
#: A decimal in exponent form (``1.5E3``); the exponent has at most three digits, so that a
#: value cannot ask for a text of millions of zeros.
EXP_RE = r"^([+-]?)([0-9]+\.?[0-9]*|\.[0-9]+)[eE]([+-]?[0-9]{1,3})$"
BOOL_VALUES = ("true", "false")
#: The canonical text of a value of each numeric kind (what :func:`normalise` gives when
#: :func:`type_ok` holds, and never otherwise): the type expectations of the GX suites.
CANONICAL_RE = {
    "integer": r"^-?[0-9]+$",
    "decimal": r"^-?[0-9]+(\.[0-9]*[1-9])?$",
}
#: A date, or a timestamp at midnight as written (any offset).
DATE_RE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[T ]00:00(?::00(?:\.0+)?)? ?(?:Z|z|[+-][0-9]{2}:?[0-9]{2})?)?$"
#: A timestamp with an offset (looked at when it is not midnight as written).
STAMP_OFFSET_RE = (
    r"^([0-9]{4}-[0-9]{2}-[0-9]{2})[T ]([0-9]{2}:[0-9]{2})(?::([0-9]{2})(\.[0-9]+)?)?"
    r" ?(Z|z|[+-](?:[01][0-9]|2[0-3]):?[0-5][0-9])$"
)
KINDS = {"integer": "integer", "float": "decimal", "decimal": "decimal", "boolean": "boolean", "list": "list"}


@dataclass(frozen=True)
class ValueSpec:
    """How the values of one property are read and compared.

    Attributes
    ----------
    datatype : str or None
        The declared data type (``string``, ``integer``, ``float``, ``decimal``,
        ``boolean``, ``list``; ``None``: compared as text).
    date : bool
        The values are calendar dates.
    normalizers : tuple of str
        ``trim``, ``casefold``, ``collapse_whitespace``, applied in order to the text.
    empty_equals_missing : bool
        An empty text (after the normalizers) is a missing value.
    zone : str
        IANA zone of stamps written without an offset.
    """

    datatype: str | None = "string"
    date: bool = False
    normalizers: tuple[str, ...] = ()
    empty_equals_missing: bool = True
    zone: str = DEFAULT_ZONE

    @property
    def kind(self) -> str:
        """``date``, ``integer``, ``decimal``, ``boolean``, ``list`` or ``text``."""
        return "date" if self.date else KINDS.get(self.datatype or "", "text")

    def to_dict(self) -> dict[str, Any]:
        return {
            "datatype": self.datatype,
            "date": self.date,
            "normalizers": list(self.normalizers),
            "empty_equals_missing": self.empty_equals_missing,
            "zone": self.zone,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> ValueSpec:
        data = dict(data or {})
        data["normalizers"] = tuple(data.get("normalizers") or ())
        return cls(**data)


# --------------------------------------------------------------------------- text as written
def _float_text(value: float) -> str:
    """A float's text as JSON writes it (``150.0``, ``1e-07``)."""
    return repr(value)


def _datetime_text(value: datetime) -> str:
    """ISO text with 0, 3 or 6 fraction digits and the offset, as polars' ``%.f%:z`` writes it."""
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    micro = value.microsecond
    if micro:
        text += f".{micro // 1000:03d}" if micro % 1000 == 0 else f".{micro:06d}"
    offset = value.utcoffset()
    if offset is not None:
        minutes = int(offset.total_seconds()) // 60
        sign = "-" if minutes < 0 else "+"
        text += f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    return text


def text_of(value: Any) -> str | None:
    """A raw value as text, the way the record writes it (``None`` stays ``None``).

    Booleans are ``true``/``false``, numbers their text, dates and times ISO text, lists
    and objects compact JSON; the findings show values this way.
    """
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _float_text(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return _datetime_text(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=text_of)
    return str(value)


def _normalised_text(text: str, spec: ValueSpec) -> str:
    for name in spec.normalizers:
        if name == "trim":
            text = text.strip(WHITESPACE)
        elif name == "casefold":
            text = text.lower()
        elif name == "collapse_whitespace":
            text = re.sub(WS_RUN, " ", text)
        else:
            raise ValueError(f"unknown normalizer {name!r}")
    return text


# --------------------------------------------------------------------------- kinds
def expand_exponent(text: str) -> str:
    """A decimal in exponent form written out (``"1.5E3"`` -> ``"1500"``, ``"-2.5e-3"`` ->
    ``"-0.0025"``); other text unchanged."""
    found = re.match(EXP_RE, text)
    if found is None:
        return text
    sign, mantissa, exponent = found.groups()
    whole, _, fraction = mantissa.partition(".")
    digits, point = whole + fraction, len(whole) + int(exponent)
    if point <= 0:
        return f"{sign}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return sign + digits + "0" * (point - len(digits))
    return f"{sign}{digits[:point]}.{digits[point:]}"


def canonical_integer(text: str) -> str | None:
    """``"+007"`` -> ``"7"``, ``"150.0"`` -> ``"150"``, ``"1.5E3"`` -> ``"1500"``; ``None``
    when not an integer."""
    text = expand_exponent(text.strip(WHITESPACE))
    if not re.match(INT_RE, text):
        return None
    return canonical_decimal(text)


def canonical_decimal(text: str) -> str | None:
    """Exact decimal text without redundant zeros (``"0150.50"`` -> ``"150.5"``,
    ``"1.5E3"`` -> ``"1500"``)."""
    text = expand_exponent(text.strip(WHITESPACE))
    if not re.match(DEC_RE, text):
        return None
    negative = text.startswith("-")
    whole, _, fraction = text.lstrip("+-").partition(".")
    whole, fraction = whole.lstrip("0") or "0", fraction.rstrip("0")
    body = whole + ("." + fraction if fraction else "")
    return "-" + body if negative and body != "0" else body


def canonical_boolean(text: str) -> str | None:
    low = text.strip(WHITESPACE).lower()
    return low if low in BOOL_VALUES else None


@lru_cache(maxsize=16)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def as_date(text: str, zone: str = DEFAULT_ZONE) -> str | None:
    """The calendar date ``YYYY-MM-DD`` a value names, or ``None`` (see the module docstring)."""
    text = text.strip(WHITESPACE)
    if re.match(DATE_RE, text):
        return text[:10]
    found = re.match(STAMP_OFFSET_RE, text)
    if found is None or re.search("[1-9]", found.group(4) or ""):
        return None  # a fraction of a second is never midnight in any zone
    day, minutes, seconds, _, offset = found.groups()
    moment = parse_instant(f"{day}T{minutes}:{seconds or '00'}{offset}", zone)
    if moment is None:
        return None
    local = moment.astimezone(_zone(zone))
    if (local.hour, local.minute, local.second) != (0, 0, 0):
        return None
    return local.date().isoformat()


def _canonical(text: str, spec: ValueSpec, kind: str) -> str | None:
    if kind == "integer":
        return canonical_integer(text)
    if kind == "decimal":
        return canonical_decimal(text)
    if kind == "boolean":
        return canonical_boolean(text)
    if kind == "date":
        return as_date(text, spec.zone)
    return None


def normalise(value: Any, spec: ValueSpec) -> str | None:
    """A value's canonical text under ``spec`` (``None``: missing). Idempotent."""
    text = text_of(value)
    if text is None:
        return None
    text = _normalised_text(text, spec)
    if spec.empty_equals_missing and text == "":
        return None
    kind = spec.kind
    if kind in ("text", "list"):
        return text
    typed = _canonical(text, spec, kind)
    return text if typed is None else typed


def type_ok(value: Any, spec: ValueSpec) -> bool:
    """True when a present value has the declared type (missing values always do)."""
    if is_missing(value, spec):
        return True
    kind = spec.kind
    if kind == "list":
        return isinstance(value, (list, tuple))
    if kind in ("text", "date"):
        return True
    return _canonical(_normalised_text(text_of(value) or "", spec), spec, kind) is not None


def is_missing(value: Any, spec: ValueSpec) -> bool:
    """``None``, or an empty text after the normalizers when empty equals missing."""
    return normalise(value, spec) is None


def equal(a: Any, b: Any, spec: ValueSpec) -> bool:
    """True when ``a`` and ``b`` are the same value under ``spec``."""
    return normalise(a, spec) == normalise(b, spec)


# --------------------------------------------------------------------------- stamps
def _iso(text: str) -> str:
    """An ISO timestamp as :meth:`datetime.fromisoformat` reads it (``Z``, ``+0100``, and
    v1's space before the offset, ``2023-10-25T07:58:57 +00:00``)."""
    text = re.sub(r" ([+-][0-9]{2}:?[0-9]{2}|[Zz])$", r"\1", text.strip(WHITESPACE))
    if text[-1:] in ("Z", "z"):
        text = text[:-1] + "+00:00"
    return re.sub(r"([+-][0-9]{2})([0-9]{2})$", r"\1:\2", text)


def parse_instant(value: Any, zone: str = DEFAULT_ZONE) -> datetime | None:
    """An aware datetime from a stamp, or ``None``: a stamp without an offset is local
    time in ``zone`` (PowerOffice writes Norwegian local time where it writes no offset)."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str) and value.strip(WHITESPACE):
        try:
            moment = datetime.fromisoformat(_iso(value))
        except ValueError:
            return None
    else:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_zone(zone))
    return moment.astimezone(timezone.utc) + timedelta(0)


def same_instant(a: Any, b: Any, zone: str = DEFAULT_ZONE) -> bool:
    """True when two stamps are equal texts or name the same instant."""
    if a == b:
        return True
    x, y = parse_instant(a, zone), parse_instant(b, zone)
    return x is not None and y is not None and x == y
