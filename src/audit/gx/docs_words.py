"""One expectation in words, for the offline Data Docs (:mod:`audit.gx.datadocs`).

The words are Great Expectations' own where it has them: every built-in expectation class
renders an ``atomic.prescriptive.summary`` (a ``$param`` string template and its
parameters), which GX computes in Python from the expectation's configuration alone, so
it works offline and says exactly what GX's own Data Docs say. When GX cannot render a
configuration (a type it does not know, kwargs it refuses), the audit's own wording for
the common types is used, else a generic sentence built from the type's name and its
column arguments, so that any expectation a user writes still reads as a sentence.

A sentence is a tuple of :class:`Part` so that the template can set parameters (column
names, the regex, the value set) apart from the prose without building HTML here.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from typing import Any

__all__ = ["Part", "describe", "format_value"]


@dataclass(frozen=True)
class Part:
    """A piece of a sentence: prose, or a parameter's value (``param`` True)."""

    text: str
    param: bool = False


#: The audit's own wording when GX cannot render a configuration; ``{name}`` is a kwarg.
OWN_WORDING: dict[str, str] = {
    "expect_column_pair_values_to_be_equal": "Values in {column_A} and {column_B} must always be equal.",
    "expect_column_values_to_match_regex": "{column} values must match this regular expression: {regex}.",
    "expect_column_values_to_be_in_set": "{column} values must belong to this set: {value_set}.",
    "expect_column_values_to_be_unique": "{column} values must be unique.",
    "expect_column_values_to_not_be_null": "{column} values must never be null.",
    "expect_column_to_exist": "{column} is a required field.",
    "expect_column_values_to_be_between": "{column} values must be between {min_value} and {max_value}.",
    "expect_column_values_to_be_of_type": "{column} values must be of type {type_}.",
}

#: Kwargs named in the generic sentence of an unknown expectation type, in this order.
_DOMAIN_KWARGS = ("column", "column_A", "column_B", "column_list")
_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_FIELD = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def describe(config: dict[str, Any]) -> tuple[tuple[Part, ...], str]:
    """``config`` (a stored ``expectation_config``) as a sentence, and where it came from.

    Returns
    -------
    (parts, origin)
        ``origin`` is ``"gx"`` (GX's prescriptive renderer), ``"audit"`` (our wording for
        the type) or ``"generic"``.
    """
    kind = str(config.get("type") or "")
    kwargs = config.get("kwargs") or {}
    rendered = _gx_summary(config)
    if rendered is not None:
        return rendered, "gx"
    wording = OWN_WORDING.get(kind)
    if wording and all(name in kwargs for name in _FIELD.findall(wording)):
        return _fill(wording, _FIELD, kwargs), "audit"
    return _generic(kind, kwargs), "generic"


def _gx_summary(config: dict[str, Any]) -> tuple[Part, ...] | None:
    """GX's ``atomic.prescriptive.summary`` of the configuration, or ``None``."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    try:
        from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

        expectation = ExpectationConfiguration(
            type=config["type"],
            kwargs=dict(config.get("kwargs") or {}),
            meta=config.get("meta"),
        ).to_domain_obj()
        expectation.render()
        for content in expectation.rendered_content or []:
            data = content.to_json_dict()
            if data.get("name") == "atomic.prescriptive.summary":
                value = data.get("value") or {}
                params = {k: (v or {}).get("value") for k, v in (value.get("params") or {}).items()}
                if value.get("template"):
                    return _fill(value["template"], _PARAM, params)
    except Exception:  # noqa: BLE001 - any refusal of GX's means "use our wording"
        return None
    return None


def _fill(template: str, pattern: re.Pattern[str], params: dict[str, Any]) -> tuple[Part, ...]:
    """Split ``template`` at its placeholders and put in the parameters' values; a
    placeholder without a parameter stays as written."""
    parts: list[Part] = []
    end = 0
    for match in pattern.finditer(template):
        if match.group(1) not in params:
            continue
        if match.start() > end:
            parts.append(Part(template[end : match.start()]))
        parts.append(Part(format_value(params[match.group(1)]), param=True))
        end = match.end()
    if end < len(template):
        parts.append(Part(template[end:]))
    return tuple(parts)


def _generic(kind: str, kwargs: dict[str, Any]) -> tuple[Part, ...]:
    """``Expect column values to be foo`` with the domain and other arguments named."""
    words = kind.removeprefix("expect_").replace("_", " ") or "unnamed expectation"
    parts = [Part(f"Expect {words}")]
    named = [k for k in _DOMAIN_KWARGS if k in kwargs]
    named += sorted(k for k in kwargs if k not in named and k != "batch_id")
    for i, name in enumerate(named):
        parts.append(Part(f"{' (' if i == 0 else ', '}{name} "))
        parts.append(Part(format_value(kwargs[name]), param=True))
    parts.append(Part(")." if named else "."))
    return tuple(parts)


def format_value(value: Any) -> str:
    """A parameter or data value as text: whole floats without ``.0``, lists joined,
    other structures as compact JSON."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (list, tuple)):
        return ", ".join(format_value(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)
