"""The offline Data Docs: GX validation results of small frames (and of the demo run) rendered
as an index and one page per validation, read as HTML and in Chromium with the network off."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import polars as pl
import pytest
from browser import dump_dom, probe

from audit.errors import InputError
from audit.gx.datadocs import build_data_docs
from audit.gx.docs_view import percent
from audit.gx.docs_words import describe
from audit.gx.validate import validate
from audit.reporting.rundir import read_gx_results

CITIES = pl.DataFrame(
    {
        "link": ["linked", "linked", "linked", "missing_in_target"],
        "source.id": [1, 2, 3, 4],
        "source.City": ["Oslo", "Bergen", "Tromsø", "Hamar"],
        "target.mailAddress.city": ["Oslo", "Trondheim", "Bodø", None],
        "target.mailAddress.zipCode": ["0150", "5003", "90377", None],
    }
)


def _suite(name: str, *expectations):
    import great_expectations as gx

    return gx.ExpectationSuite(name=name, expectations=list(expectations))


def _gx():
    import great_expectations.expectations as gxe

    return gxe


def _complete(frame: pl.DataFrame, suite, keys: list[str]) -> dict:
    """A result with GX's unexpected index (COMPLETE, keyed by ``keys``), from its pandas
    engine: the shape a user suite's findings are read from."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import DataContextConfig, InMemoryStoreBackendDefaults

    ctx = gx.get_context(
        project_config=DataContextConfig(
            store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False), analytics_enabled=False
        ),
        mode="ephemeral",
    )
    batch = (
        ctx.data_sources.add_pandas("p").add_dataframe_asset("a").add_batch_definition_whole_dataframe("b")
        .get_batch(batch_parameters={"dataframe": frame.to_pandas()})
    )
    result_format = {"result_format": "COMPLETE", "unexpected_index_column_names": keys}
    return batch.validate(ctx.suites.add(suite), result_format=result_format).to_json_dict()


def _outdir(tmp_path: Path, results: dict[str, dict]) -> Path:
    gx_dir = tmp_path / "run" / "gx"
    gx_dir.mkdir(parents=True)
    for slug, raw in results.items():
        (gx_dir / f"{slug}.json").write_text(json.dumps(raw), encoding="utf-8")
    return tmp_path / "run"


def _build(tmp_path: Path, results: dict[str, dict]):
    out = _outdir(tmp_path, results)
    return out, build_data_docs(out, read_gx_results(out))


class _Doc(HTMLParser):
    """Tags with attributes, external references, and the rows of every table."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.tables: list[list[list[str]]] = []  # table -> rows -> cell texts (th and td)
        self._cell: list[str] | None = None
        self.text: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data):
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)

    def find(self, tag: str, **attrs) -> list[dict]:
        return [a for t, a in self.tags if t == tag and all(a.get(k.replace("_", "-")) == v for k, v in attrs.items())]

    @property
    def words(self) -> str:
        return " ".join("".join(self.text).split())

    @property
    def external(self) -> list[str]:
        refs = [v for _, a in self.tags for k, v in a.items() if k in ("src", "href", "data", "xlink:href") and v]
        return [r for r in refs if r.startswith(("http:", "https:", "//"))]


def test_the_page_of_a_mismatching_column_pair_shows_source_and_target_values_side_by_side(tmp_path):
    suite = _suite("cities", _gx().ExpectColumnPairValuesToBeEqual(column_A="source.City",
                                                                    column_B="target.mailAddress.city"))
    out, docs = _build(tmp_path, {"cities": validate(CITIES, suite)})

    page = _Doc((out / docs.pages["cities"]).read_text(encoding="utf-8"))

    assert page.tables[0][0] == ["source.City", "target.mailAddress.city"]
    assert page.tables[0][1:] == [["Bergen", "Trondheim"], ["Tromsø", "Bodø"], ["Hamar", "null"]]


def test_a_long_list_of_unexpected_pairs_shows_a_few_and_says_of_how_many(tmp_path):
    frame = pl.DataFrame({"source.City": [f"By {i}" for i in range(25)], "target.City": ["Oslo"] * 25})
    suite = _suite("many", _gx().ExpectColumnPairValuesToBeEqual(column_A="source.City", column_B="target.City"))
    out, docs = _build(tmp_path, {"many": validate(frame, suite)})

    page = _Doc((out / docs.pages["many"]).read_text(encoding="utf-8"))

    assert page.find("table", data_shown="10", data_total="25")
    assert len(page.tables[0]) == 1 + 10 and "10 of the 25 unexpected values" in page.words


def test_repeated_unexpected_values_are_shown_once_with_their_count(tmp_path):
    frame = pl.DataFrame({"link": ["linked", "missing_in_target", "missing_in_target", "ambiguous_link"]})
    suite = _suite("links", _gx().ExpectColumnValuesToBeInSet(column="link", value_set=["linked"]))
    out, docs = _build(tmp_path, {"links": validate(frame, suite)})

    page = _Doc((out / docs.pages["links"]).read_text(encoding="utf-8"))

    assert page.tables[0] == [["link", "count"], ["missing_in_target", "2"], ["ambiguous_link", "1"]]
    assert page.find("table", data_shown="3", data_total="3")


def test_unexpected_index_rows_show_the_key_columns_beside_the_value(tmp_path):
    suite = _suite("zip", _gx().ExpectColumnValuesToMatchRegex(column="target.mailAddress.zipCode", regex=r"^\d{4}$"))
    out, docs = _build(tmp_path, {"zip": _complete(CITIES, suite, ["source.id"])})

    page = _Doc((out / docs.pages["zip"]).read_text(encoding="utf-8"))

    assert page.tables[0] == [["source.id (key)", "target.mailAddress.zipCode"], ["3", "90377"]]


def test_the_percentage_is_of_the_rows_the_expectation_checked(tmp_path):
    # 1010 rows, 20 without a link status (null, skipped by GX), 11 outside the set.
    frame = pl.DataFrame({"link": ["linked"] * 979 + ["missing_in_target"] * 11 + [None] * 20})
    suite = _suite("links", _gx().ExpectColumnValuesToBeInSet(column="link", value_set=["linked"]))
    out, docs = _build(tmp_path, {"links": validate(frame, suite)})

    page = _Doc((out / docs.pages["links"]).read_text(encoding="utf-8"))

    assert page.find("p", data_unexpected="11", data_checked="990")
    assert "11 unexpected of 990 rows checked (1.11%); 20 of 1010 rows were null and not checked." in page.words


@pytest.mark.parametrize("part,whole,text", [(0, 5, "0%"), (4, 5, "80%"), (1, 3, "33.33%"), (1, 10**6, "<0.01%"),
                                             (0, 0, "–")])
def test_percentages_read_plainly(part, whole, text):
    assert percent(part, whole) == text


def test_every_expectation_reads_in_gx_words_with_its_severity_and_result(tmp_path):
    gxe = _gx()
    suite = _suite(
        "ids",
        gxe.ExpectColumnValuesToBeUnique(column="source.id"),
        gxe.ExpectColumnValuesToNotBeNull(column="target.mailAddress.city", severity="warning"),
        gxe.ExpectColumnToExist(column="source.City"),
    )
    out, docs = _build(tmp_path, {"ids": validate(CITIES, suite)})

    page = _Doc((out / docs.pages["ids"]).read_text(encoding="utf-8"))

    sections = page.find("section")
    assert [(s["data-type"], s["data-severity"], s["data-success"]) for s in sections] == [
        ("expect_column_values_to_be_unique", "critical", "true"),
        ("expect_column_values_to_not_be_null", "warning", "false"),
        ("expect_column_to_exist", "critical", "true"),
    ]
    for sentence in ("source.id values must be unique.", "target.mailAddress.city values must never be null.",
                     "source.City is a required field."):
        assert sentence in page.words


def test_an_expectation_gx_cannot_render_still_reads_as_a_sentence():
    words, origin = describe({"type": "expect_column_values_to_be_norwegian_zip", "kwargs": {"column": "zip"}})

    assert origin == "generic"
    assert "".join(p.text for p in words) == "Expect column values to be norwegian zip (column zip)."


def test_our_wording_stands_in_when_gx_refuses_the_configuration():
    config = {"type": "expect_column_values_to_match_regex", "kwargs": {"column": "zip", "regex": "^x$", "mostly": 5}}

    words, origin = describe(config)

    assert origin == "audit"
    assert "".join(p.text for p in words) == "zip values must match this regular expression: ^x$."


def test_the_index_lists_every_validation_with_its_counts_and_page(tmp_path):
    gxe = _gx()
    results = {
        "cities": validate(CITIES, _suite("flow.cities", gxe.ExpectColumnPairValuesToBeEqual(
            column_A="source.City", column_B="target.mailAddress.city"))),
        "ids": validate(CITIES, _suite("flow.ids", gxe.ExpectColumnValuesToBeUnique(column="source.id"),
                                       gxe.ExpectColumnValuesToNotBeNull(column="source.id"))),
    }
    out, docs = _build(tmp_path, results)

    index = _Doc((out / docs.index).read_text(encoding="utf-8"))

    rows = {r["data-validation"]: r["data-success"] for r in index.find("tr") if "data-validation" in r}
    assert rows == {"cities": "false", "ids": "true"}
    assert index.tables[0][1][2:7] == ["flow.cities", "1", "0", "1", "0"]
    links = [a["href"] for a in index.find("a")]
    assert sorted(links) == ["validations/cities.html", "validations/ids.html"]
    assert all((out / "data_docs" / link).is_file() for link in links)


def test_a_rebuild_keeps_no_page_of_a_result_no_longer_stored(tmp_path):
    result = validate(CITIES, _suite("s", _gx().ExpectColumnValuesToBeUnique(column="source.id")))
    out, _ = _build(tmp_path, {"old": result})
    (out / "gx" / "old.json").rename(out / "gx" / "new.json")

    build_data_docs(out, read_gx_results(out))

    assert sorted(p.name for p in (out / "data_docs" / "validations").iterdir()) == ["new.html"]


def test_a_stored_result_that_cannot_be_read_is_an_input_error_naming_the_file(tmp_path):
    out = _outdir(tmp_path, {"bad": {"success": True, "results": [{"success": True, "expectation_config": "x"}]}})

    with pytest.raises(InputError, match="bad.json"):
        build_data_docs(out, read_gx_results(out))


def test_a_stored_result_whose_results_are_not_a_list_of_objects_is_an_input_error_naming_the_file(tmp_path):
    out = _outdir(tmp_path, {"bad": {"success": True, "results": "not a list"}})

    with pytest.raises(InputError, match="bad.json: not a Great Expectations validation result"):
        read_gx_results(out)


# -- the demo run, offline in Chromium -------------------------------------------------------


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory) -> Path:
    """``audit run`` on a small demo, with its report and Data Docs built."""
    from audit.core.engine import run_audit, write_outputs
    from audit.demo.generator import generate
    from audit.flow.bundled import BUNDLED_FLOWS
    from audit.flow.parser import parse_file
    from audit.reporting.report import build_report

    base = tmp_path_factory.mktemp("demo")
    flow = parse_file(BUNDLED_FLOWS / "powerofficego-powerofficego.rst")
    demo = generate(base / "demo", flow, records=60)
    write_outputs(run_audit(flow, demo.source, demo.target, demo.links), base / "run")
    build_report(base / "run")
    return base / "run"


def test_the_demo_pages_have_no_script_and_no_external_reference(demo_run):
    pages = [demo_run / "data_docs" / "index.html", *sorted((demo_run / "data_docs" / "validations").iterdir())]

    for page in pages:
        text = page.read_text(encoding="utf-8")
        doc = _Doc(text)
        assert doc.find("style") and not doc.find("script") and not doc.find("link"), page
        assert doc.external == [] and "http://" not in text and "https://" not in text, page


def test_the_demo_index_lists_every_validation_offline_in_chromium(demo_run, tmp_path):
    stored = sorted(p.stem for p in (demo_run / "gx").glob("*.json"))

    index = _Doc(dump_dom(demo_run / "data_docs" / "index.html", tmp_path / "profile"))

    listed = [r["data-validation"] for r in index.find("tr") if "data-validation" in r]
    assert len(stored) == 3 and listed == stored
    for link in (a["href"] for a in index.find("a")):
        page = _Doc(dump_dom(demo_run / "data_docs" / link, tmp_path / "profile"))
        assert page.find("h1", id="headline") and page.find("section"), link


def test_the_demo_pages_are_styled_offline_in_chromium(demo_run, tmp_path):
    page = next((demo_run / "data_docs" / "validations").glob("*customer.html"))
    styles = {
        "badge": (".badge-bad", "background-color"),
        "failed": (".expectation.failed", "border-left-width"),
        "header": ("table.sample th", "background-color"),
        "font": ("body", "font-family"),
    }

    seen = probe(page, tmp_path / "profile", styles)

    assert seen["badge"] == "rgb(179, 38, 30)"
    assert seen["failed"] == "5px"
    assert seen["header"] == "rgb(246, 247, 249)"
    assert seen["font"].startswith("system-ui")
    # No request for a style, font or script (Chromium lists an attempt even when it fails).
    assert json.loads(seen["resources"]) == []


def test_report_links_the_data_docs_index_and_every_page_of_the_demo(demo_run):
    report = _Doc((demo_run / "report.html").read_text(encoding="utf-8"))

    links = {a["href"] for a in report.find("a") if a.get("href", "").startswith("data_docs/")}
    pages = {f"data_docs/validations/{p.stem}.html" for p in (demo_run / "gx").glob("*.json")}
    assert links == {"data_docs/index.html", *pages}
    assert all((demo_run / link).is_file() for link in links)
