"""The findings the audit must report for the demo tenants (``expected_findings.csv``).

A finding is identified by :data:`FINDING_KEYS`. The generator records them from what
it planted, not by comparing the tenants, so the audit can be checked against them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from audit.flow.model import Flow, Pair, PropertyMap

FINDING_KEYS = ["pair", "source_key", "target_key", "source_property", "target_property", "status"]


@dataclass(frozen=True)
class SeedPairs:
    """The three pairs of the seed flow the demo plants drift for."""

    address: Pair  # Supplier -> Address
    contact_customer: Pair  # Contactperson -> Customer
    customer_contact: Pair  # Customer -> Contactperson

    @classmethod
    def of(cls, flow: Flow) -> SeedPairs:
        """The seed pairs of ``flow``; ``ValueError`` if one is missing."""
        pairs = {(p.source_entity.lower(), p.target_entity.lower()): p for p in flow.pairs}
        try:
            return cls(
                address=pairs[("supplier", "address")],
                contact_customer=pairs[("contactperson", "customer")],
                customer_contact=pairs[("customer", "contactperson")],
            )
        except KeyError as exc:
            raise ValueError(f"demo data needs the seed flow's pairs; {flow.file} lacks {exc}") from None


def mapped(pair: Pair, source_path: str) -> PropertyMap:
    """The property of ``pair`` whose source path is ``source_path`` (any case)."""
    for p in pair.properties:
        if p.source.lower() == source_path.lower():
            return p
    raise ValueError(f"{pair.heading} maps no {source_path}")


def _keys(keys: np.ndarray | None, height: int) -> pl.Series:
    """Record keys as text, or ``height`` empty strings where the finding has no key."""
    if keys is None:
        return pl.repeat("", height, dtype=pl.Utf8, eager=True)
    return pl.Series(np.asarray(keys, dtype=np.int64)).cast(pl.Utf8)


class Findings:
    """Collects expected findings, many records per call."""

    def __init__(self) -> None:
        self._parts: list[pl.DataFrame] = []

    def add(
        self,
        pair: Pair,
        status: str,
        source_keys: np.ndarray | None = None,
        target_keys: np.ndarray | None = None,
        source_property: str = "",
        target_property: str = "",
    ) -> None:
        """One finding per key (per source key if both are given); one without keys if neither is."""
        given = source_keys if source_keys is not None else target_keys
        height = 1 if given is None else len(given)
        part = pl.DataFrame({"source_key": _keys(source_keys, height), "target_key": _keys(target_keys, height)})
        part = part.with_columns(
            pair=pl.lit(pair.heading, dtype=pl.Utf8),
            source_property=pl.lit(source_property, dtype=pl.Utf8),
            target_property=pl.lit(target_property, dtype=pl.Utf8),
            status=pl.lit(status, dtype=pl.Utf8),
        )
        self._parts.append(part.select(FINDING_KEYS))

    def mismatch(self, pair: Pair, source_keys: np.ndarray, target_keys: np.ndarray, source_property: str) -> None:
        """A changed value of ``source_property`` for the linked records ``source_keys[i]``
        and ``target_keys[i]``."""
        if len(source_keys):
            target_property = mapped(pair, source_property).target
            self.add(pair, "mismatch", source_keys, target_keys, source_property, target_property)

    def frame(self) -> pl.DataFrame:
        """Every finding so far, sorted by :data:`FINDING_KEYS`."""
        empty = pl.DataFrame(schema={c: pl.Utf8 for c in FINDING_KEYS})
        return pl.concat([empty, *self._parts]).sort(FINDING_KEYS)


def expect_unlinked_addresses(
    findings: Findings, pair: Pair, target_addresses: pl.DataFrame, source_suppliers: pl.DataFrame
) -> None:
    """Every target address no source supplier's mail address links to is missing in the source."""
    linked = source_suppliers.filter(~pl.col("MailAddress.__null__"))["MailAddress.Id"]
    unlinked = target_addresses.filter(~pl.col("Id").is_in(linked.implode()))["Id"]
    findings.add(pair, "missing_in_source", target_keys=unlinked.to_numpy())


def write_expected(findings: Findings, path: Path) -> pl.DataFrame:
    """Write the sorted findings as CSV to ``path`` and return them."""
    frame = findings.frame()
    frame.write_csv(path)
    return frame
