"""`audit links suggest`: links proposed by splink for pairs without merge rules, for review.

The bundled demo's contact persons and customers have unrelated ids; its Sesam export
(`global-person.json`) holds the true links, against which the suggestions are measured.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from conftest import pair, prop, records

from audit.core.engine import run_audit
from audit.core.links_files import read_links_dir
from audit.core.sesam_links import read_export
from audit.core.snapshot import Snapshot, read_snapshot
from audit.flow.parser import parse_file
from audit.linkage.fields import match_fields, side_frame
from audit.linkage.suggest import best_links, suggest_links, suggest_pair

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo"
FLOW = ROOT / "data" / "flows" / "powerofficego-powerofficego.rst"
#: What the suggestions must reach on the demo (measured: 1.00 and 1.00 on both pairs).
MIN_PRECISION, MIN_RECALL, MIN_TRUE_SCORE = 0.98, 0.95, 0.95


@pytest.fixture(scope="module")
def suggested(tmp_path_factory):
    out = tmp_path_factory.mktemp("suggested")
    return suggest_links(FLOW, DEMO / "source", DEMO / "target", out)


def _ids(side: str, entity: str) -> pl.Series:
    ef = read_snapshot(DEMO / side, [entity]).entity(entity)
    return ef.frame[ef.id_column].cast(pl.String)


def _truth(source_entity: str, target_entity: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The export's links between records the snapshots hold, and those of them in
    entities naming one record on each side: an entity Sesam merged from two people links
    each person's own records and the two people crosswise, so a right suggestion there
    is one of its links, and the recall counts the one-person entities only."""
    export = read_export(DEMO / "global-person.json")
    links = export.links_between(f"powerofficego-{source_entity}", f"powerofficego-{target_entity}")
    held = links.filter(
        pl.col("source_id").is_in(_ids("source", source_entity).implode())
        & pl.col("target_id").is_in(_ids("target", target_entity).implode())
    )
    one_each = (pl.col("source_id").n_unique().over("target_id") == 1) & (
        pl.col("target_id").n_unique().over("source_id") == 1
    )
    return held, held.filter(one_each)


def _measure(suggestion_file: Path, held: pl.DataFrame, truth: pl.DataFrame) -> tuple[float, float, float]:
    rows = pl.read_csv(suggestion_file, infer_schema=False)
    right = rows.join(held, on=["source_id", "target_id"], how="semi")
    found = rows.join(truth, on=["source_id", "target_id"], how="semi")
    return right.height / rows.height, found.height / truth.height, float(found["score"].cast(pl.Float64).min())


@pytest.mark.parametrize(
    ("stem", "source_entity", "target_entity"),
    [("contactperson-customer", "contactperson", "customer"), ("customer-contactperson", "customer", "contactperson")],
)
def test_suggestions_recover_the_demos_true_links_with_high_scores(suggested, stem, source_entity, target_entity):
    held, truth = _truth(source_entity, target_entity)
    precision, recall, lowest = _measure(suggested.out / f"{stem}.csv", held, truth)
    print(f"{stem}: precision {precision:.3f}, recall {recall:.3f} of {truth.height} links, lowest true score {lowest}")
    assert truth.height >= 90
    assert precision >= MIN_PRECISION and recall >= MIN_RECALL and lowest >= MIN_TRUE_SCORE


def test_each_file_has_the_links_columns_then_score_and_the_matched_fields(suggested):
    frame = pl.read_csv(suggested.out / "contactperson-customer.csv", infer_schema=False)
    assert frame.columns == ["source_id", "target_id", "score", "matched", "differs"]
    assert "emailAddress" in frame["matched"][0] and "dateOfBirth" in frame["matched"][0]


def test_the_links_files_reader_takes_the_suggestions(suggested):
    flow = parse_file(FLOW)
    files = read_links_dir(suggested.out, [(p.source_entity, p.target_entity) for p in flow.pairs])
    assert files[("contactperson", "customer")].columns == ["source_id", "target_id"]
    assert files[("contactperson", "customer")].height == suggested.pairs[0].links


def test_an_audit_given_the_suggestions_directory_links_by_them(suggested):
    result = run_audit(FLOW, DEMO / "source", DEMO / "target", links_dir=suggested.out)
    every = [p for p in result.summary["pairs"] if p["link_method"] == "links_file"]
    assert len(every) == len(suggested.pairs) == 2
    for summary, suggestion in zip(every, suggested.pairs, strict=True):
        # every suggested link is a link, except one naming an id two records share (the
        # demo's planted duplicate id): the audit reports that one as ambiguous instead
        problems = result.findings.filter((pl.col("pair") == summary["pair"]) & (pl.col("status") == "duplicate_id"))
        shared_source = set(problems["source_key"].drop_nulls().to_list())
        shared_target = set(problems["target_key"].drop_nulls().to_list())
        rows = pl.read_csv(suggestion.file, infer_schema_length=0)
        clean = rows.filter(~pl.col("source_id").is_in(shared_source) & ~pl.col("target_id").is_in(shared_target))
        assert summary["linked"] == clean.height


def test_pairs_with_merge_rules_get_no_suggestions(suggested):
    assert [p.heading for p in suggested.pairs] == [p.heading for p in parse_file(FLOW).pairs if not p.merge_rules]
    names = sorted(f.name for f in suggested.out.iterdir())
    assert names == ["contactperson-customer.csv", "customer-contactperson.csv"]


def _frame(entity: str, table: str):
    return Snapshot.from_records({entity: records(table)}).entity(entity)


def test_values_are_compared_trimmed_lower_case_and_dates_by_day():
    props = [prop("emailAddress", "emailAddress"), prop("dateOfBirth", "dateOfBirth")]
    the_pair = pair("Contactperson", "Customer", props)
    se = _frame("contactperson", "id | emailAddress | dateOfBirth\n1 | \" Kari@X.no \" | 1985-03-14T00:00:00")
    te = _frame("customer", "Id | EmailAddress | DateOfBirth\n9 | kari@x.no | 1985-03-14")
    fields = match_fields(the_pair, se, te)
    assert side_frame(se, fields, "source").drop("unique_id").rows() == side_frame(te, fields, "target").drop(
        "unique_id"
    ).rows()


def test_a_pair_mapping_no_person_fields_is_skipped_with_the_reason(tmp_path):
    the_pair = pair("Contactperson", "Customer", [prop("city", "mailAddress.city")])
    se = _frame("contactperson", "id | city\n1 | Oslo")
    te = _frame("customer", "Id | MailAddress.City\n9 | Oslo")
    found = suggest_pair(the_pair, se, te, tmp_path, 0.9)
    assert found.file is None and "e-mail" in found.skipped and not list(tmp_path.iterdir())


def test_records_sharing_nothing_get_no_links_and_a_note_on_the_training(tmp_path):
    props = [prop("emailAddress", "emailAddress"), prop("firstName", "firstName"), prop("lastName", "lastName")]
    se = _frame("contactperson", "id | emailAddress | firstName | lastName\n1 | a@x.no | Kari | Nord")
    te = _frame("customer", "Id | EmailAddress | FirstName | LastName\n9 | c@x.no | Per | Vest")
    found = suggest_pair(pair("Contactperson", "Customer", props), se, te, tmp_path, 0.5)
    assert found.links == 0 and "m not trained on pairs sharing email (0 such pairs)" in found.notes
    assert pl.read_csv(found.file).columns[:2] == ["source_id", "target_id"]


def test_a_weaker_candidate_of_a_record_is_left_out_and_ties_are_kept():
    links = pl.DataFrame(
        {"source_id": ["1", "1", "2", "3"], "target_id": ["a", "b", "b", "c"], "score": [1.0, 0.92, 0.99, 0.95]}
    )
    assert best_links(links).select("source_id", "target_id").rows() == [("1", "a"), ("2", "b"), ("3", "c")]
    tied = pl.DataFrame({"source_id": ["1", "1"], "target_id": ["a", "b"], "score": [0.97, 0.97]})
    assert best_links(tied).height == 2


def _run(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    return subprocess.run([sys.executable, "-m", "audit", *args], capture_output=True, text=True, env=env, timeout=300)


def test_the_command_writes_the_files_and_says_they_are_for_review_only(tmp_path):
    out = tmp_path / "links"
    run = _run("links", "suggest", "--flow", str(FLOW), "--source", str(DEMO / "source"), "--target",
               str(DEMO / "target"), "--out", str(out))  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert (out / "contactperson-customer.csv").is_file() and (out / "customer-contactperson.csv").is_file()
    assert "for review only" in run.stdout and f"--links {out}" in run.stdout


def test_the_command_names_a_missing_snapshot_and_exits_2(tmp_path):
    run = _run("links", "suggest", "--flow", str(FLOW), "--source", str(tmp_path / "nowhere"), "--target",
               str(DEMO / "target"), "--out", str(tmp_path / "links"))  # fmt: skip
    assert run.returncode == 2 and "nowhere" in run.stderr and "Traceback" not in run.stderr


def test_an_audit_run_does_not_import_splink():
    probe = (
        "import sys\n"
        "from audit.cli import app\n"
        "from audit.runs.batch import run_batch\n"
        "from audit.core.engine import run_audit\n"
        "import audit.linkage.suggest\n"
        "print('splink' in sys.modules)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=120)
    assert run.stdout.strip() == "False", run.stderr
