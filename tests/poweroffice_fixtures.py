"""Shared fixtures of the connector, fetch and simulator tests: a clean environment, a
small fixture snapshot built inline, and a running simulator on a free port of 127.0.0.1.

Registered by ``conftest.py``; each of those test modules turns ``po_clean_env`` on for
all its tests with ``pytestmark``, so other modules are not affected."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import pytest

from audit.systems.http import redaction
from audit.systems.poweroffice.fetch import fetch_snapshot
from audit.systems.poweroffice.settings import ConnectionSettings
from audit.systems.poweroffice.sim.server import running_simulator

#: A few customers and suppliers with mail addresses, and their contact persons, in v2
#: shape: Norwegian names, zip codes with leading zeros.
CUSTOMERS = [
    {
        "Id": 1,
        "Number": 10001,
        "Name": "Bjørn Ærlig",
        "FirstName": "Bjørn",
        "LastName": "Ærlig",
        "IsPerson": True,
        "EmailAddress": "bjorn@example.no",
        "LastChangedDateTimeOffset": "2024-01-01T10:00:00+00:00",
        "MailAddress": {
            "Id": 501,
            "AddressLine1": "Storgata 1",
            "City": "Oslo",
            "ZipCode": "0150",
            "CountryCode": "NO",
            "LastChangedDateTimeOffset": "2024-01-01T10:00:00+00:00",
        },
    },
    {
        "Id": 2,
        "Number": 10002,
        "Name": "Åse Øvrebø",
        "FirstName": "Åse",
        "LastName": "Øvrebø",
        "IsPerson": True,
        "EmailAddress": None,
        "LastChangedDateTimeOffset": "2024-01-02T10:00:00+00:00",
        "MailAddress": {
            "Id": 502,
            "AddressLine1": "Sjøgata 3",
            "City": "Tromsø",
            "ZipCode": "9008",
            "CountryCode": "NO",
            "LastChangedDateTimeOffset": "2024-01-02T10:00:00+00:00",
        },
    },
    {
        "Id": 4,
        "Number": 10003,
        "Name": "Kjøkkenhagen AS",
        "IsPerson": False,
        "OrganizationNumber": "987654321",
        "LastChangedDateTimeOffset": "2024-01-04T09:30:00.1234567+01:00",
        "MailAddress": {
            "Id": 504,
            "AddressLine1": "Økernveien 9",
            "City": "Oslo",
            "ZipCode": "0001",
            "CountryCode": "NO",
            "LastChangedDateTimeOffset": "2024-01-04T09:30:00+01:00",
        },
    },
]
SUPPLIERS = [
    {
        "Id": 3,
        "Number": 20001,
        "Name": "Fjord Frakt AS",
        "IsPerson": False,
        "LastChangedDateTimeOffset": "2024-01-03T10:00:00+00:00",
        "MailAddress": {
            "Id": 503,
            "AddressLine1": "Bryggen 2",
            "City": "Bergen",
            "ZipCode": "5003",
            "CountryCode": "NO",
            "LastChangedDateTimeOffset": "2024-01-03T10:00:00+00:00",
        },
    },
    {
        "Id": 5,
        "Number": 20002,
        "Name": "Blåbær Import",
        "IsPerson": False,
        "LastChangedDateTimeOffset": "2024-01-05T10:00:00+00:00",
        "MailAddress": None,
    },
]
CONTACT_PERSONS = [
    {
        "Id": 7,
        "ContactId": 1,
        "FirstName": "Kåre",
        "LastName": "Næss",
        "EmailAddress": "kare@example.no",
        "LastChangedDateTimeOffset": "2024-01-01T11:00:00+00:00",
        "MailAddress": {"AddressLine1": "Storgata 1", "City": "Oslo", "ZipCode": "0150", "CountryCode": "NO"},
    },
    {
        "Id": 8,
        "ContactId": 3,
        "FirstName": "Siri",
        "LastName": "Lønnå",
        "LastChangedDateTimeOffset": "2024-01-03T11:00:00+00:00",
        "MailAddress": {"City": "Bergen", "ZipCode": "5003", "CountryCode": "NO"},
    },
    {
        "Id": 9,
        "ContactId": 3,
        "FirstName": "Øystein",
        "LastName": "Håland",
        "LastChangedDateTimeOffset": "2024-01-03T12:00:00+00:00",
        "MailAddress": None,
    },
]

#: PYTHONPATH made absolute while the working directory is still the project's, so that
#: subprocesses started from a test's temporary directory still find the package.
_PYTHONPATH = os.pathsep.join(
    [str(Path(__file__).resolve().parents[1] / "src")]
    + [os.path.abspath(p) for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
)


def subprocess_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The (cleaned) environment for ``python -m audit`` subprocesses, plus ``extra``."""
    return {**os.environ, "PYTHONPATH": _PYTHONPATH, **(extra or {})}


#: A recognisable fake key: it must never show up in logs or command output.
FAKE_SECRET = "FAKE-SECRET-7f3a9c-do-not-log"


def write_snapshot(root: Path, entities: dict[str, list[dict]]) -> Path:
    """Write ``{entity: records}`` as a snapshot directory of JSON Lines files."""
    root.mkdir(parents=True, exist_ok=True)
    for entity, records in entities.items():
        with open(root / f"{entity}.jsonl", "w", encoding="utf-8") as f:
            for record in records:
                f.write(json.dumps(record, ensure_ascii=False) + "\n")
    return root


def many_customers(n: int) -> list[dict]:
    """``n`` generated customers with mail addresses (for paging and benchmarks)."""
    return [
        {
            "Id": 1000 + i,
            "Number": 50000 + i,
            "Name": f"Kunde {i} Ærø",
            "IsPerson": False,
            "LastChangedDateTimeOffset": f"2024-02-01T10:{i // 60 % 60:02d}:{i % 60:02d}+00:00",
            "MailAddress": {
                "Id": 9000 + i,
                "City": "Ålesund",
                "ZipCode": f"{i % 10000:04d}",
                "CountryCode": "NO",
            },
        }
        for i in range(n)
    ]


@pytest.fixture
def po_clean_env(monkeypatch, tmp_path):
    """No POWEROFFICE_* variable and no .env leaks into a test; secrets registry reset."""
    for name in list(os.environ):
        if name.startswith("POWEROFFICE_") or name == "AUDIT_LOG_LEVEL":
            monkeypatch.delenv(name, raising=False)
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    redaction.forget_secrets()
    yield
    redaction.forget_secrets()


@pytest.fixture
def po_seed(tmp_path) -> Path:
    return write_snapshot(
        tmp_path / "seed",
        {"customer": CUSTOMERS, "supplier": SUPPLIERS, "contactperson": CONTACT_PERSONS},
    )


@pytest.fixture
def po_sim(po_seed):
    with running_simulator(po_seed) as s:
        yield s


@pytest.fixture
def po_rec_sim(po_seed):
    """The simulator of ``po_seed``, recording every exchange (``.exchanges()``)."""
    with running_simulator(po_seed, record=True) as s:
        yield s


def settings_for(sim, **overrides) -> ConnectionSettings:
    """Connection settings pointing at ``sim``, with quick retries for tests."""
    values = {"backoff_initial": 0.01, "backoff_max": 0.05, "rate_limit": 1000.0}
    values.update(overrides)
    return ConnectionSettings.from_env(environ=sim.env(), dotenv_path=None, **values)


def fetch_in_pages(sim, out: Path, api: str, **kw):
    """``fetch_snapshot`` of ``sim`` two records a page, so that every list is paged."""
    return fetch_snapshot(out, api, settings=settings_for(sim, page_size=2), progress=False, **kw)


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture
def po_debug_logs(caplog):
    """Capture every log record of the toolkit and of urllib3 at DEBUG."""
    caplog.set_level(logging.DEBUG)
    return caplog
