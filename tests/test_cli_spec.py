"""``audit spec`` as scripts call it: JSON, JSON Lines, errors, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from flowdocs import document, section

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "data" / "flows" / "powerofficego-powerofficego.rst"


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "audit", *args], capture_output=True, text=True, cwd=cwd)


def good_doc(tmp_path: Path, name: str = "good.rst") -> Path:
    path = tmp_path / name
    path.write_text(document(sections=[section("Alpha A to Beta B", "Alpha", "A", "Beta", "B")]), encoding="utf-8")
    return path


def test_spec_json_on_the_seed_prints_the_contract_object():
    result = run("spec", str(SEED), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert list(data) == ["title", "source_system", "target_system", "generated", "pairs", "warnings"]
    assert data["title"] == "Powerofficego to PowerOfficeGo Dataflow"
    assert data["generated"] == "2023-08-03T06:00:01"
    assert [p["heading"] for p in data["pairs"]] == [
        "Powerofficego Supplier to PowerOfficeGo Address",
        "Powerofficego Contactperson to PowerOfficeGo Customer",
        "Powerofficego Customer to PowerOfficeGo Contactperson",
    ]
    assert data["pairs"][0]["merge_rules"] == [{"source": "MailAddress.Id", "target": "id"}]
    assert data["pairs"][1]["properties"][0] == {
        "source": "city",
        "target": "mailAddress.city",
        "datatype": "string",
        "datatype_raw": '"string"',
        "conditions": [],
    }


def test_spec_json_with_several_documents_prints_json_lines_in_argument_order(tmp_path):
    first, second = good_doc(tmp_path, "b.rst"), good_doc(tmp_path, "a.rst")
    result = run("spec", str(first), str(SEED), str(second), "--json")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["file"] for line in lines] == [str(first), str(SEED), str(second)]
    assert lines[1]["title"] == "Powerofficego to PowerOfficeGo Dataflow"


def test_a_bad_document_among_several_gives_an_error_line_and_exit_2(tmp_path):
    bad = tmp_path / "bad.rst"
    bad.write_bytes(b"")
    good = good_doc(tmp_path)
    result = run("spec", str(bad), str(good), "--json")
    assert result.returncode == 2
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines[0]["file"] == str(bad) and lines[0]["error"].startswith(f"{bad}:1:")
    assert lines[1]["file"] == str(good) and "pairs" in lines[1]
    assert "Traceback" not in result.stderr and str(bad) in result.stderr


def test_non_utf8_document_exits_2_naming_file_and_line(tmp_path):
    bad = tmp_path / "latin1.rst"
    bad.write_bytes(document(sections=[]).encode() + "Blåbær\n".encode("latin-1"))
    result = run("spec", str(bad))
    assert result.returncode == 2
    line = bad.read_bytes().count(b"\n")
    assert f"{bad}:{line}:" in result.stderr and "not UTF-8" in result.stderr


def test_missing_file_exits_2_with_its_name(tmp_path):
    result = run("spec", str(tmp_path / "nope.rst"))
    assert result.returncode == 2
    assert "nope.rst" in result.stderr and "Traceback" not in result.stderr


def test_readable_summary_names_pairs_and_properties():
    result = run("spec", str(SEED))
    assert result.returncode == 0
    assert "Powerofficego Supplier to PowerOfficeGo Address" in result.stdout
    assert "merge on MailAddress.Id = id" in result.stdout
    assert "lastName" in result.stdout and "LastName" in result.stdout


def test_many_documents_in_one_call_keep_their_order(tmp_path):
    paths = [good_doc(tmp_path, f"d{i:03d}.rst") for i in range(40)]
    result = run("spec", *map(str, paths), "--json")
    assert result.returncode == 0, result.stderr
    assert [json.loads(line)["file"] for line in result.stdout.splitlines()] == list(map(str, paths))


def test_console_script_and_module_agree():
    exe = Path(sys.executable).with_name("audit")
    module = run("spec", str(SEED), "--json")
    script = subprocess.run([str(exe), "spec", str(SEED), "--json"], capture_output=True, text=True)
    assert script.returncode == 0 and script.stdout == module.stdout
