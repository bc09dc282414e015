"""Usage errors of every command are exit 2 with typer's message, never a traceback or 1."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import typer

from audit import __version__
from audit.cli.app import app, main

ROOT = Path(__file__).resolve().parents[1]
SEED = str(ROOT / "data" / "flows" / "powerofficego-powerofficego.rst")
DEMO = ROOT / "data" / "demo"
RUN_DEMO = ["run", "--flow", SEED, "--source", str(DEMO / "source"), "--target", str(DEMO / "target"), "--link-by-id"]


def _audit(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "audit", *args], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["run"], "Missing option '--flow'"),
        (["bogus"], "No such command 'bogus'"),
        (["run", "--sourc", "x"], "No such option: --sourc"),
        (["demo-data", "--records", "abc"], "Invalid value for '--records'"),
        (["report", "out", "--max-rows", "-1"], "Invalid value for '--max-rows'"),
        (["writeback", "apply"], "Missing argument"),
    ],
)
def test_a_usage_error_exits_2_with_typer_message_and_no_traceback(args, says):
    result = _audit(*args)
    assert result.returncode == 2
    assert says in result.stderr and "Usage: audit" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("command", "says"),
    [
        (["demo-data", "--records", "20", "--out"], "File exists"),
        ([*RUN_DEMO, "--out"], "Not a directory"),
    ],
)
def test_an_out_path_that_is_a_file_exits_2_naming_it(tmp_path, command, says):
    taken = tmp_path / "taken"
    taken.write_text("a file", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "audit", *command, str(taken)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert result.returncode == 2, result.stderr
    assert f"{taken}" in result.stderr and says in result.stderr and "Traceback" not in result.stderr


def test_version_prints_the_package_version():
    result = _audit("--version")
    assert (result.returncode, result.stdout.strip()) == (0, f"audit {__version__}")


def _command_paths(command, path=()):
    """Every command of the ``audit`` tree as its argument path, the root included."""
    yield path
    for name, sub in getattr(command, "commands", {}).items():
        yield from _command_paths(sub, (*path, name))


_COMMANDS = list(_command_paths(typer.main.get_command(app)))


@pytest.mark.parametrize("path", _COMMANDS, ids=[" ".join(p) or "audit" for p in _COMMANDS])
def test_help_pages_show_no_type_for_boolean_flags(path, capsys):
    # typer 0.29's rich panel asks every option for its type, flags included ("--apply <bool>");
    # its plain formatter leaves flags bare, as click does.
    assert main([*path, "--help"]) == 0
    page = capsys.readouterr().out
    assert "--help" in page and "<bool>" not in page


def test_a_flag_pair_is_shown_bare(capsys):
    main(["report", "--help"])
    assert "--data-docs / --no-data-docs  Build" in capsys.readouterr().out
