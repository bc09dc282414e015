"""The data-quality report: report data, the self-contained HTML, Data Docs, the CLI, and
the page as a real browser renders it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from browser import dump_dom
from outdir_factory import HEADER, PAIR, SUPPLIER, gx_result, summary, table, write_outdir

from audit.errors import InputError
from audit.reporting.report import ReportData, build_report, render_html

SRC = Path(__file__).resolve().parents[1] / "src"
SNAPSHOTS = Path(__file__).parent / "snapshots"

EARLIER = f"""
{HEADER}
{PAIR} | 2 | 12 | city | mailAddress.city | mismatch | Oslo | Bergen
{PAIR} | 9 | 19 | city | mailAddress.city | mismatch | Tromsø | null
{PAIR} | 3 | null | null | null | missing_in_target | null | null
"""
LATEST = f"""
{HEADER}
{PAIR} | 2 | 12 | city | mailAddress.city | mismatch | Oslo | Trondheim
{PAIR} | 10 | 110 | city | mailAddress.city | mismatch | Bodø | -
{PAIR} | 3 | null | null | null | missing_in_target | null | null
{SUPPLIER} | 1 | 101 | MailAddress.City | city | mismatch | Hamar | Gjøvik
"""


@pytest.fixture(scope="module")
def gx_results() -> dict[str, dict]:
    """Real GX validation results (one failing, one passing), computed once."""
    return {
        "contactperson-customer": gx_result("contactperson-customer", ["Oslo", None, "Bergen"]),
        "supplier-address": gx_result("supplier-address", ["Hamar", "Gjøvik"]),
    }


def _outdirs(tmp_path: Path, gx: dict[str, dict]) -> tuple[Path, Path]:
    earlier = write_outdir(
        tmp_path / "earlier", table(EARLIER), summary(started_at="2024-05-01T02:00:00Z"), gx
    )
    latest = write_outdir(
        tmp_path / "latest", table(LATEST), summary(started_at="2024-05-02T02:00:00Z", failing_city=2), gx
    )
    return earlier, latest


class _Page(HTMLParser):
    """Collects what the tests look at: external references, findings rows, charts."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.refs: list[tuple[str, str, str]] = []
        self.tags: list[tuple[str, dict]] = []
        self.rows: list[dict] = []  # findings table body rows: attrs + cell texts
        self._in_findings = self._in_body = False
        self._cell: list[str] | None = None
        self.texts: dict[str, str] = {}  # element id -> its own text
        self._id: str | None = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        self._id = a.get("id")
        if self._id:
            self.texts.setdefault(self._id, "")
        for name in ("src", "href", "xlink:href", "data"):
            if a.get(name):
                self.refs.append((tag, name, a[name]))
        if tag == "table" and a.get("id") == "findings":
            self._in_findings = True
        elif self._in_findings and tag == "tbody":
            self._in_body = True
        elif self._in_body and tag == "tr":
            self.rows.append({"attrs": a, "cells": []})
        elif self._in_body and tag == "td":
            self._cell = []

    def handle_endtag(self, tag):
        self._id = None
        if tag == "td" and self._cell is not None:
            self.rows[-1]["cells"].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tbody":
            self._in_body = False
        elif tag == "table":
            self._in_findings = False

    def handle_data(self, data):
        if self._id:
            self.texts[self._id] += data
        if self._cell is not None:
            self._cell.append(data)

    def find(self, tag: str, **attrs) -> list[dict]:
        return [a for t, a in self.tags if t == tag and all(a.get(k) == v for k, v in attrs.items())]


def _check_snapshot(name: str, data: dict) -> None:
    path = SNAPSHOTS / name
    if os.environ.get("AUDIT_UPDATE_SNAPSHOTS") == "1":
        path.parent.mkdir(exist_ok=True)
        path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    assert path.is_file(), f"{path} is missing: run the tests once with AUDIT_UPDATE_SNAPSHOTS=1"
    assert data == json.loads(path.read_text(encoding="utf-8")), (
        f"report data differ from {path}; if the change is intended, regenerate with AUDIT_UPDATE_SNAPSHOTS=1"
    )


def test_report_is_written_and_self_contained(tmp_path, gx_results):
    _, latest = _outdirs(tmp_path, gx_results)

    path = build_report(latest, history=tmp_path / "history")

    assert path == latest / "report.html"
    page = _Page(path.read_text(encoding="utf-8"))
    assert page.find("script"), "the report has its inline script"
    assert not [a for a in page.find("script") if "src" in a], "no script is loaded from a file or URL"
    assert not page.find("link", rel="stylesheet")
    external = [r for r in page.refs if r[2].startswith(("http:", "https:", "//"))]
    assert external == []


def test_report_data_matches_snapshot(tmp_path, gx_results):
    earlier, latest = _outdirs(tmp_path, gx_results)
    store = tmp_path / "history"
    from audit.reporting.history import record_run

    record_run(earlier, store)
    record_run(latest, store)

    _check_snapshot("report_data.json", ReportData.from_outputs(latest, history=store).to_dict())


def test_report_shows_every_finding_with_both_values_side_by_side(tmp_path, gx_results):
    _, latest = _outdirs(tmp_path, gx_results)

    page = _Page(build_report(latest, data_docs=False).read_text(encoding="utf-8"))

    assert len(page.rows) == table(LATEST).height
    hamar = next(r["cells"] for r in page.rows if "Hamar" in r["cells"])
    # Pair, status, source key/property/value, target key/property/value.
    assert hamar[2:] == ["1", "MailAddress.City", "Hamar", "101", "city", "Gjøvik"]


def test_table_is_capped_at_max_rows_with_a_note_linking_the_csv(tmp_path, gx_results):
    _, latest = _outdirs(tmp_path, gx_results)

    data = ReportData.from_outputs(latest, max_rows=2)
    page = _Page(render_html(data))

    assert data.findings_total == 4 and data.truncated
    assert len(page.rows) == 2
    assert page.find("p", id="truncation-note")
    assert ("a", "href", "findings.csv") in page.refs
    # The most actionable status comes first: mismatches before the missing record.
    assert {r.status for r in data.findings} == {"mismatch"}


def test_findings_new_since_the_last_run_are_marked(tmp_path, gx_results):
    earlier, latest = _outdirs(tmp_path, gx_results)
    store = tmp_path / "history"
    build_report(earlier, history=store, data_docs=False)

    build_report(latest, history=store, data_docs=False)
    data = ReportData.from_outputs(latest, history=store)

    new_keys = {f.source_key for f in data.findings if f.new}
    assert new_keys == {"10", "1"}
    assert data.history.new_total == 2
    assert [(f["source_key"], f["status"]) for f in data.history.fixed] == [("9", "mismatch")]


def test_history_trend_covers_earlier_runs(tmp_path, gx_results):
    earlier, latest = _outdirs(tmp_path, gx_results)
    store = tmp_path / "history"
    build_report(earlier, history=store, data_docs=False)
    build_report(latest, history=store, data_docs=False)

    runs = ReportData.from_outputs(latest, history=store).history.runs

    assert [r.findings_total for r in runs] == [3, 4]
    assert [r.current for r in runs] == [False, True]


def test_property_path_resolution_is_shown(tmp_path, gx_results):
    _, latest = _outdirs(tmp_path, gx_results)

    html = build_report(latest, data_docs=False).read_text(encoding="utf-8")
    start = html.index('id="resolution-table"')
    resolution = html[start : html.index("</table>", start)]

    assert "<code>mailAddress.city</code> &rarr; <code>MailAddress.City</code>" in resolution
    assert "(alias)" in resolution
    assert resolution.count("unresolved") == 2  # faxNumber -> fax on both sides


def test_data_docs_are_built_from_the_stored_results_and_linked(tmp_path, gx_results):
    _, latest = _outdirs(tmp_path, gx_results)

    path = build_report(latest)

    assert (latest / "data_docs" / "index.html").is_file()
    data_suites = {g["suite_name"]: g for g in ReportData.from_outputs(latest).to_dict()["gx"]}
    assert data_suites["contactperson-customer"]["success"] is False
    page = _Page(path.read_text(encoding="utf-8"))
    links = {value for tag, attr, value in page.refs if tag == "a"}
    assert "data_docs/index.html" in links
    docs_pages = [v for v in links if v.startswith("data_docs/validations/")]
    assert len(docs_pages) == 2
    for link in docs_pages:
        text = (latest / link).read_text(encoding="utf-8")
        assert "must never be null" in text  # GX rendered the stored expectation


def test_summary_without_success_is_an_input_error_naming_the_file(tmp_path):
    out = write_outdir(tmp_path / "run", table(LATEST))
    raw = json.loads((out / "summary.json").read_text())
    del raw["success"]
    (out / "summary.json").write_text(json.dumps(raw))

    with pytest.raises(InputError, match="summary.json"):
        ReportData.from_outputs(out)


def _cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run(
        [sys.executable, "-m", "audit", "report", *args], capture_output=True, text=True, env=env, timeout=120
    )


def test_cli_writes_the_report_and_prints_its_path(tmp_path, gx_results):
    _, latest = _outdirs(tmp_path, gx_results)

    done = _cli(str(latest), "--history", str(tmp_path / "history"), "--no-data-docs")

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(latest / "report.html")
    assert (latest / "report.html").is_file()
    assert list((tmp_path / "history" / "runs").glob("*.parquet"))


@pytest.mark.parametrize("missing", ["summary.json", "findings"])
def test_cli_exits_2_naming_the_missing_file(tmp_path, missing):
    out = write_outdir(tmp_path / "run", table(LATEST))
    if missing == "findings":
        (out / "findings.parquet").unlink()
        (out / "findings.csv").unlink()
        named = "findings.parquet"
    else:
        (out / "summary.json").unlink()
        named = "summary.json"

    done = _cli(str(out))

    assert done.returncode == 2
    assert str(out / named) in done.stderr
    assert "Traceback" not in done.stderr
    assert not (out / "report.html").exists()


def test_cli_exits_2_naming_a_corrupt_history_file_and_keeps_it(tmp_path, gx_results):
    earlier, latest = _outdirs(tmp_path, gx_results)
    store = tmp_path / "history"
    build_report(earlier, history=store, data_docs=False)
    damaged = next((store / "runs").glob("*.parquet"))
    damaged.write_bytes(b"not parquet")

    done = _cli(str(latest), "--history", str(store), "--no-data-docs")

    assert done.returncode == 2
    assert str(damaged) in done.stderr
    assert damaged.read_bytes() == b"not parquet"


# -- the page in a real browser -------------------------------------------------------------


def _rendered_dom(report: Path, fragment: str, profile: Path) -> str:
    return dump_dom(report, profile, fragment, budget_ms=5000)


def test_report_renders_in_headless_chromium_with_charts_and_a_sortable_table(tmp_path, gx_results):
    earlier, latest = _outdirs(tmp_path, gx_results)
    store = tmp_path / "history"
    build_report(earlier, history=store, data_docs=False)
    report = build_report(latest, history=store, data_docs=False)

    # Sorted by the source key column (index 2), descending, through the address fragment.
    dom = _Page(_rendered_dom(report, "#sort=2&dir=desc", tmp_path / "profile"))

    table_attrs = dom.find("table", id="findings")[0]
    assert table_attrs.get("data-ready") == "true", "the table script ran"
    assert len(dom.rows) == table(LATEST).height
    keys = [r["cells"][2] for r in dom.rows]
    assert keys == sorted(keys, key=int, reverse=True)  # numeric order: 10 before 3 before 2
    charts = {a["data-chart"] for a in dom.find("svg") if "data-chart" in a}
    assert {"link-coverage", "findings-by-status", "property-mismatch-0", "property-mismatch-1",
            "findings-trend", "pair-rate-trend"} <= charts
    assert dom.find("h1", id="headline")[0]["data-success"] == "false"


def test_status_filter_in_the_address_hides_other_rows_in_chromium(tmp_path, gx_results):
    _, latest = _outdirs(tmp_path, gx_results)
    report = build_report(latest, data_docs=False)

    dom = _Page(_rendered_dom(report, "#status=missing_in_target", tmp_path / "profile"))

    visible = [r for r in dom.rows if "hidden" not in r["attrs"]]
    assert [r["attrs"]["data-status"] for r in visible] == ["missing_in_target"]
    assert len(dom.rows) == table(LATEST).height
    assert dom.texts["shown-count"] == "1"


def test_report_shows_what_a_writeback_wrote(tmp_path, gx_results):
    _, latest = _outdirs(tmp_path, gx_results)
    (latest / "writeback.json").write_text(
        json.dumps(
            {
                "generated_at": "2024-05-02T03:00:00+00:00",
                "dry_run": False,
                "tripped": None,
                "policy": "latest",
                "counts": {"planned": 2, "applied": 1, "conflicts": 1, "verified": 1},
                "changes": [
                    {"side": "target", "entity": "customer", "record_id": "5000002", "field": "MailAddress.City",
                     "old_value": "Hønefoss", "new_value": "Oslo", "status": "applied", "verified": True},
                    {"side": "target", "entity": "customer", "record_id": "5000047", "field": "MailAddress.City",
                     "old_value": "Hønefoss", "new_value": "Stavanger", "status": "conflict", "verified": None},
                ],
            }
        ),
        encoding="utf-8",
    )
    data = ReportData.from_outputs(latest)
    assert data.writeback["counts"]["applied"] == 1 and data.writeback["changes_total"] == 2
    html = render_html(data)
    assert 'id="writeback"' in html and "Stavanger" in html and "conflict" in html


def test_a_pair_linking_under_half_its_records_is_a_warning_at_the_top_of_the_report(tmp_path, gx_results):
    obj = summary()
    obj["pairs"][0]["link_warning"] = "Contactperson to Customer: only 0 of 10 linked (link method id)"
    out = write_outdir(tmp_path / "run", table(LATEST), obj, gx_results)
    text = build_report(out, data_docs=False).read_text(encoding="utf-8")
    assert '<div class="note" role="alert"><b>Warning:</b> Contactperson to Customer: only 0 of 10' in text
