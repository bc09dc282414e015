"""Demo PowerOffice Go tenants for the seed flow, with planted drift and its ground truth.

The seed flow (``data/flows/powerofficego-powerofficego.rst``) links

- Supplier -> Address on ``Supplier.MailAddress.Id = Address.id``;
- Contactperson -> Customer and Customer -> Contactperson, every record, with no merge
  rule: Sesam links them in its global dataset.

So the demo world is built from people who appear once as a customer and once as a
contact person on the other side, under an id of that side's own, plus suppliers whose
mail addresses are the target's addresses. ``global-person.json``, the Sesam export of
the global dataset (:mod:`audit.demo.sesam`), says which records are one person; audit
with ``--links global-person.json``.

Layouts (``mode``):

``two-tenants`` (default)
    ``source/`` (API v1 shape by default) and ``target/`` (v2 by default). Source
    contact persons are target customers, source customers are target contact persons
    (four unrelated id ranges); suppliers exist on both sides with the same mail addresses.
``self``
    ``tenant/``: one tenant syncing with itself; customer ``i`` and contact person
    ``i`` are the same person, under unrelated ids.

Planted drift (every kind the audit reports for this flow), a few records each and about
one percent at scale:

- a value changed on one side (city, e-mail, first and last name);
- a zip code that lost its leading zero on one side (``0150`` vs ``150``);
- a missing counterpart on either side, and a supplier without a mail address;
- a duplicate merge key (two suppliers sharing one mail-address id);
- two people Sesam merged into one global entity (ambiguous links on both "Every" pairs);
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

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import polars as pl

from audit.demo.drift import Planting, generation_gaps, plant
from audit.demo.expected import FINDING_KEYS, SeedPairs, expect_unlinked_addresses, write_expected
from audit.demo.output import Format, Generation, addresses, write_manifest, write_side
from audit.demo.sesam import write_global_person
from audit.demo.tenants import base_tenants
from audit.flow.model import Flow

__all__ = ["FINDING_KEYS", "LINKS_FILE", "DemoResult", "Generation", "Mode", "generate"]

Mode = Literal["two-tenants", "self"]

#: The Sesam export that links the demo's people (``audit run --links``).
LINKS_FILE = "global-person.json"


@dataclass
class DemoResult:
    """Where the demo was written and what was planted."""

    out: Path
    source: Path
    target: Path
    links: Path
    counts: dict[str, dict[str, int]]
    planted: dict[str, int]
    expected: pl.DataFrame = field(repr=False)


def generate(
    out: str | Path,
    flow: Flow,
    records: int = 100,
    seed: int = 7,
    mode: Mode = "two-tenants",
    source_api: Generation = "v1",
    target_api: Generation = "v2",
    fmt: Format = "jsonl",
) -> DemoResult:
    """Write demo tenants for the seed ``flow`` into ``out`` and return what was planted.

    Parameters
    ----------
    out : directory to create (``source/``, ``target/`` or ``tenant/``, plus
        ``global-person.json``, ``expected_findings.csv`` and ``manifest.json``).
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
    planting = _planted(flow, records, seed, mode == "self", source_api, target_api)
    out = Path(out)
    sides = {"tenant": source_api} if planting.self_mode else {"source": source_api, "target": target_api}
    source_dir, target_dir = out / list(sides)[0], out / list(sides)[-1]  # one "tenant" in self mode
    counts = _write_tenants(out, planting, sides, fmt)
    links = out / LINKS_FILE
    counts["sesam"] = write_global_person(links, flow, planting)
    expected = write_expected(planting.findings, out / "expected_findings.csv")
    manifest = {
        "generator": "audit demo-data",
        "flow": flow.title,
        "mode": mode,
        "seed": seed,
        "records_per_entity": records,
        "format": fmt,
        "generations": sides,
        "source": source_dir.name,
        "target": target_dir.name,
        "links": links.name,
        "counts": counts,
        "planted": planting.planted,
    }
    write_manifest(out / "manifest.json", manifest, expected)
    return DemoResult(
        out=out,
        source=source_dir,
        target=target_dir,
        links=links,
        counts=counts,
        planted=planting.planted,
        expected=expected,
    )


def _planted(
    flow: Flow, records: int, seed: int, self_mode: bool, source_api: Generation, target_api: Generation
) -> Planting:
    """The tenants with every kind of drift planted, and the findings expected so far."""
    pairs = SeedPairs.of(flow)
    rng = np.random.default_rng(seed)
    tenants = base_tenants(rng, records, self_mode)
    generations = (source_api, source_api if self_mode else target_api)
    planting = Planting(rng=rng, tenants=tenants, pairs=pairs, k=max(2, records // 100), generations=generations)
    plant(planting)
    generation_gaps(planting, source_api, target_api)
    return planting


def _write_tenants(
    out: Path, planting: Planting, sides: dict[str, Generation], fmt: Format
) -> dict[str, dict[str, int]]:
    """Write each side's entities, with the address entity, and return the record counts.

    Every target address no source supplier links to is expected missing in the source.
    """
    out.mkdir(parents=True, exist_ok=True)
    tenants = planting.tenants
    source = {**tenants.source, "address": addresses(tenants.source, distinct=False)}
    target = {**tenants.target, "address": addresses(tenants.target, distinct=True)}
    expect_unlinked_addresses(planting.findings, planting.pairs.address, target["address"], source["supplier"])
    return {
        side: write_side(out / side, target if side == "target" else source, generation, fmt)
        for side, generation in sides.items()
    }
