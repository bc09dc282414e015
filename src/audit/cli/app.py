"""The ``audit`` command line: a thin layer of load -> work -> emit -> exit code.

Heavy libraries (polars, Great Expectations, the HTTP stack) are imported inside the
commands that need them, so that ``audit spec`` over hundreds of documents starts fast.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from audit.cli import output
from audit.errors import EXIT_INPUT, AuditError

app = typer.Typer(
    name="audit",
    help="Audit whether a Sesam Talk sync holds, record by record.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """Audit whether a Sesam Talk sync holds, record by record."""


@app.command()
def spec(
    docs: Annotated[list[Path], typer.Argument(help="Dataflow documents (.rst)", show_default=False)],
    as_json: Annotated[bool, typer.Option("--json", help="JSON (JSON Lines for several documents)")] = False,
) -> None:
    """Parse Sesam Talk dataflow documents into flow models."""
    from audit.flow.parser import parse_many

    failed = False
    many = len(docs) > 1
    for doc, flow in parse_many(docs):
        if isinstance(flow, AuditError):
            exc = flow
            failed = True
            output.error(str(exc))
            if as_json:
                output.json_line({"file": str(doc), "error": str(exc)}, compact=True)
            continue
        if as_json:
            data = flow.to_dict()
            if many:
                output.json_line({"file": str(doc), **data}, compact=True)
            else:
                output.json_line(data, compact=False)
        else:
            output.flow_summary(flow)
    raise typer.Exit(EXIT_INPUT if failed else 0)


def main(argv: Optional[list[str]] = None) -> int:
    """Entry point of the console script and of ``python -m audit``."""
    try:
        rc = app(args=argv, standalone_mode=False)
    except typer.Exit as exc:
        return exc.exit_code
    except AuditError as exc:
        output.error(str(exc))
        return exc.exit_code
    except KeyboardInterrupt:
        output.error("interrupted")
        return 130
    except Exception as exc:  # click's usage errors and friends
        import click

        if isinstance(exc, click.exceptions.Abort):
            output.error("aborted")
            return 130
        if isinstance(exc, click.ClickException):
            exc.show(file=sys.stderr)
            return EXIT_INPUT
        raise
    return rc if isinstance(rc, int) else 0


# --------------------------------------------------------------------------- demo data
DEFAULT_FLOW = Path("data/flows/powerofficego-powerofficego.rst")


@app.command("demo-data")
def demo_data(
    out: Annotated[Path, typer.Option("--out", help="Directory to write the demo tenants into")] = Path("data/demo"),
    records: Annotated[int, typer.Option("--records", "-n", help="Records per entity (100 to 1,000,000)")] = 100,
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
    from audit.demo.generator import generate
    from audit.errors import ConfigError
    from audit.flow.parser import parse_file

    choices = {
        "mode": (mode, ("two-tenants", "self")),
        "--source-api": (source_api, ("v1", "v2")),
        "--target-api": (target_api, ("v1", "v2")),
        "--format": (fmt, ("jsonl", "parquet")),
    }
    for name, (value, allowed) in choices.items():
        if value not in allowed:
            raise ConfigError(f"{name} must be one of {', '.join(allowed)}, not {value!r}")
    if records < 20:
        raise ConfigError("--records must be at least 20")
    flow = parse_file(flow_doc)
    result = generate(
        out,
        flow,
        records=records,
        seed=seed,
        mode=mode,  # type: ignore[arg-type]
        source_api=source_api,
        target_api=target_api,
        fmt=fmt,
    )  # type: ignore[arg-type]
    output.info(f"demo tenants written to {result.out}: source {result.source}, target {result.target}")
    output.info(f"planted: {', '.join(f'{k}={v}' for k, v in result.planted.items())}")
    output.info(f"expected findings: {result.expected.height} in {result.out / 'expected_findings.csv'}")


# --------------------------------------------------------------------------------------
# audit report: the data-quality report of one run, and the run history
# --------------------------------------------------------------------------------------


@app.command()
def report(
    out_dir: Annotated[Path, typer.Argument(help="Output directory of `audit run`", show_default=False)],
    history: Annotated[
        Optional[Path],
        typer.Option(
            "--history",
            help="History store (e.g. reports/history): record this run there and show the trend "
            "and what is new or fixed since the previous run",
        ),
    ] = None,
    max_rows: Annotated[
        int, typer.Option("--max-rows", min=0, help="Findings rendered in the HTML table at most")
    ] = 5000,
    data_docs: Annotated[
        bool, typer.Option("--data-docs/--no-data-docs", help="Build Great Expectations Data Docs")
    ] = True,
) -> None:
    """Write OUT_DIR/report.html, one self-contained data-quality report of the run."""
    from audit.reporting.report import build_report

    path = build_report(out_dir, history=history, max_rows=max_rows, data_docs=data_docs)
    output.line(str(path))


# =========================================================================== audit engine
# `audit run` and `audit suites`. Heavy modules (polars, Great Expectations) are imported
# inside the commands.


def _progress():
    """A progress callback (tqdm on stderr) when stderr is a terminal, else ``None``."""
    if not sys.stderr.isatty():
        return None, None
    from tqdm import tqdm

    bar = tqdm(total=None, desc="audit", unit="pair", file=sys.stderr, leave=False)

    def step(text: str) -> None:
        bar.set_description_str(text[:60])
        bar.update(1)

    return step, bar


@app.command("run")
def run_command(
    flow: Annotated[Path, typer.Option("--flow", help="Dataflow document (.rst)", show_default=False)],
    source: Annotated[Path, typer.Option("--source", help="Source snapshot directory", show_default=False)],
    target: Annotated[Path, typer.Option("--target", help="Target snapshot directory", show_default=False)],
    out: Annotated[Path, typer.Option("--out", help="Output directory", show_default=False)],
    links: Annotated[
        Optional[Path], typer.Option("--links", help="Directory of <source>-<target>.csv links files")
    ] = None,
    config: Annotated[Optional[Path], typer.Option("--config", help="Audit policy file (YAML)")] = None,
) -> None:
    """Audit two snapshots against a flow; exit 0 in sync, 1 on drift, 2 on bad input."""
    from audit.runs.process import prepare_batch_run

    prepare_batch_run()  # before polars and GX are imported
    from audit.core.engine import run_audit, write_outputs
    from audit.core.policy import load_policy
    from audit.flow.parser import parse_file

    parsed = parse_file(flow)
    policy = load_policy(config)
    step, bar = _progress()
    try:
        result = run_audit(parsed, source, target, links_dir=links, policy=policy, progress=step)
    finally:
        if bar is not None:
            bar.close()
    write_outputs(result, out)
    output.audit_summary(result.summary, str(out))
    raise typer.Exit(result.exit_code)


@app.command("suites")
def suites_command(
    flow: Annotated[
        Optional[list[Path]],
        typer.Option("--flow", help="Dataflow document(s); default: every data/flows/*.rst"),
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="Directory of the suites")] = Path("expectations"),
    config: Annotated[Optional[Path], typer.Option("--config", help="Audit policy file (YAML)")] = None,
    check: Annotated[bool, typer.Option("--check", help="Only report stale suites (exit 1 if any)")] = False,
) -> None:
    """Regenerate the Great Expectations suites (one per pair) from flow documents."""
    from audit.core.policy import load_policy
    from audit.errors import ConfigError
    from audit.flow.parser import parse_file
    from audit.gx.suites import suite_path, suite_text, write_suites

    docs = list(flow or sorted(Path("data/flows").glob("*.rst")))
    if not docs:
        raise ConfigError("no flow documents: give --flow DOC (data/flows/*.rst is empty or missing)")
    policy = load_policy(config)
    stale = []
    for doc in docs:
        parsed = parse_file(doc)
        if check:
            for pair in parsed.pairs:
                path = suite_path(out, parsed, pair)
                if not path.is_file() or path.read_text(encoding="utf-8") != suite_text(parsed, pair, policy):
                    stale.append(path)
                    output.line(f"stale: {path}")
        else:
            for path in write_suites(parsed, out, policy):
                output.line(str(path))
    raise typer.Exit(1 if stale else 0)


# =====================================================================================
# PowerOffice Go: fetch and simulate (connector)
# =====================================================================================


@app.command()
def fetch(
    api: Annotated[str, typer.Option("--api", help="API generation: v1 or v2", show_default=False)],
    out: Annotated[Path, typer.Option("--out", help="Snapshot directory to write", show_default=False)],
    entities: Annotated[
        Optional[str], typer.Option("--entities", help="Comma list: customer,supplier,contactperson,address")
    ] = None,
    since: Annotated[
        Optional[str], typer.Option("--since", help="Only records changed after this ISO-8601 time")
    ] = None,
    tenant: Annotated[Optional[str], typer.Option("--tenant", help="Tenant label for the manifest")] = None,
    flow_doc: Annotated[
        Optional[Path], typer.Option("--flow", help="Read the entities this dataflow document uses")
    ] = None,
) -> None:
    """Read a flow's entities from PowerOffice Go into a snapshot directory.

    Keys and URLs come from POWEROFFICE_* environment variables or a .env file.
    """
    from audit.errors import ConfigError
    from audit.systems.poweroffice.fetch import fetch_snapshot

    if api not in ("v1", "v2"):
        raise ConfigError(f"--api {api!r}: use v1 or v2")
    names: list[str] | None = None
    if entities:
        names = [e.strip() for e in entities.split(",") if e.strip()]
    if flow_doc is not None:
        from audit.flow.parser import parse_file

        flow_entities = parse_file(flow_doc).entities()
        names = (names or []) + [e for e in flow_entities if e not in (names or [])]
    _setup_logging()
    result = fetch_snapshot(out, api, entities=names, since=since, tenant=tenant)  # type: ignore[arg-type]
    for warning in result.warnings:
        output.warning(warning)
    output.fetch_summary(result.manifest, str(out))


@app.command()
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
) -> None:
    """Serve a local PowerOffice Go API (v2 and v1) seeded from a snapshot directory."""
    from audit.errors import ConfigError
    from audit.systems.poweroffice.settings import ConnectionSettings
    from audit.systems.poweroffice.sim.server import Keys, Simulator

    if not snapshot.is_dir() and not (state and state.is_file()):
        raise ConfigError(f"--snapshot {snapshot}: not a directory")
    if not 0.0 <= fault_rate <= 1.0:
        raise ConfigError("--fault-rate must be between 0 and 1")
    if rate_limit is not None and rate_limit <= 0:
        raise ConfigError("--rate-limit must be positive")
    settings = ConnectionSettings.from_env()  # same keys as `audit fetch`, .env included

    def _value(secret, default: str) -> str:
        return secret.get_secret_value() if secret is not None else default

    defaults = Keys()
    keys = Keys(
        application_key=_value(settings.application_key, defaults.application_key),
        client_key=_value(settings.client_key, defaults.client_key),
        subscription_key=_value(settings.subscription_key, defaults.subscription_key),
    )
    _setup_logging()
    sim = Simulator(
        snapshot if snapshot.is_dir() else None,
        port=port,
        rate_limit=rate_limit,
        fault_rate=fault_rate,
        state_file=state,
        token_lifetime=token_lifetime,
        keys=keys,
        seed=seed,
    )
    try:
        sim.bind()
    except OSError as exc:
        raise ConfigError(f"--port {port}: cannot listen on 127.0.0.1 ({exc.strerror or exc})") from None
    import signal

    def _stop(signum, frame):  # SIGTERM (service managers, `kill`) stops it like Ctrl+C
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    output.simulator_ready(sim.urls())
    try:
        sim.serve_forever()  # returns on Ctrl+C (werkzeug catches it) or SIGTERM
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()
    output.info("simulator stopped")


def _setup_logging() -> None:
    """Warnings (and, with AUDIT_LOG_LEVEL, more) on stderr, with secrets redacted."""
    import logging
    import os

    from audit.systems.poweroffice import redaction

    level = os.environ.get("AUDIT_LOG_LEVEL", "WARNING").upper()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("audit: %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(redaction.RedactingFilter())
    root = logging.getLogger("audit")
    if not any(getattr(h, "_audit_cli", False) for h in root.handlers):
        handler._audit_cli = True  # type: ignore[attr-defined]
        root.addHandler(handler)
        root.propagate = False
    root.setLevel(getattr(logging, level, logging.WARNING))
    redaction.install()


# =========================================================================== nightly
@app.command("nightly")
def nightly_command(
    config: Annotated[Path, typer.Option("--config", "-c", help="Nightly YAML: jobs of flow + tenants")] = Path(
        "nightly.demo.yaml"
    ),
    timeout_minutes: Annotated[
        Optional[float], typer.Option("--timeout-minutes", help="Wall-clock limit per job (overrides the file)")
    ] = None,
) -> None:
    """Run the audit notebook with papermill for every configured flow and tenants."""
    from audit.runs.nightly import load_config, run_nightly

    cfg = load_config(config)
    if timeout_minutes is not None:
        cfg.timeout_minutes = timeout_minutes
    result = run_nightly(cfg)
    output.nightly_summary(result)
    raise typer.Exit(result.exit_code)


# =====================================================================================
# Write-back: plan, apply, rollback, verify
# =====================================================================================

writeback_app = typer.Typer(
    help="Push corrected values to the system that drifted: plan, review, apply, roll back.",
    no_args_is_help=True,
)

_API_HELP = "API generation of the {} tenant (default: the plan's)"


def _generations(wanted: dict[str, set[str]], overrides: dict[str, Optional[str]]) -> dict[str, str]:
    """One API generation per tenant: the override, else the only one the changes use."""
    from audit.errors import ConfigError

    out: dict[str, str] = {}
    for tenant, gens in wanted.items():
        chosen = overrides.get(tenant)
        if chosen is None:
            if len(gens) != 1:
                raise ConfigError(
                    f"the {tenant} tenant's records use {', '.join(sorted(gens))}; choose one with --api-{tenant}"
                )
            chosen = next(iter(gens))
        if chosen not in ("v1", "v2"):
            raise ConfigError(f"--api-{tenant} {chosen!r}: use v1 or v2")
        out[tenant] = chosen
    return out


def _tenant_generations(changes, overrides: dict[str, Optional[str]], counterparts: bool = False) -> dict[str, str]:
    wanted: dict[str, set[str]] = {}
    for c in changes:
        for ref in (c.corrected, c.counterpart) if counterparts else (c.corrected,):
            wanted.setdefault(ref.tenant, set()).add(ref.generation)
    return _generations(wanted, overrides)


def _writeback_limits(max_failures: int, max_conflicts: int, max_changes: Optional[int], workers: int):
    from audit.errors import ConfigError
    from audit.writeback import Limits

    if max_failures < 0 or max_conflicts < 0 or (max_changes is not None and max_changes < 0) or workers < 1:
        raise ConfigError("--max-failures, --max-conflicts and --max-changes must be >= 0, --workers >= 1")
    return Limits(max_failures=max_failures, max_conflicts=max_conflicts, max_changes=max_changes, workers=workers)


@writeback_app.command("plan")
def writeback_plan_command(
    audit_dir: Annotated[
        Path, typer.Option("--audit", help="The audit's OUT_DIR (findings, summary.json)", show_default=False)
    ],
    flow_doc: Annotated[Path, typer.Option("--flow", help="The dataflow document audited", show_default=False)],
    source: Annotated[Path, typer.Option("--source", help="The source snapshot the audit read", show_default=False)],
    target: Annotated[Path, typer.Option("--target", help="The target snapshot the audit read", show_default=False)],
    out: Annotated[Path, typer.Option("--out", help="The plan file to write (JSON)", show_default=False)],
    policy: Annotated[str, typer.Option("--policy", help="latest (Sesam Talk's rule), source or target")] = "latest",
    decisions: Annotated[
        Optional[Path], typer.Option("--decisions", help="Decisions CSV (source|target|skip per row)")
    ] = None,
    max_changes: Annotated[
        Optional[int], typer.Option("--max-changes", help="Refuse a plan with more changes than this")
    ] = None,
) -> None:
    """Build a change plan from an audit's mismatches; print it and its hash."""
    import json

    import polars as pl

    from audit.core.snapshot import read_snapshot
    from audit.errors import ConfigError
    from audit.flow.parser import parse_file
    from audit.writeback import build_plan, write_plan
    from audit.writeback.plan import entity_stems, read_decisions

    parquet, csv, summary_path = audit_dir / "findings.parquet", audit_dir / "findings.csv", audit_dir / "summary.json"
    if parquet.is_file():
        findings = pl.read_parquet(parquet)
    elif csv.is_file():
        findings = pl.read_csv(csv, infer_schema_length=0)
    else:
        raise ConfigError(f"--audit {audit_dir}: no findings.parquet or findings.csv (run `audit run` first)")
    try:
        summary = json.loads(summary_path.read_text(encoding="utf-8")) if summary_path.is_file() else {}
    except ValueError as exc:
        raise ConfigError(f"{summary_path}: not JSON ({exc})") from None
    flow = parse_file(flow_doc)
    headings = {p.heading for p in flow.pairs}
    foreign = sorted(set(findings.filter(pl.col("status") == "mismatch")["pair"].to_list()) - headings)
    if foreign:
        raise ConfigError(f"--flow {flow_doc}: the audit's pair {foreign[0]!r} is not in this flow")
    decided = read_decisions(decisions) if decisions is not None else None
    s_stems, t_stems = entity_stems(findings)
    plan = build_plan(
        findings,
        read_snapshot(source, s_stems),
        read_snapshot(target, t_stems),
        summary=summary,
        policy=policy,
        decisions=decided,
        same_tenant=source.resolve() == target.resolve(),
        header={
            "audit_dir": str(audit_dir),
            "flow": str(flow_doc),
            "flow_title": flow.title,
            "source": str(source),
            "target": str(target),
            "decisions": str(decisions) if decisions else None,
        },
    )
    if max_changes is not None and len(plan.changes) > max_changes:
        raise ConfigError(
            f"the plan holds {len(plan.changes)} changes, more than --max-changes {max_changes}; not written"
        )
    write_plan(plan, out)
    output.writeback_plan(plan.to_dict(), str(out))


@writeback_app.command("apply")
def writeback_apply_command(
    plan_path: Annotated[Path, typer.Argument(help="The reviewed plan file", show_default=False)],
    approve: Annotated[Optional[str], typer.Option("--approve", help="The plan hash you reviewed")] = None,
    do_apply: Annotated[bool, typer.Option("--apply", help="Really write (default: dry run)")] = False,
    journal: Annotated[Optional[Path], typer.Option("--journal", help="Journal (default: next to the plan)")] = None,
    max_failures: Annotated[int, typer.Option("--max-failures", help="Stop after more failures than this")] = 5,
    max_conflicts: Annotated[int, typer.Option("--max-conflicts", help="Stop after more conflicts than this")] = 20,
    max_changes: Annotated[int, typer.Option("--max-changes", help="Refuse a plan with more changes than this")] = 1000,
    api_source: Annotated[Optional[str], typer.Option("--api-source", help=_API_HELP.format("source"))] = None,
    api_target: Annotated[Optional[str], typer.Option("--api-target", help=_API_HELP.format("target"))] = None,
    audit_dir: Annotated[
        Optional[Path], typer.Option("--audit", help="Write writeback.json into this audit OUT_DIR")
    ] = None,
    flow_doc: Annotated[
        Optional[Path], typer.Option("--flow", help="Flow for the re-audit (default: the plan's)")
    ] = None,
    workers: Annotated[int, typer.Option("--workers", help="Records handled at once")] = 4,
) -> None:
    """Write a reviewed plan (dry run unless --apply), guarded, journaled and resumable."""
    from audit.flow.parser import parse_file
    from audit.writeback import applied_changes, apply_plan, load_plan, verify_changes, writeback_summary
    from audit.writeback.gateway import connect_tenants
    from audit.writeback.verify import VERIFICATION_FILE, WRITEBACK_FILE, write_json

    limits = _writeback_limits(max_failures, max_conflicts, max_changes, workers)
    plan = load_plan(plan_path)
    plan.header["path"] = str(plan_path)
    journal = journal or plan_path.with_name(plan_path.stem + ".journal.jsonl")
    _setup_logging()
    overrides = {"source": api_source, "target": api_target}
    gens = _tenant_generations(plan.changes, overrides, counterparts=do_apply)
    gateways = connect_tenants(gens) if plan.changes else {}
    try:
        result = apply_plan(
            plan, gateways, journal_path=str(journal), dry_run=not do_apply, approve=approve, limits=limits
        )
        output.writeback_outcomes(result.to_dict(), f"apply {plan_path}")
        verification = None
        flow_path = flow_doc or (Path(plan.header["flow"]) if plan.header.get("flow") else None)
        if do_apply and not result.unreachable and flow_path is not None and flow_path.is_file():
            verification = verify_changes(applied_changes(journal), gateways, parse_file(flow_path))
            vpath = write_json(verification.to_dict(), journal.parent / VERIFICATION_FILE)
            output.writeback_verification(verification.to_dict(), str(vpath))
        elif do_apply and not result.unreachable:
            output.warning("no flow document to re-audit with (--flow); verification skipped")
        if audit_dir is not None:
            path = write_json(
                writeback_summary(result, verification, plan.header, str(plan_path)), audit_dir / WRITEBACK_FILE
            )
            output.info(f"write-back summary: {path}")
    finally:
        for gw in gateways.values():
            gw.close()
    code = result.exit_code
    if code == 0 and verification is not None and verification.counts["not_verified"]:
        code = 1
    raise typer.Exit(code)


@writeback_app.command("rollback")
def writeback_rollback_command(
    journal: Annotated[Path, typer.Argument(help="The journal of the apply to undo", show_default=False)],
    do_apply: Annotated[bool, typer.Option("--apply", help="Really write (default: dry run)")] = False,
    rollback_journal: Annotated[
        Optional[Path], typer.Option("--journal", help="Rollback journal (default: JOURNAL.rollback.jsonl)")
    ] = None,
    max_failures: Annotated[int, typer.Option("--max-failures", help="Stop after more failures than this")] = 5,
    max_conflicts: Annotated[int, typer.Option("--max-conflicts", help="Stop after more conflicts than this")] = 20,
    api_source: Annotated[Optional[str], typer.Option("--api-source", help=_API_HELP.format("source"))] = None,
    api_target: Annotated[Optional[str], typer.Option("--api-target", help=_API_HELP.format("target"))] = None,
    workers: Annotated[int, typer.Option("--workers", help="Records handled at once")] = 4,
) -> None:
    """Restore the old values of a journal's applied changes (guarded; dry run unless --apply)."""
    from audit.writeback import Plan, apply_plan, reverse_changes
    from audit.writeback.gateway import connect_tenants
    from audit.writeback.journal import fold

    limits = _writeback_limits(max_failures, max_conflicts, None, workers)
    changes = reverse_changes(fold(journal))
    plan = Plan(header={"mode": "rollback", "journal": str(journal), "path": str(journal)}, changes=changes)
    target_journal = rollback_journal or journal.with_name(journal.stem + ".rollback.jsonl")
    _setup_logging()
    gens = _tenant_generations(changes, {"source": api_source, "target": api_target})
    gateways = connect_tenants(gens) if changes else {}
    try:
        result = apply_plan(
            plan,
            gateways,
            journal_path=str(target_journal),
            dry_run=not do_apply,
            approve=plan.hash,
            limits=limits,
            mode="rollback",
        )
    finally:
        for gw in gateways.values():
            gw.close()
    output.writeback_outcomes(result.to_dict(), f"rollback {journal}")
    raise typer.Exit(result.exit_code)


@writeback_app.command("verify")
def writeback_verify_command(
    journal: Annotated[Path, typer.Argument(help="The journal of the apply to check", show_default=False)],
    flow_doc: Annotated[Path, typer.Option("--flow", help="The dataflow document", show_default=False)],
    out: Annotated[
        Optional[Path], typer.Option("--out", help="verification.json (default: next to the journal)")
    ] = None,
    api_source: Annotated[Optional[str], typer.Option("--api-source", help=_API_HELP.format("source"))] = None,
    api_target: Annotated[Optional[str], typer.Option("--api-target", help=_API_HELP.format("target"))] = None,
) -> None:
    """Re-audit the records a journal's applied changes touched; write verification.json."""
    from audit.flow.parser import parse_file
    from audit.writeback import applied_changes, verify_changes
    from audit.writeback.gateway import connect_tenants
    from audit.writeback.verify import VERIFICATION_FILE, write_json

    changes = applied_changes(journal)
    flow = parse_file(flow_doc)
    _setup_logging()
    gateways = (
        connect_tenants(_tenant_generations(changes, {"source": api_source, "target": api_target}, True))
        if changes
        else {}
    )
    try:
        verification = verify_changes(changes, gateways, flow)
    finally:
        for gw in gateways.values():
            gw.close()
    path = write_json(verification.to_dict(), out or journal.parent / VERIFICATION_FILE)
    output.writeback_verification(verification.to_dict(), str(path))
    raise typer.Exit(1 if verification.counts["not_verified"] else 0)


app.add_typer(writeback_app, name="writeback")
