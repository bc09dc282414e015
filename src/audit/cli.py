"""The ``audit`` command line: a thin layer of load -> work -> emit -> exit code.

Heavy libraries (polars, Great Expectations, the HTTP stack) are imported inside the
commands that need them, so that ``audit spec`` over hundreds of documents starts fast.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from . import output
from .errors import EXIT_INPUT, AuditError

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
    from .dataflow import parse_many

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
    from .dataflow import parse_file
    from .demo import generate
    from .errors import ConfigError

    choices = {"mode": (mode, ("two-tenants", "self")), "--source-api": (source_api, ("v1", "v2")),
               "--target-api": (target_api, ("v1", "v2")), "--format": (fmt, ("jsonl", "parquet"))}
    for name, (value, allowed) in choices.items():
        if value not in allowed:
            raise ConfigError(f"{name} must be one of {', '.join(allowed)}, not {value!r}")
    if records < 20:
        raise ConfigError("--records must be at least 20")
    flow = parse_file(flow_doc)
    result = generate(out, flow, records=records, seed=seed, mode=mode,  # type: ignore[arg-type]
                      source_api=source_api, target_api=target_api, fmt=fmt)  # type: ignore[arg-type]
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
    from .report import build_report

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
    from .dataflow import parse_file
    from .engine import run_audit, write_outputs
    from .policy import load_policy

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
    from .dataflow import parse_file
    from .errors import ConfigError
    from .policy import load_policy
    from .suites import suite_path, suite_text, write_suites

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
    from .errors import ConfigError
    from .fetch import fetch_snapshot

    if api not in ("v1", "v2"):
        raise ConfigError(f"--api {api!r}: use v1 or v2")
    names: list[str] | None = None
    if entities:
        names = [e.strip() for e in entities.split(",") if e.strip()]
    if flow_doc is not None:
        from .dataflow import parse_file

        flow_entities = parse_file(flow_doc).entities()
        names = (names or []) + [e for e in flow_entities if e not in (names or [])]
    _setup_logging()
    result = fetch_snapshot(out, api, entities=names, since=since, tenant=tenant)  # type: ignore[arg-type]
    for warning in result.warnings:
        output.warning(warning)
    output.fetch_summary(result.manifest, str(out))


@app.command()
def simulate(
    snapshot: Annotated[
        Path, typer.Option("--snapshot", help="Snapshot directory to seed from", show_default=False)
    ],
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
    from .errors import ConfigError
    from .settings import ConnectionSettings
    from .simulator import Keys, Simulator

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

    from . import redaction

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
    from .nightly import load_config, run_nightly

    cfg = load_config(config)
    if timeout_minutes is not None:
        cfg.timeout_minutes = timeout_minutes
    result = run_nightly(cfg)
    output.nightly_summary(result)
    raise typer.Exit(result.exit_code)
