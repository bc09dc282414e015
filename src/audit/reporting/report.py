"""The data-quality report of one audit run: report data, then one self-contained HTML file.

Steps, each its own function so that they can be tested apart:

1. :meth:`ReportData.from_outputs` (:mod:`audit.reporting.report_data`) reads an
   ``audit run`` output directory and, when a history store is given, the trend and the
   findings new / fixed since the previous run.
2. :func:`render_html` turns report data into HTML with the Jinja template
   ``templates/report.html.j2`` (package data). Charts are inline SVG
   (:mod:`audit.reporting.charts`); the findings table's sorting and filtering is a small inline
   script; nothing is loaded from the network.
3. :func:`build_report` does both, records the run into the history store first when
   one is given, builds the offline Data Docs of the GX results (:mod:`audit.gx.datadocs`) and
   writes ``OUT_DIR/report.html``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from audit.reporting.report_data import (
    DEFAULT_MAX_ROWS,
    MAX_FIXED_ROWS,
    WRITEBACK_FIELDS,
    FindingRow,
    GxSuite,
    HistoryView,
    ReportData,
    TrendPoint,
)
from audit.reporting.rundir import FINDING_COLUMNS, findings_file, read_gx_results, read_summary

if TYPE_CHECKING:  # pragma: no cover
    from audit.gx.datadocs import DataDocs

__all__ = [
    "DEFAULT_MAX_ROWS",
    "MAX_FIXED_ROWS",
    "REPORT_FILE",
    "TEMPLATE",
    "WRITEBACK_FIELDS",
    "FindingRow",
    "GxSuite",
    "HistoryView",
    "ReportData",
    "TrendPoint",
    "build_report",
    "render_html",
]

REPORT_FILE = "report.html"
TEMPLATE = "report.html.j2"


def render_html(data: ReportData) -> str:
    """The report as one HTML document (charts inline as SVG, script and styles inline)."""
    import jinja2
    from markupsafe import Markup

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("audit.reporting", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["pct"] = lambda v: "–" if v is None else f"{v:.1%}"
    d = data.to_dict()
    svg = _charts(data, d)
    template = env.get_template(TEMPLATE)

    def mark(obj: Any) -> Any:
        if isinstance(obj, dict):
            return {k: mark(v) for k, v in obj.items()}
        return Markup(obj)

    return template.render(d=d, svg=mark(svg), statuses=list(data.status_counts), columns=FINDING_COLUMNS)


def _charts(data: ReportData, d: dict[str, Any]) -> dict[str, Any]:
    """The report's SVG charts by name (``pairs``: one property chart per pair); ``d`` is
    ``data.to_dict()``."""
    from audit.reporting import charts

    svg: dict[str, Any] = {"pairs": {}}
    if d["summary"]["pairs"]:
        svg["link_coverage"] = charts.link_coverage(d["summary"]["pairs"])
    for i, pair in enumerate(d["summary"]["pairs"]):
        if pair["properties"]:
            svg["pairs"][pair["pair"]] = charts.property_mismatch(pair, f"property-mismatch-{i}")
    if data.findings_total:
        counts = {s: n for s, n in data.status_counts.items() if n}
        svg["status"] = charts.findings_by_status(counts, data.summary.failing_statuses)
    if d["history"] and d["history"]["runs"]:
        svg["trend"] = charts.findings_trend(d["history"]["runs"], data.status_counts, data.summary.failing_statuses)
        if any(r["mismatch_rate"] is not None for r in d["history"]["pair_rates"]):
            svg["pair_trend"] = charts.pair_rate_trend(d["history"]["pair_rates"])
    return svg


def build_report(
    out_dir: Path,
    history: Path | None = None,
    max_rows: int = DEFAULT_MAX_ROWS,
    data_docs: bool = True,
) -> Path:
    """Write ``OUT_DIR/report.html`` (and ``OUT_DIR/data_docs/``) for one audit run.

    Parameters
    ----------
    out_dir
        An ``audit run`` output directory.
    history
        A history store: the run is recorded into it (once; recording again is a no-op)
        and the report shows the trend and what is new or fixed since the previous run.
        ``None``: no history.
    max_rows
        Findings rendered in the HTML table at most; the report says when it shows fewer
        than all and links to ``findings.csv``.
    data_docs
        Build the Great Expectations Data Docs from ``OUT_DIR/gx/*.json`` and link them.

    Returns
    -------
    Path
        The report file.

    Raises
    ------
    InputError
        ``summary.json`` or the findings are missing or unreadable (named in the message).
    """
    out_dir = Path(out_dir)
    read_summary(out_dir)  # fail on bad input before touching the store or writing docs
    findings_file(out_dir)
    if history is not None:
        from audit.reporting.history import record_run

        record_run(out_dir, history)
    docs = _build_data_docs(out_dir) if data_docs else None
    data = ReportData.from_outputs(out_dir, history=history, max_rows=max_rows, data_docs=docs)
    target = out_dir / REPORT_FILE
    tmp = target.with_name(f".{REPORT_FILE}.tmp")
    tmp.write_text(render_html(data), encoding="utf-8")
    tmp.replace(target)
    return target


def _build_data_docs(out_dir: Path) -> DataDocs | None:
    """The Data Docs of the run's stored GX results, or ``None`` when it has none."""
    results = read_gx_results(out_dir)
    if not results:
        return None
    from audit.gx.datadocs import build_data_docs

    return build_data_docs(out_dir, results)
