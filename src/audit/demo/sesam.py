"""The demo's Sesam global dataset (``global-person.json``): which records are one person.

The tenants number their records themselves, so a person's contact person and customer
have unrelated ids; Sesam remembers that they are one person in a global dataset entity
whose ``$ids`` hold one namespaced identifier ``~:<dataset>:<id>`` per record (see
:mod:`audit.core.sesam_links`). The export written here is what the Service API's
``GET /api/datasets/global-person/entities`` would answer, one entity a line inside one
JSON array:

- one live entity per person: the ``k`` people's source contact person and target
  customer; with two tenants also the ``c`` people's source customer and target contact
  person (self mode: each person's customer and contact person in the one tenant);
- the people :func:`audit.demo.drift.merged_in_sesam` picked, merged two into one entity;
- the target customers no contact person links to, alone in an entity each;
- identifiers of other systems (``hubspot-contact``, ``tripletex-customer``) in some;
- a few ``"_deleted": true`` entities of stale merges pairing one person's contact person
  with another's customer, which the audit must ignore.

Built with polars for every person at once (1,000,000 people in a few seconds).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

from audit.core.sesam_links import dataset_name
from audit.demo.drift import Planting
from audit.demo.tenants import TARGET_CUSTOMER_BASE
from audit.flow.model import Flow

__all__ = ["write_global_person"]


#: Identifiers of other systems in some live entities: dataset, one in how many people, first id.
OTHER_SYSTEMS = {"k": ("hubspot-contact", 7, 900_000), "c": ("tripletex-customer", 11, 70_000)}

#: One person's two records: (dataset, ids) of each.
Records = tuple[tuple[str, np.ndarray], tuple[str, np.ndarray]]


def _rows(entity: np.ndarray, part: int, dataset: str, ids: np.ndarray) -> pl.DataFrame:
    """One identifier row per record: its entity, its place in it, ``~:<dataset>:<id>``."""
    frame = pl.DataFrame({"entity": entity.astype(np.int64), "id": ids.astype(np.int64)})
    return frame.select(
        "entity", pl.lit(part, dtype=pl.Int8).alias("part"), pl.concat_str(pl.lit(f"~:{dataset}:"), "id").alias("ni")
    )


def _people(first: int, records: Records, group: str) -> list[pl.DataFrame]:
    """The identifier rows of one group of people (entities ``first``, ``first + 1``, ...):
    their two records, and another system's record for one in every few of them."""
    (ds_a, ids_a), (ds_b, ids_b) = records
    entity = np.arange(len(ids_a), dtype=np.int64) + first
    other, every, base = OTHER_SYSTEMS[group]
    some = np.flatnonzero(np.arange(len(ids_a)) % every == every // 2)
    return [_rows(entity, 0, ds_a, ids_a), _rows(entity, 1, ds_b, ids_b), _rows(entity[some], 2, other, some + base)]


def _merge(rows: pl.DataFrame, planting: Planting) -> pl.DataFrame:
    """``rows`` with each merged group's second person moved into the first's entity."""
    n = planting.n
    owner = np.arange(int(rows.get_column("entity").max()) + 1, dtype=np.int64)
    for offset, groups in ((0, planting.merged_k), (n, planting.merged_c)):
        if len(groups):
            owner[groups[:, 1] + offset] = groups[:, 0] + offset
    return rows.with_columns(pl.Series("owner", owner[rows.get_column("entity").to_numpy()]))


def _live(flow: Flow, planting: Planting) -> pl.DataFrame:
    """The identifier rows of the live entities (``owner``: the entity they end up in)."""
    ids, n = planting.tenants.ids, planting.n
    src, tgt = flow.source_system, flow.target_system
    customer = dataset_name(tgt, "customer")
    rows = _people(0, ((dataset_name(src, "contactperson"), ids.k), (customer, ids.target_customer)), "k")
    if not planting.self_mode:
        rows += _people(
            n, ((dataset_name(src, "customer"), ids.c), (dataset_name(tgt, "contactperson"), ids.target_contact)), "c"
        )
        target_ids = planting.tenants.target["customer"].get_column("Id").to_numpy()
        unlinked = target_ids[target_ids >= TARGET_CUSTOMER_BASE + n]  # customers only the target has
        rows.append(_rows(np.arange(len(unlinked), dtype=np.int64) + 2 * n, 0, customer, unlinked))
    return _merge(pl.concat(rows), planting)


def _stale(flow: Flow, planting: Planting) -> pl.DataFrame:
    """Deleted entities of stale merges: one person's contact person with another's customer."""
    ids, n, rng = planting.tenants.ids, planting.n, planting.rng
    count = max(2, planting.k // 2)
    a = rng.integers(0, n, count)
    b = (a + 1 + rng.integers(0, n - 1, count)) % n
    entity = np.arange(count, dtype=np.int64)
    rows = pl.concat(
        [
            _rows(entity, 0, dataset_name(flow.source_system, "contactperson"), ids.k[a]),
            _rows(entity, 1, dataset_name(flow.target_system, "customer"), ids.target_customer[b]),
        ]
    )
    return rows.with_columns(owner=pl.col("entity"))


def _entities(rows: pl.DataFrame, deleted: bool) -> pl.DataFrame:
    """One entity per ``owner``, its identifiers in person and record order."""
    grouped = (
        rows.sort("owner", "entity", "part").group_by("owner", maintain_order=True).agg(pl.col("ni").alias("$ids"))
    )
    return grouped.select(
        pl.col("$ids").list.first().str.strip_prefix("~:").alias("_id"),
        pl.lit(deleted).alias("_deleted"),
        "$ids",
    )


def write_global_person(path: Path, flow: Flow, planting: Planting) -> dict[str, int]:
    """Write the export to ``path`` (a JSON array, one entity a line) and return its counts."""
    live = _entities(_live(flow, planting), deleted=False)
    stale = _entities(_stale(flow, planting), deleted=True)
    entities = pl.concat([live, stale]).with_row_index("_updated").select("_id", "_updated", "_deleted", "$ids")
    lines = entities.write_ndjson().splitlines()
    path.write_text("[\n" + ",\n".join(lines) + "\n]\n", encoding="utf-8")
    return {"entities": entities.height, "deleted_entities": stale.height}
