"""The v1 rules of ``src/audit/systems/poweroffice/contract/v1-rules.yaml`` as checks on
recorded exchanges with the simulator: ``violations(exchanges)`` names every exchange
that breaks a rule (empty: none does)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import yaml

from audit.systems.poweroffice.sim.recorder import Exchange

RULES_FILE = Path(__file__).resolve().parents[1] / "src/audit/systems/poweroffice/contract/v1-rules.yaml"

_ORDERBY = re.compile(r"^[A-Z][A-Za-z0-9]*( (asc|desc))?$")
_FIELD = re.compile(r"\b([A-Za-z]+) (?:eq|ne|gt|ge|lt|le) ")
_LAST_CHANGED = re.compile(r"LastChanged (?:eq|ne|gt|ge|lt|le) DateTimeOffset'[^']+'")
_LISTS = ("/v1/Customer", "/v1/Supplier", "/v1/PartyContactPerson")


def rule_ids() -> list[str]:
    return [r["id"] for r in yaml.safe_load(RULES_FILE.read_text(encoding="utf-8"))["rules"]]


def _body(e: Exchange):
    try:
        return json.loads(e.response_body or b"null")
    except ValueError:
        return None


def _is_list(e: Exchange) -> bool:
    return e.method == "GET" and (e.path.rstrip("/") in _LISTS or e.path.rstrip("/").endswith("/Contact"))


def _paging(e):
    return not (("$skip" in e.query or "$top" in e.query) and "$orderby" not in e.query)


def _orderby(e):
    return "$orderby" not in e.query or bool(_ORDERBY.match(e.query["$orderby"]))


def _parentheses(e):
    f = e.query.get("$filter")
    return f is None or (f.startswith("(") and f.endswith(")"))


def _pascal(e):
    f = e.query.get("$filter")
    return f is None or all(name[0].isupper() for name in _FIELD.findall(f))


def _datetimeoffset(e):
    f = e.query.get("$filter")
    return f is None or "LastChanged" not in f or bool(_LAST_CHANGED.search(f))


def _wrapped(e):
    b = _body(e)
    if e.status != 200 or e.path.endswith("/OAuth/Token"):
        return True
    return isinstance(b, dict) and isinstance(b.get("success"), bool) and (b["success"] is False or "data" in b)


def _refusal(e):
    b = _body(e)
    if not (isinstance(b, dict) and b.get("success") is False):
        return True
    v = b.get("validation")
    return (
        e.status in (200, 401, 429) or e.status >= 500
    ) and "data" not in b and isinstance(v, dict) and {"errorLogReference", "summary", "exception"} <= set(v)


def _count(e):
    b = _body(e)
    return not (_is_list(e) and isinstance(b, dict) and b.get("success")) or isinstance(b.get("count"), int)


def _contacts_listed(e):
    return not (e.method == "GET" and e.path.rstrip("/").endswith("/Contact") and not e.path.startswith("/v1/"))


def _contacts_written(e):
    if e.method != "POST" or "Contact" not in e.path:
        return True
    return bool(re.match(r"^/v1/(Customer|Supplier)/\d+/Contact/?$", e.path))


def _field_names(e):
    text = (e.response_body or b"") + (e.body or b"")
    return b'"organizationNumber"' not in text and not (b"Contact" in e.path.encode() and b'"title"' in text)


CHECKS: dict[str, Callable[[Exchange], bool]] = {
    "paging-needs-orderby": _paging,
    "orderby-pascalcase": _orderby,
    "filter-in-parentheses": _parentheses,
    "filter-pascalcase": _pascal,
    "last-changed-is-datetimeoffset": _datetimeoffset,
    "wrapped-answers": _wrapped,
    "refusal-is-200": _refusal,
    "lists-count-the-filtered-set": _count,
    "contact-persons-listed-whole": _contacts_listed,
    "contact-persons-written-under-party": _contacts_written,
    "v1-field-names": _field_names,
}


#: Rules about what the client sends (the others are about the answers).
REQUEST_RULES = {
    "paging-needs-orderby",
    "orderby-pascalcase",
    "filter-in-parentheses",
    "filter-pascalcase",
    "last-changed-is-datetimeoffset",
    "contact-persons-listed-whole",
    "contact-persons-written-under-party",
}


def violations(exchanges: list[Exchange], *, requests: bool = True, responses: bool = True) -> list[str]:
    out = []
    for e in exchanges:
        if not e.path.startswith("/v1/"):
            continue
        for rule, check in CHECKS.items():
            if (rule in REQUEST_RULES and not requests) or (rule not in REQUEST_RULES and not responses):
                continue
            if not check(e):
                out.append(f"{rule}: {e.method} {e.path} {e.query} -> {e.status}")
    return out
