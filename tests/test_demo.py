"""Demo tenants: shaped like the API, deterministic, with planted drift recorded."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from audit.demo.generator import generate
from audit.flow.parser import parse_file

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "data" / "flows" / "powerofficego-powerofficego.rst"


@pytest.fixture(scope="module")
def flow():
    return parse_file(SEED)


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_same_seed_gives_identical_files(tmp_path, flow):
    a = generate(tmp_path / "a", flow, records=50, seed=3)
    b = generate(tmp_path / "b", flow, records=50, seed=3)
    files = sorted(p.relative_to(a.out) for p in a.out.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(b.out) for p in b.out.rglob("*") if p.is_file())
    for rel in files:
        assert (a.out / rel).read_bytes() == (b.out / rel).read_bytes(), rel


def test_other_seed_gives_other_people(tmp_path, flow):
    a = generate(tmp_path / "a", flow, records=50, seed=3)
    b = generate(tmp_path / "b", flow, records=50, seed=4)
    assert (a.source / "customer.jsonl").read_bytes() != (b.source / "customer.jsonl").read_bytes()


def test_source_is_v1_and_target_is_v2_shaped(tmp_path, flow):
    demo = generate(tmp_path / "d", flow, records=40)
    v1 = _lines(demo.source / "customer.jsonl")[0]
    v2 = _lines(demo.target / "customer.jsonl")[0]
    assert {"id", "lastChanged", "mailAddress"} <= set(v1) and isinstance(v1["mailAddress"], dict)
    assert {"Id", "LastChangedDateTimeOffset", "MailAddress"} <= set(v2) and "City" in v2["MailAddress"]
    assert v1["dateOfBirth"][10:19] == "T00:00:00" and len(v2["DateOfBirth"]) == 10  # some with an offset


def test_v2_contact_persons_have_no_date_of_birth(tmp_path, flow):
    demo = generate(tmp_path / "d", flow, records=40)
    assert all("DateOfBirth" not in r and "dateOfBirth" not in r for r in _lines(demo.target / "contactperson.jsonl"))
    assert all("dateOfBirth" in r for r in _lines(demo.source / "contactperson.jsonl"))


def test_zip_codes_keep_leading_zeros_and_names_use_norwegian_letters(tmp_path, flow):
    demo = generate(tmp_path / "d", flow, records=200)
    text = (demo.source / "customer.jsonl").read_text(encoding="utf-8")
    assert '"zipCode":"0' in text
    assert any(ch in text for ch in "æøåÆØÅ")


def test_address_entity_is_the_mail_addresses_keyed_by_id(tmp_path, flow):
    demo = generate(tmp_path / "d", flow, records=40)
    addresses = _lines(demo.target / "address.jsonl")
    ids = [a["Id"] for a in addresses]
    assert len(ids) == len(set(ids))
    customer_addr = {c["MailAddress"]["Id"] for c in _lines(demo.target / "customer.jsonl") if c["MailAddress"]}
    assert customer_addr <= set(ids)


def test_every_kind_of_drift_is_planted_and_expected(tmp_path, flow):
    demo = generate(tmp_path / "d", flow, records=100)
    statuses = set(demo.expected["status"])
    assert statuses == {
        "mismatch",
        "missing_in_target",
        "missing_in_source",
        "ambiguous_link",
        "unresolved_property",
        "duplicate_id",
        "expectation_failed",
    }
    assert demo.planted["empty_vs_missing"] >= 2
    written = pl.read_csv(demo.out / "expected_findings.csv", infer_schema=False)
    assert written.height == demo.expected.height


def _counterparts(export, source: str, target: str) -> dict[str, str]:
    """Source record id -> target record id, for live Sesam entities linking exactly one of each."""
    out = {}
    for entity in json.loads(export.read_text(encoding="utf-8")):
        ids = [i.split(":", 2) for i in entity["$ids"]] if not entity.get("_deleted") else []
        src = [i[2] for i in ids if i[1] == source]
        tgt = [i[2] for i in ids if i[1] == target]
        if len(src) == len(tgt) == 1:
            out[src[0]] = tgt[0]
    return out


def test_empty_against_missing_is_planted_but_not_expected(tmp_path, flow):
    demo = generate(tmp_path / "d", flow, records=100)
    empty = {r["id"] for r in _lines(demo.source / "contactperson.jsonl") if r["emailAddress"] == ""}
    missing = {r["Id"] for r in _lines(demo.target / "customer.jsonl") if r.get("EmailAddress") is None}
    linked = _counterparts(demo.out / "global-person.json", "powerofficego-contactperson", "powerofficego-customer")
    assert empty and {linked[str(i)] for i in empty} <= {str(i) for i in missing}  # the same people
    email_findings = demo.expected.filter(pl.col("source_property") == "emailAddress")
    assert not set(email_findings["source_key"]) & {str(i) for i in empty}


def test_self_mode_writes_one_tenant(tmp_path, flow):
    demo = generate(tmp_path / "d", flow, records=60, mode="self")
    assert demo.source == demo.target == tmp_path / "d" / "tenant"
    contacts = {str(r["id"]) for r in _lines(demo.source / "contactperson.jsonl")}
    linked = _counterparts(demo.out / "global-person.json", "powerofficego-contactperson", "powerofficego-customer")
    assert contacts - set(linked)  # a contact person whose customer is missing
    assert "missing_in_source" in set(demo.expected["status"])


@pytest.mark.parametrize("mode", ["two-tenants", "self"])
def test_contact_persons_and_customers_have_unrelated_ids(tmp_path, flow, mode):
    demo = generate(tmp_path / "d", flow, records=60, mode=mode)
    customers = {r.get("Id", r.get("id")) for r in _lines(demo.target / "customer.jsonl")}
    contacts = {r["id"] for r in _lines(demo.source / "contactperson.jsonl")}
    assert not customers & contacts


def _export(demo) -> list[dict]:
    return json.loads(demo.links.read_text(encoding="utf-8"))


def test_the_sesam_export_links_each_contact_person_to_its_customer(tmp_path, flow):
    demo = generate(tmp_path / "d", flow, records=40, mode="self")
    contact = _lines(demo.source / "contactperson.jsonl")[0]
    customer = _lines(demo.source / "customer.jsonl")[0]  # row 0 of each is person 0
    ids = next(e["$ids"] for e in _export(demo) if f"~:powerofficego-contactperson:{contact['id']}" in e["$ids"])
    assert f"~:powerofficego-customer:{customer['id']}" in ids and contact["firstName"] == customer["firstName"]


def test_the_sesam_export_has_deleted_entities_and_other_systems_identifiers(tmp_path, flow):
    entities = _export(generate(tmp_path / "d", flow, records=100))
    assert sum(e["_deleted"] for e in entities) >= 2
    assert any(i.startswith("~:hubspot-contact:") for e in entities for i in e["$ids"])
    assert all({"_id", "_updated", "_deleted", "$ids"} <= set(e) for e in entities)


def test_people_merged_in_sesam_are_expected_as_ambiguous_on_both_pairs(tmp_path, flow):
    demo = generate(tmp_path / "d", flow, records=100)
    ambiguous = demo.expected.filter(pl.col("status") == "ambiguous_link")
    duplicate = demo.expected.filter(pl.col("status") == "duplicate_id")["source_key"]
    every = ambiguous.filter(~pl.col("pair").str.contains("Address") & ~pl.col("source_key").is_in(duplicate.implode()))
    assert every["pair"].n_unique() == 2 and every.height == 4 * demo.planted["merged_in_sesam"]


def test_parquet_format_keeps_nested_structs(tmp_path, flow):
    demo = generate(tmp_path / "d", flow, records=30, fmt="parquet")
    frame = pl.read_parquet(demo.target / "customer.parquet")
    assert frame.schema["MailAddress"].__class__.__name__ == "Struct"
    assert frame.height == demo.counts["target"]["customer"]


def test_demo_data_command_writes_manifest(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "audit",
            "demo-data",
            "--out",
            str(tmp_path / "demo"),
            "--records",
            "30",
            "--flow",
            str(SEED),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    manifest = json.loads((tmp_path / "demo" / "manifest.json").read_text())
    assert manifest["records_per_entity"] == 30 and manifest["generations"] == {"source": "v1", "target": "v2"}


def test_demo_data_command_rejects_unknown_mode(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "audit",
            "demo-data",
            "--out",
            str(tmp_path / "demo"),
            "--mode",
            "three",
            "--flow",
            str(SEED),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2 and "--mode" not in result.stdout and "two-tenants" in result.stderr
    assert "Traceback" not in result.stderr


def test_committed_demo_snapshot_is_what_the_generator_makes(tmp_path, flow):
    manifest = json.loads((ROOT / "data" / "demo" / "manifest.json").read_text())
    demo = generate(tmp_path / "d", flow, records=manifest["records_per_entity"], seed=manifest["seed"])
    for rel in ["source/customer.jsonl", "target/contactperson.jsonl", "global-person.json", "expected_findings.csv"]:
        assert (demo.out / rel).read_bytes() == (ROOT / "data" / "demo" / rel).read_bytes(), rel
