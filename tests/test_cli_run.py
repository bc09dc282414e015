"""``audit run`` and ``audit suites`` as a user calls them (subprocess, exit codes, files)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from audit.core.findings import FINDINGS_COLUMNS

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "data" / "flows" / "powerofficego-powerofficego.rst"

# The seed flow's entities: a v1-shaped source tenant ...
V1 = {
    "supplier": [
        {"id": 1, "name": "Lev AS", "mailAddress": {"id": 100, "city": "Oslo", "zipCode": "0150"}},
    ],
    "contactperson": [
        {
            "id": 11,
            "firstName": "Kari",
            "lastName": "Nordmann",
            "emailAddress": "kari@x.no",
            "city": "Oslo",
            "zipCode": "0150",
            "residenceCountryCode": "NO",
            "dateOfBirth": "1985-03-14T00:00:00",
            "lastChanged": "2024-01-01T10:00:00",
        },
    ],
    "customer": [
        {
            "id": 21,
            "firstName": "Ola",
            "lastName": "Hansen",
            "emailAddress": "ola@x.no",
            "dateOfBirth": "1990-01-02T00:00:00",
            "lastChanged": "2024-01-01T10:00:00",
            "mailAddress": {"city": "Bergen", "zipCode": "5003", "countryCode": "NO"},
        },
    ],
}
# ... and a v2-shaped target tenant holding the same data.
V2 = {
    "address": [{"Id": 100, "City": "Oslo", "ZipCode": "0150"}],
    "customer": [
        {
            "Id": 11,
            "FirstName": "Kari",
            "LastName": "Nordmann",
            "EmailAddress": "kari@x.no",
            "DateOfBirth": "1985-03-14",
            "LastChangedDateTimeOffset": "2024-06-01T08:00:00Z",
            "MailAddress": {"City": "Oslo", "ZipCode": "0150", "CountryCode": "NO"},
        },
    ],
    "contactperson": [
        {
            "Id": 21,
            "FirstName": "Ola",
            "LastName": "Hansen",
            "EmailAddress": "ola@x.no",
            "LastChangedDateTimeOffset": "2024-06-01T08:00:00Z",
            "MailAddress": {"City": "Bergen", "ZipCode": "5003", "CountryCode": "NO"},
        },
    ],
}


def _write(directory: Path, tenant: dict) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for entity, recs in tenant.items():
        (directory / f"{entity}.jsonl").write_text(
            "".join(json.dumps(r) + "\n" for r in recs), encoding="utf-8"
        )
    return directory


def _audit(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "audit", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**__import__("os").environ, "PYTHONPATH": str(ROOT / "src")},
        timeout=120,
    )


@pytest.fixture(scope="module")
def drift_run(tmp_path_factory):
    base = tmp_path_factory.mktemp("drift")
    target = json.loads(json.dumps(V2))
    target["customer"][0]["MailAddress"]["ZipCode"] = "150"  # drift
    proc = _audit(
        "run",
        "--link-by-id",
        "--flow",
        str(SEED),
        "--source",
        str(_write(base / "source", V1)),
        "--target",
        str(_write(base / "target", target)),
        "--out",
        str(base / "out"),
    )
    return proc, base / "out"


def test_run_with_drift_exits_1_and_writes_every_output(drift_run):
    proc, out = drift_run
    assert proc.returncode == 1, proc.stderr
    names = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert {"findings.parquet", "findings.csv", "summary.json"} <= names
    assert {n for n in names if n.startswith("gx/")} == {
        "gx/powerofficego-supplier-to-powerofficego-address.json",
        "gx/powerofficego-contactperson-to-powerofficego-customer.json",
        "gx/powerofficego-customer-to-powerofficego-contactperson.json",
    }


def test_run_findings_files_have_exactly_the_contract_columns(drift_run):
    _, out = drift_run
    assert tuple(pl.read_parquet(out / "findings.parquet").columns) == FINDINGS_COLUMNS
    assert (out / "findings.csv").read_text(encoding="utf-8").splitlines()[0] == ",".join(FINDINGS_COLUMNS)


def test_run_findings_are_the_drift_and_the_v2_contact_birth_date(drift_run):
    _, out = drift_run
    rows = set(
        pl.read_csv(out / "findings.csv", infer_schema=False)
        .select("pair", "source_key", "target_key", "source_property", "target_property", "status")
        .rows()
    )
    assert rows == {
        (
            "Powerofficego Contactperson to PowerOfficeGo Customer",
            "11",
            "11",
            "zipCode",
            "mailAddress.zipCode",
            "mismatch",
        ),
        (
            "Powerofficego Customer to PowerOfficeGo Contactperson",
            None,
            None,
            "dateOfBirth",
            "dateOfBirth",
            "unresolved_property",
        ),
        # run from the project folder, the project's own rule (expectations/, four-digit
        # zip codes) is run too: "150" breaks it
        (
            "Powerofficego Contactperson to PowerOfficeGo Customer",
            "11",
            "11",
            None,
            "mailAddress.zipCode",
            "expectation_failed",
        ),
    }


def test_run_summary_has_per_pair_counts_and_success(drift_run):
    proc, out = drift_run
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["success"] is False
    first = summary["pairs"][0]
    assert (first["source_records"], first["target_records"], first["linked"], first["link_method"]) == (
        1,
        1,
        1,
        "merge_rules",
    )
    assert "DRIFT" in proc.stdout and "link merge_rules" in proc.stdout


def test_run_in_sync_exits_0(tmp_path):
    # v2 contact persons have no birth date, so the in-sync target keeps its contact
    # persons in v1 shape (each entity is read in whichever generation it comes)
    v1_contacts = [
        {
            "id": 21,
            "firstName": "Ola",
            "lastName": "Hansen",
            "emailAddress": "ola@x.no",
            "city": "Bergen",
            "zipCode": "5003",
            "residenceCountryCode": "NO",
            "dateOfBirth": "1990-01-02T00:00:00",
            "lastChanged": "2024-03-03T00:00:00",
        }
    ]
    target = _write(tmp_path / "target", {**V2, "contactperson": v1_contacts})
    proc = _audit(
        "run",
        "--link-by-id",
        "--flow",
        str(SEED),
        "--source",
        str(_write(tmp_path / "source", V1)),
        "--target",
        str(target),
        "--out",
        str(tmp_path / "out"),
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json.loads((tmp_path / "out" / "summary.json").read_text())["success"] is True
    assert (tmp_path / "out" / "findings.csv").read_text().splitlines() == [",".join(FINDINGS_COLUMNS)]


def test_run_without_an_entity_file_exits_2_naming_it(tmp_path):
    source = _write(tmp_path / "source", {k: v for k, v in V1.items() if k != "supplier"})
    proc = _audit(
        "run",
        "--link-by-id",
        "--flow",
        str(SEED),
        "--source",
        str(source),
        "--target",
        str(_write(tmp_path / "t", V2)),
        "--out",
        str(tmp_path / "out"),
    )
    assert proc.returncode == 2
    assert "lacks an entity file for 'supplier'" in proc.stderr and "Traceback" not in proc.stderr


def test_run_on_a_non_utf8_line_exits_2_naming_file_and_line(tmp_path):
    source = _write(tmp_path / "source", V1)
    with open(source / "customer.jsonl", "ab") as fh:
        fh.write(b'{"id": 22, "firstName": "\xe6"}\n')
    proc = _audit(
        "run",
        "--link-by-id",
        "--flow",
        str(SEED),
        "--source",
        str(source),
        "--target",
        str(_write(tmp_path / "t", V2)),
        "--out",
        str(tmp_path / "out"),
    )
    assert proc.returncode == 2
    assert "customer.jsonl:2: bytes that are not UTF-8" in proc.stderr


def test_run_with_a_bad_policy_file_exits_2(tmp_path):
    policy = tmp_path / "policy.yaml"
    policy.write_text("normalizers: [upcase]\n", encoding="utf-8")
    proc = _audit(
        "run",
        "--link-by-id",
        "--flow",
        str(SEED),
        "--source",
        str(tmp_path),
        "--target",
        str(tmp_path),
        "--out",
        str(tmp_path / "out"),
        "--config",
        str(policy),
    )
    assert proc.returncode == 2 and "invalid policy" in proc.stderr


def test_suites_regenerates_one_file_per_pair(tmp_path):
    proc = _audit("suites", "--flow", str(SEED), "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in (tmp_path / "powerofficego-powerofficego").glob("*.json")) == [
        "powerofficego-contactperson-to-powerofficego-customer.json",
        "powerofficego-customer-to-powerofficego-contactperson.json",
        "powerofficego-supplier-to-powerofficego-address.json",
    ]


def _unrelated_ids(tenant: dict, offset: int) -> dict:
    """``tenant`` with its customers' and contact persons' ids moved by ``offset``."""
    out = json.loads(json.dumps(tenant))
    for entity in ("customer", "contactperson"):
        for rec in out[entity]:
            key = "Id" if "Id" in rec else "id"
            rec[key] += offset
    return out


def test_run_links_unrelated_ids_through_a_sesam_export(tmp_path):
    target = _write(tmp_path / "target", _unrelated_ids(V2, 9000))
    export = tmp_path / "global-person.json"
    export.write_text(
        json.dumps(
            [
                {"_id": "1", "$ids": ["~:powerofficego-contactperson:11", "~:powerofficego-customer:9011"]},
                {"_id": "2", "$ids": ["~:powerofficego-customer:21", "~:powerofficego-contactperson:9021"]},
            ]
        )
    )
    args = ["--flow", SEED, "--source", _write(tmp_path / "source", V1), "--target", target, "--out", tmp_path / "o"]
    proc = _audit("run", *map(str, args), "--links", str(export))
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    methods = {p["link_method"] for p in summary["pairs"] if p["source_entity"] != "Supplier"}
    assert methods == {"sesam"} and all(p["linked"] == 1 for p in summary["pairs"]), proc.stderr
    assert "missing_in" not in (tmp_path / "o" / "findings.csv").read_text()


def test_run_without_links_on_two_entity_types_exits_2_naming_the_pair_and_the_ways(tmp_path):
    args = ["--flow", SEED, "--source", _write(tmp_path / "s", V1), "--target", _write(tmp_path / "t", V2)]
    proc = _audit("run", *map(str, args), "--out", str(tmp_path / "o"))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "Contactperson -> Customer" in proc.stderr
    assert all(way in proc.stderr for way in ("--links", "contactperson-customer.csv", "--link-by-id", "links: id"))
    assert not (tmp_path / "o" / "summary.json").exists()


def test_links_id_in_the_config_file_allows_id_matching(tmp_path):
    config = tmp_path / "policy.yaml"
    config.write_text("links: id\n")
    args = ["--flow", SEED, "--source", _write(tmp_path / "s", V1), "--target", _write(tmp_path / "t", V2)]
    proc = _audit("run", *map(str, args), "--out", str(tmp_path / "o"), "--config", str(config))
    assert proc.returncode in (0, 1), proc.stderr
    methods = {p["link_method"] for p in json.loads((tmp_path / "o" / "summary.json").read_text())["pairs"]}
    assert methods == {"merge_rules", "id"}


def test_a_pair_linking_under_half_its_records_is_warned_about_naming_the_method(tmp_path):
    target = _write(tmp_path / "t", _unrelated_ids(V2, 9000))
    args = ["--flow", SEED, "--source", _write(tmp_path / "s", V1), "--target", target, "--out", tmp_path / "o"]
    proc = _audit("run", *map(str, args), "--link-by-id")
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert len(summary["warnings"]) == 2 and all("link method id" in w for w in summary["warnings"])
    assert "WARNING:" in proc.stdout and "only 0 of 1 source records" in proc.stdout
    assert proc.stderr.count("audit: warning:") == 2  # each warning once on stderr, after the summary
