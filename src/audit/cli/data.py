"""Commands that make or serve data: ``audit demo-data``, ``fetch`` and ``simulate``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from audit.cli import output

#: The seed flow, shipped in the package (:mod:`audit.flow.bundled`), so any folder works.
DEFAULT_FLOW = Path("powerofficego-powerofficego")


def demo_data(
    out: Annotated[Path, typer.Option("--out", help="Directory to write the demo tenants into")] = Path("data/demo"),
    records: Annotated[int, typer.Option("--records", "-n", help="Records per entity (at least 20)")] = 100,
    seed: Annotated[int, typer.Option("--seed", help="Random seed; the same seed gives the same files")] = 7,
    mode: Annotated[
        str, typer.Option("--mode", help="two-tenants, or self (one tenant syncing with itself)")
    ] = "two-tenants",
    source_api: Annotated[str, typer.Option("--source-api", help="API generation of the source records")] = "v1",
    target_api: Annotated[str, typer.Option("--target-api", help="API generation of the target records")] = "v2",
    fmt: Annotated[str, typer.Option("--format", help="jsonl or parquet")] = "jsonl",
    flow_doc: Annotated[Path, typer.Option("--flow", help="The seed dataflow document")] = DEFAULT_FLOW,
) -> None:
    """Generate PowerOffice Go demo tenants with planted drift and its expected findings."""
    from audit.demo.make import make_demo

    result = make_demo(
        out, flow_doc, records=records, seed=seed, mode=mode, source_api=source_api, target_api=target_api, fmt=fmt
    )
    output.demo_summary(result)


def fetch(
    api: Annotated[str, typer.Option("--api", help="API generation: v1 or v2", show_default=False)],
    out: Annotated[Path, typer.Option("--out", help="Snapshot directory to write", show_default=False)],
    entities: Annotated[
        Optional[str], typer.Option("--entities", help="Comma list: customer,supplier,contactperson,address")
    ] = None,
    since: Annotated[
        Optional[str], typer.Option("--since", help="Only records changed after this ISO-8601 time")
    ] = None,
    base: Annotated[
        Optional[Path],
        typer.Option("--base", help="Snapshot the --since changes are applied onto (default: --out when it is one)"),
    ] = None,
    tenant: Annotated[Optional[str], typer.Option("--tenant", help="Tenant label for the manifest")] = None,
    flow_doc: Annotated[
        Optional[Path], typer.Option("--flow", help="Read the entities this dataflow document uses")
    ] = None,
) -> None:
    """Read a flow's entities from PowerOffice Go into a snapshot directory.

    Keys and URLs come from POWEROFFICE_* environment variables or a .env file.
    """
    from audit.systems.poweroffice.fetch_flow import fetch_entities

    output.setup_logging()
    result = fetch_entities(out, api, entities=entities, since=since, base=base, tenant=tenant, flow_doc=flow_doc)
    for warning in result.warnings:
        output.warning(warning)
    output.fetch_summary(result.manifest, str(out))


def simulate(
    snapshot: Annotated[Path, typer.Option("--snapshot", help="Snapshot directory to seed from", show_default=False)],
    port: Annotated[int, typer.Option("--port", help="Port on 127.0.0.1 (0: any free port)")] = 8765,
    rate_limit: Annotated[
        Optional[float], typer.Option("--rate-limit", help="Requests/second per generation; 429 beyond")
    ] = None,
    fault_rate: Annotated[
        float, typer.Option("--fault-rate", help="Share of 5xx answers and dropped connections")
    ] = 0.0,
    state: Annotated[Optional[Path], typer.Option("--state", help="State file kept across restarts")] = None,
    token_lifetime: Annotated[
        Optional[float],
        typer.Option("--token-lifetime", help="Token lifetime in seconds (default 1200 v2, 600 v1)"),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the fault injection")] = 0,
    sesam_dataset: Annotated[
        Optional[list[str]],
        typer.Option("--sesam-dataset", help="Serve a Sesam export as dataset NAME under /api (NAME=FILE)"),
    ] = None,
) -> None:
    """Serve a local PowerOffice Go API (v2 and v1) seeded from a snapshot directory,
    and Sesam datasets under /api."""
    from audit.systems.poweroffice.sim.serve import serve
    from audit.systems.sesam.sim import dataset_options

    output.setup_logging()
    serve(
        snapshot,
        port=port,
        rate_limit=rate_limit,
        fault_rate=fault_rate,
        state=state,
        token_lifetime=token_lifetime,
        seed=seed,
        sesam_datasets=dataset_options(sesam_dataset),
        on_ready=output.simulator_ready,
    )
    output.info("simulator stopped")


def sesam_links(
    node: Annotated[
        str, typer.Option("--node", help="The Sesam node's URL (with or without /api)", show_default=False)
    ],
    dataset: Annotated[str, typer.Option("--dataset", help="Dataset id, e.g. global-person", show_default=False)],
    out: Annotated[Path, typer.Option("--out", help="Export file to write (.json)", show_default=False)],
) -> None:
    """Read a Sesam dataset (its $ids link records) into an export file for audit run --links.

    The JWT comes from SESAM_JWT in the environment or a .env file.
    """
    from audit.systems.sesam.client import read_dataset

    output.setup_logging()
    result = read_dataset(node, dataset, out, progress=output.progress)
    output.sesam_links_summary(result)
