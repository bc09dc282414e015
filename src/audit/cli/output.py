"""Everything the command line prints goes through here (stdout for results, stderr for
messages), so that no other module prints."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from audit.errors import AuditError
from audit.flow.model import Flow


def _out() -> TextIO:
    return sys.stdout


def error(message: str) -> None:
    """A message for the user on stderr, prefixed with ``audit:``."""
    print(f"audit: {message}", file=sys.stderr)


def info(message: str) -> None:
    """A progress or status line on stderr (keeps stdout for results)."""
    print(message, file=sys.stderr)


def line(text: str = "") -> None:
    """One line of a result on stdout."""
    print(text, file=_out())


def json_line(obj: Any, compact: bool = True) -> None:
    """One JSON document on stdout (one line when ``compact``)."""
    if compact:
        text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), default=str)
    else:
        text = json.dumps(obj, ensure_ascii=False, indent=2, default=str)
    print(text, file=_out())


def flow_summary(flow: Flow) -> None:
    """A readable summary of one parsed document."""
    out = _out()
    print(f"{flow.file}: {flow.title}", file=out)
    src = flow.source_system or '""'
    tgt = flow.target_system or '""'
    print(f"  systems: {src} -> {tgt}   generated: {flow.generated or '-'}", file=out)
    print(f"  pairs: {len(flow.pairs)}", file=out)
    for pair in flow.pairs:
        if pair.merge_rules:
            how = "merge on " + " | ".join(f"{r.source} = {r.target}" for r in pair.merge_rules)
        elif pair.link.every:
            how = "every record"
        elif pair.link.condition:
            how = "conditional"
        else:
            how = "no link rule"
        if pair.link.create_when:
            how += "; created when related records sync"
        print(f"  - {pair.heading}", file=out)
        print(f"      {pair.source_entity} -> {pair.target_entity}: {how}", file=out)
        if pair.properties:
            width = max(len(p.source) for p in pair.properties)
            for p in pair.properties:
                cond = ""
                if p.conditions:
                    cond = "  if " + ", ".join(f"{c.path} has {c.value!r}" for c in p.conditions)
                dtype = p.datatype or f"? ({p.datatype_raw})"
                print(f"      {p.source:<{width}} -> {p.target}  [{dtype}]{cond}", file=out)
        else:
            print("      (no synchronized properties)", file=out)
    for warning in flow.warnings:
        print(f"  warning: {warning}", file=out)


def parsed_document(doc: Path, flow: Flow | AuditError, as_json: bool, many: bool) -> None:
    """What ``audit spec`` shows for one document: its flow, or its error (also on stderr).

    As JSON a single document is indented; several are one JSON line each, with ``file``.
    """
    if isinstance(flow, AuditError):
        error(str(flow))
        if as_json:
            json_line({"file": str(doc), "error": str(flow)}, compact=True)
    elif not as_json:
        flow_summary(flow)
    elif many:
        json_line({"file": str(doc), **flow.to_dict()}, compact=True)
    else:
        json_line(flow.to_dict(), compact=False)


def demo_summary(result: Any) -> None:
    """Where ``audit demo-data`` wrote the tenants, what it planted and how much to expect."""
    info(f"demo tenants written to {result.out}: source {result.source}, target {result.target}")
    info(f"Sesam export linking their people: {result.links} (audit run --links {result.links})")
    info(f"planted: {', '.join(f'{k}={v}' for k, v in result.planted.items())}")
    info(f"expected findings: {result.expected.height} in {result.out / 'expected_findings.csv'}")


# --------------------------------------------------------------------------- audit run
@contextmanager
def audit_progress() -> Iterator[Callable[[str], None] | None]:
    """A per-step progress callback (a tqdm bar on stderr) while an audit runs.

    Yields ``None`` when stderr is not a terminal; the bar is removed on exit.
    """
    if not sys.stderr.isatty():
        yield None
        return
    from tqdm import tqdm

    bar = tqdm(total=None, desc="audit", unit="pair", file=sys.stderr, leave=False)

    def step(text: str) -> None:
        bar.set_description_str(text[:60])
        bar.update(1)

    try:
        yield step
    finally:
        bar.close()


def audit_summary(summary: dict[str, Any], out_dir: str | None = None, worst: int = 3) -> None:
    """A short human summary of an ``audit run``: per pair the link coverage and the
    properties with the most failing records."""
    out = _out()
    verdict = "IN SYNC" if summary.get("success") else "DRIFT"
    print(f"audit: {verdict}  ({summary.get('findings', 0)} finding rows)", file=out)
    for text in summary.get("warnings", []):
        print(f"  WARNING: {text}", file=out)
    for pair in summary.get("pairs", []):
        cov = pair.get("link_coverage")
        cov_text = "-" if cov is None else f"{cov:.1%}"
        print(f"  {pair['pair']}", file=out)
        print(
            f"    link {pair['link_method']}: {pair['linked']}/{pair['source_records']} "
            "source records linked "
            f"({cov_text}); target records {pair['target_records']}; "
            f"missing_in_target {pair['missing_in_target']}, missing_in_source {pair['missing_in_source']}, "
            f"ambiguous {pair['ambiguous_links']}",
            file=out,
        )
        props = [p for p in pair.get("properties", []) if p.get("failing") or p.get("unresolved")]
        props.sort(key=lambda p: (-(p.get("failing") or 0), p["source"]))
        shown = props if len(props) <= 2 * worst else props[:worst]  # a few more: print them all
        for prop in shown:
            if prop.get("unresolved"):
                what = "unresolved on " + " and ".join(prop["unresolved"])
            else:
                what = f"{prop['failing']}/{prop['checked']} failing"
            print(f"    {prop['source']} -> {prop['target']}: {what}", file=out)
        if len(props) > len(shown):
            print(f"    ... {len(props) - len(shown)} more properties with findings", file=out)
    counts = {k: v for k, v in summary.get("status_counts", {}).items() if v}
    if counts:
        print("  findings: " + ", ".join(f"{k} {v}" for k, v in counts.items()), file=out)
    for text in summary.get("warnings", []):
        warning(text)
    if out_dir:
        print(f"  written to {out_dir}", file=out)


# --- connector, fetch and simulator -------------------------------------------------


def progress(desc: str, total: int | None = None, unit: str = "rec"):
    """A tqdm progress bar on stderr, silent when stderr is not a terminal.

    The bar is a context manager with ``update(n)``; callers never print themselves.
    """
    from tqdm.auto import tqdm

    return tqdm(
        desc=desc,
        total=total,
        unit=unit,
        file=sys.stderr,
        disable=not sys.stderr.isatty(),
        leave=False,
        dynamic_ncols=True,
    )


def setup_logging() -> None:
    """Warnings (and, with AUDIT_LOG_LEVEL, more) on stderr, with secrets redacted."""
    import logging
    import os

    from audit.systems.http import redaction

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


def warning(message: str) -> None:
    """A warning for the user on stderr, prefixed with ``audit: warning:``."""
    print(f"audit: warning: {message}", file=sys.stderr)


def fetch_summary(manifest: dict[str, Any], out_dir: str) -> None:
    """What ``audit fetch`` wrote: one line per entity, then the watermark."""
    out = _out()
    kind = f"changes since {manifest['since']}" if manifest.get("since") else "full"
    if manifest.get("base"):
        kind += f" applied onto {manifest['base']}"
    elif manifest.get("complete") is False:
        kind += " (PARTIAL: no base snapshot; audit run refuses it)"
    tenant = f" tenant {manifest['tenant']}" if manifest.get("tenant") else ""
    print(f"{out_dir}: {manifest['api']} {kind} snapshot of {manifest['base_url']}{tenant}", file=out)
    counts = manifest.get("counts", {})
    reads = manifest.get("read", {})
    width = max((len(e) for e in counts), default=0)
    for entity, count in counts.items():
        mode = reads.get(entity, {}).get("mode", "")
        print(f"  {entity:<{width}}  {count:>8} records  {mode}".rstrip(), file=out)
    print(f"  watermark: {manifest.get('watermark') or '-'}", file=out)
    print(
        f"  requests: {manifest.get('requests', 0)}, retries: {manifest.get('retries', 0)}, "
        f"429s: {manifest.get('rate_limited', 0)}",
        file=out,
    )


def sesam_links_summary(result: Any) -> None:
    """What ``audit sesam-links`` wrote."""
    out = _out()
    print(f"{result.out}: {result.entities} entities ({result.deleted} deleted) in {result.pages} pages", file=out)
    print(f"  requests: {result.requests}, retries: {result.retries}", file=out)
    print(f"  audit with: audit run ... --links {result.out}", file=out)


def link_suggestions(result: Any) -> None:
    """What ``audit links suggest`` wrote, and that it is for review only."""
    out = _out()
    for pair in result.pairs:
        if pair.skipped:
            print(f"{pair.heading}: no suggestions ({pair.skipped})", file=out)
            continue
        print(f"{pair.file}: {pair.links} links of {pair.source_records} source records", file=out)
        print(f"  matched on: {', '.join(pair.fields)}", file=out)
        if pair.ambiguous or pair.weaker:
            tied, weaker = pair.ambiguous, pair.weaker
            print(f"  {tied} records with tied candidates, {weaker} weaker candidates left out", file=out)
        for note in pair.notes:
            print(f"  note: {note}", file=out)
    print(f"score >= {result.threshold:g} (match probability). These links are suggestions for review only:", file=out)
    print(f"no audit uses them until you check them and pass: audit run ... --links {result.out}", file=out)


def simulator_ready(urls: dict[str, str], exports: list[str]) -> None:
    """The simulator's URLs and the ``export`` lines to use it, printed once it accepts requests."""
    out = _out()
    print("PowerOffice Go simulator ready (Ctrl+C stops it)", file=out)
    for name, url in urls.items():
        print(f"  {name:<9} {url}", file=out)
    print("To fetch from it (audit fetch, the write-back), in another shell:", file=out)
    for line in exports:
        print(f"  {line}", file=out)
    out.flush()


def nightly_summary(result: Any) -> None:
    """One line per nightly job and where its report and notebook are."""
    labels = {0: "in sync", 1: "DRIFT", 2: "BAD INPUT", 3: "FAILED"}
    for job in result.jobs:
        print(
            f"{job.name}: {labels.get(job.exit_code, job.exit_code)} - {job.message} ({job.seconds:.0f} s)",
            file=sys.stdout,
        )
        if job.report:
            print(f"  report:   {job.report}", file=sys.stdout)
        if job.notebook.exists():
            print(f"  notebook: {job.notebook}" + (f" (html: {job.html})" if job.html else ""), file=sys.stdout)


# --- write-back -------------------------------------------------------------------


def _short(value: Any, width: int = 28) -> str:
    text = "∅" if value is None or value == "" else str(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def writeback_plan(plan: dict[str, Any], path: str) -> None:
    """The plan as a readable table, its counts and the hash the reviewer approves."""
    out = _out()
    head = plan["header"]
    counts = head.get("counts", {})
    print(f"write-back plan {path}  (policy {head.get('policy')})", file=out)
    print(
        f"  {counts.get('mismatches', 0)} mismatches: {counts.get('changes', 0)} changes, "
        f"{counts.get('skipped', 0)} skipped",
        file=out,
    )
    rows = [
        (
            c["corrected"]["side"],
            c["corrected"]["entity"],
            str(c["corrected"]["record_id"]),
            f"{c['corrected']['generation']} {c['field']}",
            _short(c["old_value"]),
            _short(c["new_value"]),
            c["rule"],
        )
        for c in plan["changes"]
    ]
    if rows:
        names = ("side", "entity", "id", "field", "old", "new", "why")
        widths = [max(len(n), *(len(r[i]) for r in rows)) for i, n in enumerate(names)]
        print("  " + "  ".join(n.ljust(w) for n, w in zip(names, widths, strict=True)), file=out)
        for r in rows:
            print("  " + "  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip(), file=out)
    for reason, n in sorted(counts.get("by_skip", {}).items()):
        print(f"  skipped ({reason}): {n}", file=out)
    print(f"plan hash: {plan['hash']}", file=out)
    print(f"review the plan, then: audit writeback apply {path} --approve {plan['hash']} --apply", file=out)


def writeback_outcomes(result: dict[str, Any], title: str) -> None:
    """The outcome of ``audit writeback apply`` / ``rollback``: one line per change."""
    out = _out()
    mode = "DRY RUN (nothing written)" if result.get("dry_run") else "written"
    print(f"{title}: {mode}", file=out)
    for c in result["changes"]:
        print(
            f"  {c['status']:<14} {c['tenant']}:{c['entity']}:{c['record_id']} {c['field']}: "
            f"{_short(c['old_value'])} -> {_short(c['new_value'])}  {c['detail']}",
            file=out,
        )
    counts = ", ".join(f"{k} {v}" for k, v in sorted(result.get("counts", {}).items())) or "no changes"
    print(f"  {counts}", file=out)
    if result.get("tripped"):
        print(f"  circuit breaker tripped: {result['tripped']}", file=out)
    for tenant, why in result.get("unreachable", {}).items():
        n = sum(1 for c in result["changes"] if c["tenant"] == tenant and c["status"] == "skipped")
        print(f"  {tenant} tenant unreachable, its {n} change(s) skipped: {why}", file=out)
    if result.get("journal"):
        print(f"  journal: {result['journal']}", file=out)


def writeback_verification(verification: dict[str, Any], path: str) -> None:
    """The re-audit of the touched records."""
    out = _out()
    counts = verification["counts"]
    print(f"verification: {counts['verified']}/{counts['checked']} changes verified ({path})", file=out)
    for row in verification["changes"]:
        if not row["verified"]:
            print(f"  not verified: {row['id']}: {row['detail']}", file=out)
