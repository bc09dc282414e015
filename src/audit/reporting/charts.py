"""Charts of the data-quality report, drawn with Altair and rendered to inline SVG.

Each function takes plain rows and returns an SVG string that :mod:`audit.reporting.report` puts
straight into the HTML, so the report needs no JavaScript, no CDN and no network to show
its charts. Rendering goes through ``vl-convert`` (the Vega-Lite compiler and Vega
renderer packaged as a Python wheel, the same engine ``altair.Chart.save(format="svg")``
uses).

Marks carry a ``description``; Vega writes it as the mark's ``aria-label``, and
:func:`to_svg` also adds it as an SVG ``<title>`` so the browser shows it on hover.
"""

from __future__ import annotations

import html
import itertools
import re
from collections.abc import Iterable, Mapping
from typing import Any

#: One colour per finding status (same order as :data:`audit.reporting.rundir.STATUSES`).
STATUS_COLOURS = {
    "mismatch": "#d62728",
    "missing_in_target": "#ff7f0e",
    "ambiguous_link": "#9467bd",
    "type_violation": "#8c564b",
    "unresolved_property": "#7f7f7f",
    "duplicate_id": "#e377c2",
    "missing_id": "#bcbd22",
    "expectation_failed": "#17becf",
    "missing_in_source": "#1f77b4",
}

LINK_COLOURS = {
    "linked": "#2ca02c",
    "missing in target": "#ff7f0e",
    "ambiguous": "#9467bd",
    "missing in source": "#1f77b4",
}

_WIDTH = 520
_MARK = re.compile(r'<(path|rect|line|circle|text)\b([^>]*?)aria-label="([^"]*)"([^>]*?)/>')
_ID = re.compile(r'\bid="([^"]+)"')


def to_svg(chart: Any, id_prefix: str) -> str:
    """Render an Altair chart (or a Vega-Lite dict) to an SVG string for inlining.

    Parameters
    ----------
    chart
        An ``altair`` chart or a Vega-Lite specification dict.
    id_prefix
        Prefix for every element id in the SVG, so that several charts inlined in one
        page do not share clip-path or gradient ids.
    """
    import vl_convert as vlc

    spec = chart.to_dict() if hasattr(chart, "to_dict") else chart
    svg = vlc.vegalite_to_svg(spec)
    ids = set(_ID.findall(svg))
    for old in sorted(ids, key=len, reverse=True):
        new = f"{id_prefix}-{old}"
        svg = svg.replace(f'id="{old}"', f'id="{new}"').replace(f"url(#{old})", f"url(#{new})")
        svg = svg.replace(f'href="#{old}"', f'href="#{new}"')
    svg = _MARK.sub(lambda m: f"<{m[1]}{m[2]}aria-label=\"{m[3]}\"{m[4]}><title>{m[3]}</title></{m[1]}>", svg)
    return svg.replace("<svg ", f'<svg data-chart="{html.escape(id_prefix)}" role="img" ', 1)


def _count_axis():
    """Axis for counts: whole numbers only."""
    return _alt().Axis(tickMinStep=1, format="d")


def _alt():
    import altair as alt

    return alt


def _status_scale(statuses: Iterable[str] | None = None):
    """Colour scale of finding statuses (:data:`STATUS_COLOURS`), of ``statuses`` only when given
    (a legend then lists just the statuses its chart shows)."""
    alt = _alt()
    shown = [s for s in STATUS_COLOURS if statuses is None or s in set(statuses)]
    return alt.Scale(domain=shown, range=[STATUS_COLOURS[s] for s in shown])


def _run_time_x(times: Iterable[str]):
    """X encoding of the trend charts: the run's time, one tick per run.

    Vega's own ticks on a short time span fall between runs and print the same
    minute several times; ticks at the runs' times label each run once.
    """
    from datetime import datetime

    alt = _alt()
    stamps = sorted({datetime.fromisoformat(t.replace("Z", "+00:00")).timestamp() * 1000 for t in times})
    close = any(b - a < 60_000 for a, b in itertools.pairwise(stamps))  # runs within a minute: show seconds
    fmt = "%Y-%m-%d %H:%M:%S" if close else "%Y-%m-%d %H:%M"
    axis = alt.Axis(format=fmt, labelAngle=-30, values=stamps, labelOverlap=True, grid=False)
    return alt.X("run_time:T", title="run", axis=axis)


def split_statuses(statuses: Iterable[str], failing: Iterable[str]) -> tuple[list[str], list[str]]:
    """``statuses`` that fail the audit, in order, and the others (listed, not failing)."""
    failing = set(failing)
    ordered = list(statuses)
    return [s for s in ordered if s in failing], [s for s in ordered if s not in failing]


def _base(rows: list[dict[str, Any]]):
    alt = _alt()
    return alt.Chart(alt.Data(values=rows)).properties(width=_WIDTH)


def link_coverage(pairs: Iterable[Mapping[str, Any]]) -> str:
    """Stacked bars per pair: records linked, missing in target, ambiguous, missing in source.

    ``pairs`` are :meth:`audit.reporting.rundir.PairSummary.to_dict` objects.
    """
    alt = _alt()
    rows = []
    for p in pairs:
        parts = {
            "linked": p["linked"],
            "missing in target": p["missing_in_target"],
            "ambiguous": p["ambiguous"],
            "missing in source": p["missing_in_source"],
        }
        for order, (outcome, n) in enumerate(parts.items()):
            coverage = p["link_coverage"]
            cov = "n/a" if coverage is None else f"{coverage:.1%}"
            rows.append(
                {
                    "pair": p["pair"],
                    "outcome": outcome,
                    "order": order,
                    "records": n,
                    "label": f"{p['pair']}: {n} {outcome} (link coverage {cov})",
                }
            )
    chart = _base(rows).mark_bar().encode(
        y=alt.Y("pair:N", title=None, sort=None, axis=alt.Axis(labelLimit=320)),
        x=alt.X("records:Q", title="records", axis=_count_axis()),
        color=alt.Color(
            "outcome:N",
            title="link outcome",
            scale=alt.Scale(domain=list(LINK_COLOURS), range=list(LINK_COLOURS.values())),
            legend=alt.Legend(orient="bottom"),
        ),
        order=alt.Order("order:Q"),
        description="label:N",
    )
    return to_svg(chart.properties(height=alt.Step(28)), "link-coverage")


def property_mismatch(pair: Mapping[str, Any], chart_id: str) -> str:
    """Horizontal bars: share of checked linked records failing, per mapped property.

    The axis ends a little above the highest rate (rates near 1 % stay readable) and
    each bar is labelled with its rate.
    """
    alt = _alt()
    rows = [
        {
            "property": f"{p['source']} \u2192 {p['target']}",
            "rate": p["mismatch_rate"] or 0.0,
            "text": f"{(p['mismatch_rate'] or 0.0):.1%}" if p["checked"] else "not checked",
            "label": (
                f"{p['source']} \u2192 {p['target']}: {p['failing']} of {p['checked']} failing"
                if p["checked"]
                else f"{p['source']} \u2192 {p['target']}: not checked"
            ),
            "checked": p["checked"] > 0,
        }
        for p in pair["properties"]
    ]
    top = min(1.0, max([r["rate"] for r in rows] + [0.0]) * 1.25) or 0.01
    base = _base(rows).encode(
        y=alt.Y("property:N", title=None, sort=None, axis=alt.Axis(labelLimit=320)),
        x=alt.X("rate:Q", title="mismatch rate", axis=alt.Axis(format=".1%" if top < 0.05 else "%"),
                scale=alt.Scale(domain=[0, top], clamp=True)),
    )
    bars = base.mark_bar().encode(
        color=alt.condition("datum.checked", alt.value("#d62728"), alt.value("#bbbbbb")),
        description="label:N",
    )
    values = base.mark_text(align="left", dx=3, fontSize=10).encode(text="text:N")
    return to_svg(alt.layer(bars, values).properties(height=alt.Step(22)), chart_id)


def _status_bars(counts: Mapping[str, int], statuses: list[str], title: str):
    alt = _alt()
    rows = [{"status": s, "findings": counts[s], "label": f"{s}: {counts[s]}"} for s in statuses]
    base = _base(rows).encode(
        y=alt.Y("status:N", title=None, sort=statuses),
        x=alt.X("findings:Q", title="findings", axis=_count_axis()),
    )
    bars = base.mark_bar().encode(
        color=alt.Color("status:N", scale=_status_scale(), legend=None), description="label:N"
    )
    values = base.mark_text(align="left", dx=3, fontSize=10).encode(text="findings:Q")
    return alt.layer(bars, values).properties(height=alt.Step(22), title=title)


#: Titles of the two groups of statuses in the status and trend charts.
FAILING_TITLE = "Fail the audit"
LISTED_TITLE = "Listed, do not fail the audit"


def findings_by_status(counts: Mapping[str, int], failing: Iterable[str]) -> str:
    """Bars: findings per status; statuses that fail the audit first, the others apart
    (each group its own scale, so a large listed count does not flatten the failing ones)."""
    alt = _alt()
    fails, listed = split_statuses([s for s, n in counts.items() if n], failing)
    groups = [_status_bars(counts, g, t) for g, t in ((fails, FAILING_TITLE), (listed, LISTED_TITLE)) if g]
    chart = groups[0] if len(groups) == 1 else alt.vconcat(*groups).resolve_scale(x="independent")
    return to_svg(chart, "findings-by-status")


def findings_trend(runs: list[Mapping[str, Any]], statuses: Iterable[str], failing: Iterable[str] = ()) -> str:
    """Lines over runs: findings per status; a point per run, filled red when it failed.

    Statuses that fail the audit are drawn first, with each run's outcome; the others
    (listed, not failing) in a chart of their own below. ``runs`` are rows with
    ``run_time`` (ISO text), ``success`` and one count per status.
    """
    alt = _alt()
    fails, listed = split_statuses(statuses, failing)
    charts = []
    if fails or not listed:
        layers = alt.layer(_status_lines(runs, fails), _run_outcomes(runs, fails))
        charts.append(layers.resolve_scale(color="independent").properties(width=_WIDTH, height=200,
                                                                           title=FAILING_TITLE))
    if listed:
        charts.append(_status_lines(runs, listed).properties(width=_WIDTH, height=120, title=LISTED_TITLE))
    chart = charts[0] if len(charts) == 1 else alt.vconcat(*charts).resolve_scale(color="independent")
    return to_svg(chart, "findings-trend")


def _status_lines(runs: list[Mapping[str, Any]], statuses: list[str]):
    """The trend's lines: findings per status and run."""
    alt = _alt()
    rows = [
        {
            "run_time": r["run_time"],
            "status": s,
            "findings": r["status_counts"].get(s, 0),
            "label": f"{r['run_time']}: {r['status_counts'].get(s, 0)} {s}",
        }
        for r in runs
        for s in statuses
    ]
    return (
        alt.Chart(alt.Data(values=rows))
        .mark_line(point=True)
        .encode(
            x=_run_time_x(r["run_time"] for r in runs),
            y=alt.Y("findings:Q", title="findings", axis=_count_axis()),
            color=alt.Color(
                "status:N", scale=_status_scale(statuses), legend=alt.Legend(orient="bottom", columns=3)
            ),
            description="label:N",
        )
    )


def _run_outcomes(runs: list[Mapping[str, Any]], failing: list[str]):
    """The trend's diamonds: each run's failing findings, green in sync, red with drift."""
    alt = _alt()
    rows = []
    for r in runs:
        total = sum(r["status_counts"].get(s, 0) for s in failing)
        outcome = "in sync" if r["success"] else "drift"
        rows.append({"run_time": r["run_time"], "total": total, "outcome": outcome,
                     "label": f"{r['run_time']}: {outcome}, {total} failing findings"})
    return (
        alt.Chart(alt.Data(values=rows))
        .mark_point(size=90, filled=True, shape="diamond")
        .encode(
            x=_run_time_x(r["run_time"] for r in runs),
            y=alt.Y("total:Q"),
            fill=alt.Fill(
                "outcome:N",
                title="run",
                scale=alt.Scale(domain=["in sync", "drift"], range=["#2ca02c", "#d62728"]),
                legend=alt.Legend(orient="bottom"),
            ),
            description="label:N",
        )
    )


def pair_rate_trend(rows: list[Mapping[str, Any]]) -> str:
    """Lines over runs: mismatch rate per pair (``run_time``, ``pair``, ``mismatch_rate``)."""
    alt = _alt()
    data = [
        {
            **r,
            "label": f"{r['run_time']}: {r['pair']} "
            + ("not checked" if r["mismatch_rate"] is None else f"{r['mismatch_rate']:.1%} failing"),
        }
        for r in rows
        if r["mismatch_rate"] is not None
    ]
    chart = (
        alt.Chart(alt.Data(values=data))
        .mark_line(point=True)
        .encode(
            x=_run_time_x(r["run_time"] for r in data),
            y=alt.Y("mismatch_rate:Q", title="mismatch rate", axis=alt.Axis(format="%")),
            color=alt.Color("pair:N", legend=alt.Legend(orient="bottom", columns=1, labelLimit=400)),
            description="label:N",
        )
        .properties(width=_WIDTH, height=200)
    )
    return to_svg(chart, "pair-rate-trend")
