"""Report charts that read: rates scaled to the data and labelled, failing statuses first,
one label per run on the trend's time axis."""

from __future__ import annotations

import re

from audit.reporting import charts

FAILING = ("mismatch", "missing_in_target", "ambiguous_link", "type_violation", "unresolved_property")


def _texts(svg: str) -> list[str]:
    return re.findall(r"<text[^>]*>([^<]*)</text>", svg)


def _pair(*rates: tuple[int, int]) -> dict:
    props = [
        {"source": f"p{i}", "target": f"q{i}", "checked": checked, "failing": failing,
         "mismatch_rate": failing / checked if checked else None}
        for i, (failing, checked) in enumerate(rates)
    ]
    return {"pair": "A to B", "properties": props}


def test_a_mismatch_rate_near_one_percent_gets_an_axis_scaled_to_it_and_value_labels():
    texts = _texts(charts.property_mismatch(_pair((10, 990), (0, 990)), "pm"))
    assert "1.0%" in texts and "0.0%" in texts  # the bars' value labels
    assert "100%" not in texts and "50%" not in texts  # the axis stops near the data


def test_failing_statuses_come_first_and_the_listed_ones_apart():
    counts = {"missing_in_source": 1012, "mismatch": 50, "missing_in_target": 22}
    texts = _texts(charts.findings_by_status(counts, FAILING))
    assert texts.index(charts.FAILING_TITLE) < texts.index(charts.LISTED_TITLE)
    assert texts.index("mismatch") < texts.index("missing_in_target") < texts.index("missing_in_source")


def _run(time: str, **counts) -> dict:
    return {"run_time": time, "success": False, "findings_total": sum(counts.values()), "status_counts": counts}


def test_the_trend_axis_labels_each_run_once():
    runs = [_run("2024-05-01T02:00:05Z", mismatch=3), _run("2024-05-01T02:00:40Z", mismatch=2),
            _run("2024-05-02T02:00:00Z", mismatch=1, missing_in_source=900)]
    texts = [t for t in _texts(charts.findings_trend(runs, ["mismatch", "missing_in_source"], FAILING))
             if re.match(r"\d{4}-\d\d-\d\d", t)]
    assert len(texts) == 2 * 3  # three runs, on the failing and on the listed chart
    assert len(set(texts)) == 3


def test_the_trend_draws_listed_statuses_in_a_chart_of_their_own():
    runs = [_run("2024-05-01T02:00:00Z", mismatch=3, missing_in_source=900)]
    texts = _texts(charts.findings_trend(runs, ["mismatch", "missing_in_source"], FAILING))
    assert texts.index(charts.FAILING_TITLE) < texts.index(charts.LISTED_TITLE)
