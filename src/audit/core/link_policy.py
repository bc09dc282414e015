"""The ``links`` section of the audit policy: how pairs without merge rules are linked.

Two choices live here (documented in ``audit/data/default_policy.yaml``):

- ``by_id``: link ``id`` to ``id`` when a pair of two different entity types has no merge
  rules and no link source (``links: id`` is the short form). Off by default: two entity
  types, and two tenants, have unrelated id spaces, so a silent id match links nothing
  true (see :mod:`audit.core.link_sources`).
- the Sesam dataset each side of a pair reads its identifiers from in a dataset export
  (:mod:`audit.core.sesam_links`): ``datasets`` per entity for both sides,
  ``source_datasets`` / ``target_datasets`` for one side (two tenants in one Sesam node);
  by default ``<system>-<entity>`` in lower case.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from audit.core.sesam_links import dataset_name
from audit.flow.model import Flow, Pair, entity_file_stem

__all__ = ["LinkSettings"]


def _stems(mapping: dict[str, str]) -> dict[str, str]:
    """Entity names as snapshot stems (``Contact Person`` -> ``contactperson``)."""
    return {entity_file_stem(k): v for k, v in mapping.items()}


class LinkSettings(BaseModel):
    """How pairs without merge rules are linked (the policy's ``links`` section)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    by_id: bool = False
    datasets: dict[str, str] = Field(default_factory=dict)
    source_datasets: dict[str, str] = Field(default_factory=dict)
    target_datasets: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _short_form(cls, data: Any) -> Any:
        """``links: id`` means ``links: {by_id: true}``."""
        if isinstance(data, str):
            if data.strip().lower() != "id":
                raise ValueError(f"links must be a mapping or 'id', not {data!r}")
            return {"by_id": True}
        return data

    def dataset(self, side: str, system: str | None, entity: str) -> str:
        """The Sesam dataset of ``entity`` on ``side`` (``source`` or ``target``)."""
        stem = entity_file_stem(entity)
        one_side = _stems(self.source_datasets if side == "source" else self.target_datasets)
        return one_side.get(stem) or _stems(self.datasets).get(stem) or dataset_name(system, entity)

    def pair_datasets(self, flow: Flow, pair: Pair) -> tuple[str, str]:
        """The source and target datasets of ``pair``."""
        return (
            self.dataset("source", flow.source_system, pair.source_entity),
            self.dataset("target", flow.target_system, pair.target_entity),
        )
