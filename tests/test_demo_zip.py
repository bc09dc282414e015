"""The demo's decimal-looking zip code field: the target's contact persons hold their zip
codes as JSON numbers where the flow declares a string. ``1473`` is ``"1473"`` (no
finding); ``150`` is not ``"0150"`` (a ``mismatch`` in the oracle and in the audit)."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from audit.core.engine import run_audit
from audit.core.snapshot import read_snapshot
from audit.demo.generator import FINDING_KEYS, generate
from audit.flow.parser import parse_file

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo"
SEED = ROOT / "data" / "flows" / "powerofficego-powerofficego.rst"
#: The project's own suites (the demo plants records failing its zip-code rule)
EXPECTATIONS = ROOT / "expectations"
ZIP = pl.col("target_property").str.to_lowercase().str.ends_with("zipcode")


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _identities(frame: pl.DataFrame) -> set[tuple[str, ...]]:
    return set(frame.select(FINDING_KEYS).fill_null("").iter_rows())


@pytest.fixture(scope="module")
def audit():
    return run_audit(SEED, DEMO / "source", DEMO / "target", DEMO / "global-person.json", expectations_dir=EXPECTATIONS)


@pytest.fixture(scope="module")
def v2_to_v1(tmp_path_factory):
    """A demo whose target is v1 (``mailAddress.zipCode``), as Parquet, and its audit."""
    flow = parse_file(SEED)
    demo = generate(tmp_path_factory.mktemp("zip"), flow, records=60, source_api="v2", target_api="v1", fmt="parquet")
    return demo, run_audit(flow, demo.source, demo.target, demo.links, expectations_dir=EXPECTATIONS)


def test_the_committed_demo_writes_the_target_contact_persons_zip_codes_as_json_numbers():
    contacts = _lines(DEMO / "target" / "contactperson.jsonl")
    assert contacts and all(isinstance(c["MailAddress"]["ZipCode"], int) for c in contacts)


def test_a_numeric_zip_code_is_read_as_the_text_it_writes():
    frame = read_snapshot(DEMO / "target").entity("contactperson").frame
    zips = frame.get_column("MailAddress.ZipCode").cast(pl.String).to_list()
    written = [str(c["MailAddress"]["ZipCode"]) for c in _lines(DEMO / "target" / "contactperson.jsonl")]
    assert sorted(zips) == sorted(written) and not any("." in z for z in zips)


def test_the_oracle_expects_a_mismatch_per_zip_code_that_lost_its_leading_zero():
    manifest = json.loads((DEMO / "manifest.json").read_text(encoding="utf-8"))
    expected = pl.read_csv(DEMO / "expected_findings.csv", infer_schema=False)
    on_contacts = expected.filter(ZIP & (pl.col("pair").str.starts_with("Powerofficego Customer")))
    assert on_contacts.height == manifest["planted"]["zip_as_number_lost_zero"] > 0


def test_the_audit_finds_exactly_the_zip_codes_the_oracle_expects(audit):
    expected = pl.read_csv(DEMO / "expected_findings.csv", infer_schema=False)
    assert _identities(audit.findings.filter(ZIP)) == _identities(expected.filter(ZIP))


def test_every_numeric_zip_mismatch_is_a_lost_leading_zero_never_a_decimal(audit):
    on_contacts = audit.findings.filter(ZIP & pl.col("pair").str.starts_with("Powerofficego Customer"))
    pairs = list(on_contacts.select("source_value", "target_value").iter_rows())
    assert pairs and all(s.startswith("0") and s.lstrip("0") == t for s, t in pairs)


def test_a_numeric_zip_equal_as_text_is_no_finding(audit):
    contacts = {c["Id"]: c["MailAddress"]["ZipCode"] for c in _lines(DEMO / "target" / "contactperson.jsonl")}
    flagged = set(audit.findings.filter(ZIP)["target_key"].to_list())
    assert any(str(i) not in flagged and zip_code >= 1000 for i, zip_code in contacts.items())


def test_a_v1_parquet_target_with_numeric_zip_codes_audits_exactly_as_planted(v2_to_v1):
    demo, result = v2_to_v1
    assert _identities(result.findings) == _identities(demo.expected)
    assert demo.planted["zip_as_number_lost_zero"] > 0


def test_the_v1_parquet_target_keeps_its_zip_codes_as_integers(v2_to_v1):
    demo, _ = v2_to_v1
    # v1 contact persons are flat (``zipCode`` beside ``address1``)
    assert pl.read_parquet(demo.target / "contactperson.parquet").schema["zipCode"] == pl.Int64


def test_the_self_layout_plants_no_numeric_zip_codes(tmp_path):
    demo = generate(tmp_path / "d", parse_file(SEED), records=40, mode="self")
    assert "zip_as_number" not in demo.planted
