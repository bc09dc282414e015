"""Everything the command line prints goes through here (stdout for results, stderr for
messages), so that no other module prints."""

from __future__ import annotations

import json
import sys
from typing import Any, TextIO

from .flow import Flow


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


# --------------------------------------------------------------------------- audit run
def audit_summary(summary: dict[str, Any], out_dir: str | None = None, worst: int = 3) -> None:
    """A short human summary of an ``audit run``: per pair the link coverage and the
    properties with the most failing records."""
    out = _out()
    verdict = "IN SYNC" if summary.get("success") else "DRIFT"
    print(f"audit: {verdict}  ({summary.get('findings', 0)} finding rows)", file=out)
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
        for prop in props[:worst]:
            if prop.get("unresolved"):
                what = "unresolved on " + " and ".join(prop["unresolved"])
            else:
                what = f"{prop['failing']}/{prop['checked']} failing"
            print(f"    {prop['source']} -> {prop['target']}: {what}", file=out)
        if len(props) > worst:
            print(f"    ... {len(props) - worst} more properties with findings", file=out)
    counts = {k: v for k, v in summary.get("status_counts", {}).items() if v}
    if counts:
        print("  findings: " + ", ".join(f"{k} {v}" for k, v in counts.items()), file=out)
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


def warning(message: str) -> None:
    """A warning for the user on stderr, prefixed with ``audit: warning:``."""
    print(f"audit: warning: {message}", file=sys.stderr)


def fetch_summary(manifest: dict[str, Any], out_dir: str) -> None:
    """What ``audit fetch`` wrote: one line per entity, then the watermark."""
    out = _out()
    kind = f"changes since {manifest['since']}" if manifest.get("since") else "full"
    tenant = f" tenant {manifest['tenant']}" if manifest.get("tenant") else ""
    print(f"{out_dir}: {manifest['api']} {kind} snapshot of {manifest['base_url']}{tenant}", file=out)
    counts = manifest.get("counts", {})
    width = max((len(e) for e in counts), default=0)
    for entity, count in counts.items():
        print(f"  {entity:<{width}}  {count:>8} records", file=out)
    print(f"  watermark: {manifest.get('watermark') or '-'}", file=out)
    print(
        f"  requests: {manifest.get('requests', 0)}, retries: {manifest.get('retries', 0)}, "
        f"429s: {manifest.get('rate_limited', 0)}",
        file=out,
    )


def simulator_ready(urls: dict[str, str]) -> None:
    """The simulator's URLs, printed once it accepts requests."""
    out = _out()
    print("PowerOffice Go simulator ready (Ctrl+C stops it)", file=out)
    for name, url in urls.items():
        print(f"  {name:<9} {url}", file=out)
    out.flush()


def nightly_summary(result: Any) -> None:
    """One line per nightly job and where its report and notebook are."""
    labels = {0: "in sync", 1: "DRIFT", 2: "BAD INPUT", 3: "FAILED"}
    for job in result.jobs:
        print(f"{job.name}: {labels.get(job.exit_code, job.exit_code)} - {job.message} ({job.seconds:.0f} s)",
              file=sys.stdout)
        if job.report:
            print(f"  report:   {job.report}", file=sys.stdout)
        print(f"  notebook: {job.notebook}" + (f" (html: {job.html})" if job.html else ""), file=sys.stdout)
