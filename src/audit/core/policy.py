"""The audit policy: one pydantic model for every choice the audit makes about values.

The documented default lives in ``audit/data/default_policy.yaml`` (package data); read
it for the meaning of each setting. :func:`load_policy` reads a user file on top of it
(see ``inherit_defaults``). :meth:`Policy.rule_for` answers, per flow property, how it is
treated: ``compare``, ``informational`` or ``ignore``, with which normalizers, and whether
its values are dates.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from audit.core.link_policy import LinkSettings
from audit.core.values import DEFAULT_ZONE, ValueSpec
from audit.core.yaml_file import read_yaml
from audit.errors import ConfigError
from audit.flow.model import Pair, PropertyMap, entity_file_stem
from audit.flow.paths import SPECIAL_ID_CELLS
from audit.flow.profile import GENERIC_SIDES, SideProfiles, SystemProfile

__all__ = [
    "Policy",
    "PropertyRule",
    "PropertyTreatment",
    "STATUSES",
    "default_policy",
    "load_policy",
    "default_policy_text",
    "PlannedProperty",
    "plan_pair",
]

Mode = Literal["compare", "informational", "ignore"]
Normalizer = Literal["trim", "casefold", "collapse_whitespace"]

#: Every finding status, in report order.
STATUSES = (
    "mismatch",
    "missing_in_target",
    "missing_in_source",
    "ambiguous_link",
    "type_violation",
    "unresolved_property",
    "duplicate_id",
    "missing_id",
    "expectation_failed",
)


class PropertyRule(BaseModel):
    """One per-property rule of the policy."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str
    pair: str | None = None
    mode: Mode = "compare"
    normalizers: list[Normalizer] | None = None
    date: bool | None = None


class FailOn(BaseModel):
    """Which statuses fail the audit."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mismatch: bool = True
    missing_in_target: bool = True
    missing_in_source: bool = False
    ambiguous_link: bool = True
    type_violation: bool = True
    unresolved_property: bool = True
    duplicate_id: bool = True
    missing_id: bool = True
    expectation_failed: bool = True

    def failing(self) -> frozenset[str]:
        """The statuses that fail the audit."""
        return frozenset(s for s in STATUSES if getattr(self, s))


class Policy(BaseModel):
    """The whole audit policy (see ``default_policy.yaml`` for each setting)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    inherit_defaults: bool = True
    empty_equals_missing: bool = True
    normalizers: list[Normalizer] = Field(default_factory=list)
    fail_on: FailOn = Field(default_factory=FailOn)
    gx_partial_unexpected_count: int = Field(default=20, ge=0, le=1000)
    links: LinkSettings = Field(default_factory=LinkSettings)
    zone: str = DEFAULT_ZONE
    properties: list[PropertyRule] = Field(default_factory=list)

    @field_validator("zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        """An IANA zone name that zoneinfo knows (``Europe/Oslo``, ``UTC``)."""
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (use an IANA name such as Europe/Oslo)") from None
        return value

    def value_spec(self, datatype: str | None, treatment: PropertyTreatment) -> ValueSpec:
        """The value model's reading of a property with this policy's settings."""
        return ValueSpec(datatype, treatment.date, treatment.normalizers, self.empty_equals_missing, self.zone)

    def rule_for(
        self,
        pair: str,
        source_entity: str,
        source_path: str,
        target_entity: str,
        target_path: str,
        profiles: SideProfiles = GENERIC_SIDES,
    ) -> PropertyTreatment:
        """How the property ``source_path -> target_path`` of ``pair`` is treated.

        The last rule whose ``path`` names the source or the target path (ignoring case,
        on either API generation) and whose ``pair`` is unset or equal wins. Without one,
        a path a side's system stamps on its own writes is informational, unless the
        policy does not inherit the defaults.
        """
        src, tgt = profiles
        names = _names(src, source_entity, source_path) | _names(tgt, target_entity, target_path)
        chosen: PropertyRule | None = None
        for rule in self.properties:
            if rule.pair is not None and rule.pair != pair:
                continue
            if rule.path.strip().lower() in names:
                chosen = rule
        is_date = src.is_date(source_entity, source_path) or tgt.is_date(target_entity, target_path)
        if chosen is None and self.inherit_defaults:
            stamp = src.stamp_for(source_entity, source_path) or tgt.stamp_for(target_entity, target_path)
            if stamp is not None:
                return PropertyTreatment("informational", tuple(self.normalizers), is_date, stamp)
        if chosen is None:
            return PropertyTreatment("compare", tuple(self.normalizers), is_date, None)
        return PropertyTreatment(
            chosen.mode,
            tuple(self.normalizers if chosen.normalizers is None else chosen.normalizers),
            is_date if chosen.date is None else chosen.date,
            chosen.path,
        )

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


@dataclass(frozen=True)
class PropertyTreatment:
    """The policy's answer for one property."""

    mode: str
    normalizers: tuple[str, ...]
    date: bool
    rule: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "normalizers": list(self.normalizers),
            "date": self.date,
            "rule": self.rule,
        }


def _names(profile: SystemProfile, entity: str, path: str) -> set[str]:
    return {path.strip().lower()} | {name.lower() for name in profile.names(entity, path)}


# --------------------------------------------------------------------------- loading
def default_policy_text() -> str:
    """The text of the shipped default policy file."""
    return resources.files("audit").joinpath("data/default_policy.yaml").read_text(encoding="utf-8")


def _parse(data: Any, where: str) -> Policy:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: a policy file must be a YAML mapping")
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(top)'}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(f"{where}: invalid policy: {problems}") from None


def default_policy() -> Policy:
    """The shipped default policy."""
    return _parse(yaml.safe_load(default_policy_text()), "default_policy.yaml")


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if key == "properties":
            merged["properties"] = list(base.get("properties") or []) + list(value or [])
        elif key == "fail_on" and isinstance(value, dict):
            merged["fail_on"] = {**(base.get("fail_on") or {}), **value}
        else:
            merged[key] = value
    return merged


def load_policy(path: str | Path | None = None, overrides: Iterable[PropertyRule] = ()) -> Policy:
    """The policy of a run: the default, or a user file on top of it.

    Parameters
    ----------
    path : str or Path, optional
        A YAML policy file. ``inherit_defaults: false`` in it starts from the built-in
        settings instead of the default file.
    overrides : iterable of PropertyRule
        Extra rules appended last (they win).

    Raises
    ------
    ConfigError
        An unreadable file or a setting that is not valid.
    """
    base = yaml.safe_load(default_policy_text())
    if path is None:
        data = base
    else:
        where = str(path)
        user = read_yaml(path, "policy file")
        if user is None:
            user = {}
        if not isinstance(user, dict):
            raise ConfigError(f"{where}: a policy file must be a YAML mapping")
        data = _merge(base, user) if user.get("inherit_defaults", True) else user
    policy = _parse(data, str(path or "default_policy.yaml"))
    extra = list(overrides)
    if extra:
        policy = policy.model_copy(update={"properties": list(policy.properties) + extra})
    return policy


# --------------------------------------------------------------------------- pair plan
@dataclass(frozen=True)
class PlannedProperty:
    """One flow property with the policy applied: what the audit will check, before any
    data is seen (the suites and the engine both start from this).

    Attributes
    ----------
    index : int
        Position in the pair's property table.
    key : str
        Stable suffix of the compact columns (``p03_firstName__firstName``).
    prop : PropertyMap
        The flow's property row.
    treatment : PropertyTreatment
        Mode, normalizers and date handling from the policy.
    link_key : bool
        True for ``id -> id`` in a pair without merge rules: the property is the link key
        itself, so its values are not compared (they are equal by construction when
        linking by id, and different by design in a links file); the target value's type
        is still checked.
    """

    index: int
    key: str
    prop: PropertyMap
    treatment: PropertyTreatment
    link_key: bool

    @property
    def mode(self) -> str:
        return self.treatment.mode

    @property
    def checks_equal(self) -> bool:
        return self.mode in ("compare", "informational") and not self.link_key

    @property
    def checks_type(self) -> bool:
        return self.mode == "compare"


def _slug(path: str) -> str:
    return re.sub(r"[^0-9A-Za-z]+", "_", path).strip("_") or "x"


def _is_id(profile: SystemProfile, entity: str, path: str) -> bool:
    return path.strip().lower() in SPECIAL_ID_CELLS or "id" in _names(profile, entity, path)


def plan_pair(pair: Pair, policy: Policy, profiles: SideProfiles) -> list[PlannedProperty]:
    """The pair's properties with the policy applied, in document order."""
    src, tgt = profiles
    out = []
    source_stem = entity_file_stem(pair.source_entity)
    target_stem = entity_file_stem(pair.target_entity)
    for index, prop in enumerate(pair.properties):
        treatment = policy.rule_for(pair.heading, source_stem, prop.source, target_stem, prop.target, profiles)
        link_key = (
            not pair.merge_rules
            and _is_id(src, source_stem, prop.source)
            and _is_id(tgt, target_stem, prop.target)
        )
        key = f"p{index:02d}_{_slug(prop.source)}__{_slug(prop.target)}"
        out.append(PlannedProperty(index, key, prop, treatment, link_key))
    return out
