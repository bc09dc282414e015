"""Flow paths resolve against flattened columns: exactly, ignoring case, or by alias."""

from __future__ import annotations

from audit.flow.paths import resolve_path
from audit.flow.profile import SystemProfile, profile_for
from audit.systems.poweroffice import PROFILE as PO


def test_exact_column_name_resolves_exactly():
    assert resolve_path("mailAddress.city", ["id", "mailAddress.city"], "customer").to_dict() == {
        "path": "mailAddress.city",
        "column": "mailAddress.city",
        "via": "exact",
    }


def test_other_casing_resolves_case_insensitively():
    res = resolve_path("LastName", ["id", "lastName"], "contactperson")
    assert (res.column, res.via) == ("lastName", "case")


def test_v1_path_resolves_on_v2_columns_through_the_alias_table():
    res = resolve_path("mailAddress.countryCode", ["Id", "MailAddress.CountryCode"], "customer")
    assert (res.column, res.via) == ("MailAddress.CountryCode", "case")
    res = resolve_path("residenceCountryCode", ["Id", "MailAddress.CountryCode"], "contactperson", profile=PO)
    assert (res.column, res.via) == ("MailAddress.CountryCode", "alias")


def test_last_changed_resolves_to_the_v2_stamp_by_alias():
    res = resolve_path("lastChanged", ["Id", "LastChangedDateTimeOffset"], "customer", profile=PO)
    assert (res.column, res.via) == ("LastChangedDateTimeOffset", "alias")


def test_contact_date_of_birth_is_unresolved_on_v2():
    res = resolve_path("dateOfBirth", ["Id", "FirstName", "MailAddress.City"], "contactperson", profile=PO)
    assert res.column is None and res.via is None and res.unresolved


def test_original_id_cell_stands_for_the_record_id():
    res = resolve_path("$original_id", ["Id", "Name"], "customer", id_column="Id")
    assert (res.column, res.via) == ("Id", "special")


def test_path_on_an_entity_without_records_is_not_reported():
    res = resolve_path("firstName", [], "customer", has_records=False)
    assert res.via == "no_records" and not res.unresolved


def test_unknown_entity_still_resolves_by_case():
    res = resolve_path("Name", ["name"], "project")
    assert (res.column, res.via) == ("name", "case")


def test_without_a_system_profile_there_are_no_aliases():
    res = resolve_path("lastChanged", ["Id", "LastChangedDateTimeOffset"], "customer")
    assert res.unresolved


def test_the_flow_system_name_selects_the_profile_whatever_its_spelling():
    assert profile_for("PowerOfficeGo") is PO and profile_for("Powerofficego") is PO
    assert profile_for("Hubspot").name == "generic" and profile_for("").name == "generic"


def test_a_profile_of_another_system_is_data_only():
    crm = SystemProfile("crm", fields={"person": [("given_name", "FirstName")]})
    res = resolve_path("given_name", ["Id", "FirstName"], "person", profile=crm)
    assert (res.column, res.via) == ("FirstName", "alias")
