"""Small ``audit run`` output directories, written inline for the report and history tests.

Findings are given as pipe-separated tables; ``summary.json`` is built from a few numbers;
the Great Expectations result comes from running a tiny real validation.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import polars as pl

from audit.reporting.rundir import FINDING_COLUMNS

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

PAIR = "Powerofficego Contactperson to PowerOfficeGo Customer"
SUPPLIER = "Powerofficego Supplier to PowerOfficeGo Address"
#: Header line of a pipe-table of findings (``table(f"{HEADER}\n...")``).
HEADER = (
    "pair | source_key | target_key | source_property | target_property | status "
    "| source_value | target_value"
)
ENTITIES = {
    PAIR: ("Contactperson", "Customer"),
    "Powerofficego Supplier to PowerOfficeGo Address": ("Supplier", "Address"),
}


def table(text: str) -> pl.DataFrame:
    """A findings frame from a pipe-separated table (``-`` is an empty cell, ``null`` a null).

    Columns not given (the entities) are filled from :data:`ENTITIES` by pair.
    """
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    header = [c.strip() for c in lines[0].split("|")]
    rows = []
    for ln in lines[1:]:
        cells = [c.strip() for c in ln.split("|")]
        row = {
            h: (None if c == "null" else "" if c == "-" else c) for h, c in zip(header, cells, strict=True)
        }
        src, tgt = ENTITIES.get(row["pair"], ("", ""))
        row.setdefault("source_entity", src)
        row.setdefault("target_entity", tgt)
        rows.append(row)
    schema = {c: pl.Utf8 for c in FINDING_COLUMNS}
    if not rows:
        return pl.DataFrame(schema=schema)
    return pl.DataFrame(rows, schema=schema).select(FINDING_COLUMNS)


def summary(
    *,
    success: bool = False,
    started_at: str = "2024-05-01T02:00:00+00:00",
    finished_at: str | None = None,
    source: str = "tenant-a",
    target: str = "tenant-b",
    flow: str = "data/flows/powerofficego-powerofficego.rst",
    failing_city: int = 2,
) -> dict:
    """A summary.json object in the shape the engine writes (two pairs)."""
    finished_at = finished_at or started_at[:11] + "02:03:10+00:00"
    return {
        "success": success,
        "flow": {"title": "Powerofficego to PowerOfficeGo Dataflow", "file": flow},
        "source": source,
        "target": target,
        "started_at": started_at,
        "finished_at": finished_at,
        "pairs": [
            {
                "pair": PAIR,
                "source_entity": "Contactperson",
                "target_entity": "Customer",
                "source_records": 10,
                "target_records": 9,
                "linked": 8,
                "link_method": "id",
                "missing_in_target": 2,
                "missing_in_source": 1,
                "ambiguous_links": 0,
                "properties": [
                    {
                        "source": "city",
                        "target": "mailAddress.city",
                        "mode": "compare",
                        "checked": 8,
                        "failing": failing_city,
                        "source_resolution": {"path": "city", "column": "city", "via": "exact"},
                        "target_resolution": {
                            "path": "mailAddress.city",
                            "column": "MailAddress.City",
                            "via": "alias",
                        },
                    },
                    {
                        "source": "firstName",
                        "target": "firstName",
                        "mode": "compare",
                        "checked": 8,
                        "failing": 0,
                        "source_resolution": {"path": "firstName", "column": "FirstName", "via": "alias"},
                        "target_resolution": {"path": "firstName", "column": "FirstName", "via": "alias"},
                    },
                    {
                        "source": "faxNumber",
                        "target": "fax",
                        "mode": "compare",
                        "checked": 0,
                        "failing": 0,
                        "source_resolution": {"path": "faxNumber", "column": None, "via": None},
                        "target_resolution": {"path": "fax", "column": None, "via": None},
                    },
                ],
            },
            {
                "pair": "Powerofficego Supplier to PowerOfficeGo Address",
                "source_entity": "Supplier",
                "target_entity": "Address",
                "source_records": 4,
                "target_records": 4,
                "linked": 4,
                "link_method": "merge_rules",
                "missing_in_target": 0,
                "missing_in_source": 0,
                "ambiguous_links": 0,
                "properties": [
                    {
                        "source": "MailAddress.City",
                        "target": "city",
                        "mode": "compare",
                        "checked": 4,
                        "failing": 1,
                        "source_resolution": {"path": "MailAddress.City", "column": "MailAddress.City",
                                              "via": "exact"},
                        "target_resolution": {"path": "city", "column": "City", "via": "alias"},
                    }
                ],
            },
        ],
    }


def gx_result(slug: str, cities: list[str | None]) -> dict:
    """A real ``ExpectationSuiteValidationResult.to_json_dict()`` from a tiny validation."""
    import great_expectations as gx
    import pandas as pd
    from great_expectations.data_context.types.base import DataContextConfig, InMemoryStoreBackendDefaults

    ctx = gx.get_context(
        project_config=DataContextConfig(
            store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
            analytics_enabled=False,
        ),
        mode="ephemeral",
    )
    asset = ctx.data_sources.add_pandas("audit").add_dataframe_asset(slug)
    batch = asset.add_batch_definition_whole_dataframe("run")
    suite = ctx.suites.add(gx.ExpectationSuite(name=slug))
    suite.add_expectation(gx.expectations.ExpectColumnValuesToNotBeNull(column="city"))
    suite.add_expectation(gx.expectations.ExpectColumnValuesToBeOfType(column="city", type_="str"))
    validation = ctx.validation_definitions.add(gx.ValidationDefinition(name=slug, data=batch, suite=suite))
    frame = pd.DataFrame({"city": pd.Series(cities, dtype="object")})
    return validation.run(batch_parameters={"dataframe": frame}).to_json_dict()


def write_outdir(
    out: Path,
    findings: pl.DataFrame,
    summary_obj: dict | None = None,
    gx: dict[str, dict] | None = None,
) -> Path:
    """Write findings.parquet/.csv, summary.json and gx/<slug>.json into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    findings.write_parquet(out / "findings.parquet")
    findings.write_csv(out / "findings.csv")
    (out / "summary.json").write_text(json.dumps(summary_obj or summary(), indent=2), encoding="utf-8")
    if gx:
        (out / "gx").mkdir(exist_ok=True)
        for slug, result in gx.items():
            (out / "gx" / f"{slug}.json").write_text(json.dumps(result, indent=1), encoding="utf-8")
    return out
