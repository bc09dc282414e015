"""The policy file: documented default, user overrides, per-property treatment."""

from __future__ import annotations

import pytest
from conftest import pair, prop

from audit.core.policy import default_policy, load_policy, plan_pair
from audit.errors import ConfigError
from audit.flow.profile import GENERIC_SIDES, SideProfiles
from audit.systems.poweroffice import PROFILE

PO = SideProfiles(PROFILE, PROFILE)


def test_last_changed_is_informational_by_default():
    t = default_policy().rule_for("P", "contactperson", "lastChanged", "customer", "lastChanged", PO)
    assert t.mode == "informational"


def test_v2_stamp_matches_the_last_changed_rule_through_the_alias_table():
    t = default_policy().rule_for(
        "P", "customer", "LastChangedDateTimeOffset", "customer", "LastChangedDateTimeOffset", PO
    )
    assert t.mode == "informational"


def test_ordinary_property_is_compared_without_normalizers_by_default():
    t = default_policy().rule_for("P", "customer", "firstName", "customer", "firstName", PO)
    assert (t.mode, t.normalizers) == ("compare", ())


def test_date_of_birth_is_compared_as_a_date():
    assert default_policy().rule_for("P", "contactperson", "dateOfBirth", "customer", "dateOfBirth", PO).date


def test_missing_in_source_does_not_fail_by_default():
    failing = default_policy().fail_on.failing()
    assert "missing_in_source" not in failing and "mismatch" in failing


def test_user_rule_is_added_after_the_defaults_and_wins(tmp_path):
    path = tmp_path / "policy.yaml"
    path.write_text(
        "properties:\n  - path: lastChanged\n    mode: compare\n"
        "  - path: emailAddress\n    normalizers: [trim, casefold]\n",
        encoding="utf-8",
    )
    policy = load_policy(path)
    assert policy.rule_for("P", "customer", "lastChanged", "customer", "lastChanged", PO).mode == "compare"
    assert policy.rule_for("P", "customer", "emailAddress", "customer", "EmailAddress", PO).normalizers == (
        "trim",
        "casefold",
    )
    assert policy.empty_equals_missing is True


def test_user_file_without_inheritance_starts_from_nothing(tmp_path):
    path = tmp_path / "policy.yaml"
    path.write_text("inherit_defaults: false\nempty_equals_missing: false\n", encoding="utf-8")
    policy = load_policy(path)
    assert policy.properties == [] and policy.empty_equals_missing is False


def test_unknown_setting_is_a_config_error_naming_it(tmp_path):
    path = tmp_path / "policy.yaml"
    path.write_text("properties:\n  - path: x\n    mode: sometimes\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"properties\.\d+\.mode"):
        load_policy(path)


def test_id_to_id_in_every_pair_without_merge_rules_is_the_link_key():
    planned = plan_pair(
        pair("Contactperson", "Customer", [prop("id", "id"), prop("firstName", "firstName")]),
        default_policy(),
        PO,
    )
    assert [p.link_key for p in planned] == [True, False]


def test_id_to_id_in_a_merge_rule_pair_is_compared():
    planned = plan_pair(
        pair("Supplier", "Customer", [prop("id", "id")], rules=[("name", "name")]), default_policy(), PO
    )
    assert planned[0].link_key is False


def test_a_system_without_a_profile_has_no_stamps():
    t = default_policy().rule_for("P", "customer", "lastChanged", "customer", "lastChanged", GENERIC_SIDES)
    assert (t.mode, t.rule) == ("compare", None)


def test_stamps_are_compared_when_the_policy_does_not_inherit_the_defaults(tmp_path):
    path = tmp_path / "policy.yaml"
    path.write_text("inherit_defaults: false\n", encoding="utf-8")
    t = load_policy(path).rule_for("P", "customer", "lastChanged", "customer", "LastChangedDateTimeOffset", PO)
    assert t.mode == "compare"


def test_a_stamp_of_one_side_only_makes_the_property_informational():
    sides = SideProfiles(GENERIC_SIDES.source, PROFILE)
    t = default_policy().rule_for("P", "person", "changed", "customer", "LastChangedDateTimeOffset", sides)
    assert (t.mode, t.rule) == ("informational", "lastChanged")


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"zone: Europe/Oslo\nproperties: [\n", r"policy\.yaml:3: not valid YAML: expected the node content"),
        (b"zone: \xff\n", r"policy\.yaml: policy file is not UTF-8 text"),
    ],
)
def test_a_policy_file_that_is_not_yaml_is_named_with_its_line(tmp_path, content, says):
    path = tmp_path / "policy.yaml"
    path.write_bytes(content)
    with pytest.raises(ConfigError, match=says) as caught:
        load_policy(path)
    assert "<unicode string>" not in str(caught.value)
