"""The simulator's own field table (``sim/schema.py``) is held to the v2 contract (the DTOs
of the official OpenAPI document), and the client's table (``fields.py``) is held to the
simulator's: a wrong client table fails here, not only when a served record meets it."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest
import yaml

from audit.systems.poweroffice import fields as client
from audit.systems.poweroffice.sim import schema

CONTRACT = Path(__file__).resolve().parents[1] / "src/audit/systems/poweroffice/contract/v2-contract.yaml"
DTO = {"customer": "CustomerDto", "supplier": "SupplierDto", "contactperson": "ContactPersonDto"}
SERVED = ("customer", "supplier", "contactperson")


@cache
def _schemas() -> dict:
    return yaml.safe_load(CONTRACT.read_text(encoding="utf-8"))["components"]["schemas"]


def _dto_paths(name: str, prefix: str = "") -> dict[str, bool]:
    """Every dotted property path of a DTO and whether it is ``readOnly``."""
    out = {}
    for prop, spec in _schemas()[name]["properties"].items():
        ref = spec.get("$ref", "")
        if ref.startswith("#/components/schemas/") and ref.endswith("AddressDto"):
            out.update(_dto_paths(ref.rsplit("/", 1)[1], f"{prefix}{prop}."))
        else:
            out[prefix + prop] = bool(spec.get("readOnly"))
    return out


@pytest.mark.parametrize("entity", SERVED)
def test_every_v2_name_of_the_simulators_table_is_in_the_dto(entity):
    paths = _dto_paths(DTO[entity])
    assert [v2 for _, v2 in schema.PAIRS[entity] if v2 not in paths] == []


@pytest.mark.parametrize("entity", SERVED)
def test_the_simulators_read_only_fields_are_the_dtos(entity):
    paths = _dto_paths(DTO[entity])
    assert schema.READ_ONLY[entity] == {p for p, read_only in paths.items() if read_only}


@pytest.mark.parametrize("entity", SERVED)
def test_the_client_table_agrees_with_the_simulators(entity):
    """Where either table names a field, the other pairs it with the same name or lacks it."""
    sim_v2 = dict(schema.PAIRS[entity])
    sim_v1 = {v2: v1 for v1, v2 in schema.PAIRS[entity]}
    disagree = []
    for v1, v2 in client.FIELDS[entity]:
        if v1 in sim_v2 and sim_v2[v1] != v2:
            disagree.append((v1, v2, "simulator:", sim_v2[v1]))
        elif v2 in sim_v1 and sim_v1[v2] != v1:
            disagree.append((v1, v2, "simulator:", sim_v1[v2]))
    assert disagree == []


def test_the_agreement_check_catches_a_wrong_client_pair(monkeypatch):
    wrong = [("vatNumber", "OrgNumber") if v1 == "vatNumber" else (v1, v2) for v1, v2 in client.FIELDS["customer"]]
    monkeypatch.setitem(client.FIELDS, "customer", wrong)
    with pytest.raises(AssertionError, match="OrgNumber"):
        test_the_client_table_agrees_with_the_simulators("customer")


def test_a_patch_of_a_field_the_dto_marks_read_only_is_refused():
    assert schema.is_read_only("customer", "SubledgerAccountId")
    assert schema.is_read_only("customer", "mailaddress.id")
    assert not schema.is_read_only("contactperson", "IsActive")


def test_conversion_keeps_a_null_mail_address_null_and_cuts_a_date():
    v1 = {"id": 1, "dateOfBirth": "1980-05-17T00:00:00", "mailAddress": None}
    assert schema.convert("customer", v1, "v2") == {"Id": 1, "DateOfBirth": "1980-05-17", "MailAddress": None}
    assert schema.convert("customer", {"DateOfBirth": "1980-05-17"}, "v1") == {"dateOfBirth": "1980-05-17T00:00:00"}
