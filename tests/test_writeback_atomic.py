"""``audit writeback apply --atomic``: v2 writes test the values the guard read (JSON
Patch ``test`` ahead of ``replace``), a value changed between guard read and write is a
``conflict`` and stays as the other writer left it, and v1 changes are skipped."""

from __future__ import annotations

import json

import pytest
from writeback_tenants import EDITED, Tenants, apply_approved, units
from writeback_tenants import race as _race
from writeback_tenants import victim as _victim

from audit.errors import ConfigError
from audit.writeback import Limits, apply_plan, write_plan
from audit.writeback.atomic import V1_REASON
from audit.writeback.commands import apply_reviewed_plan
from audit.writeback.journal import fold, read_events

pytestmark = pytest.mark.usefixtures("po_clean_env")


def _atomic(plan, gateways, journal, **kw):
    return apply_approved(plan, gateways, journal, atomic=True, **kw)


def _patches(t):
    """The JSON Patch bodies the two tenants received."""
    exchanges = t.source.exchanges() + t.target.exchanges()
    return [json.loads(e.body) for e in exchanges if e.method == "PATCH"]


def _field(record, path):
    for part in path.split("."):
        record = (record or {}).get(part)
    return record


# -------------------------------------------------------------------------- (a) applies


def test_an_atomic_apply_writes_every_change_when_nothing_changed_in_between(v2_demo, tmp_path):
    root, plan = v2_demo
    with Tenants(root, plan) as t:
        result = _atomic(plan, t.gateways(), tmp_path / "j.jsonl")
        assert t.writes() == units(plan)
    assert result.counts == {"applied": len(plan.changes)}


def test_an_atomic_write_is_journaled_as_atomic(v2_demo, tmp_path):
    root, plan = v2_demo
    with Tenants(root, plan) as t:
        _atomic(plan, t.gateways(), tmp_path / "j.jsonl")
    sent = [e for e in read_events(tmp_path / "j.jsonl") if e["event"] == "sent"]
    assert sent and all(e.get("atomic") is True for e in sent)


# -------------------------------------------------------------------------- (b) a race


def test_a_value_changed_between_guard_read_and_write_is_a_conflict(v2_demo, tmp_path):
    root, plan = v2_demo
    victim = _victim(plan)
    with Tenants(root, plan) as t:
        result = _atomic(plan, _race(t, victim), tmp_path / "j.jsonl", limits=Limits(workers=1))
    outcome = next(o for o in result.outcomes if o.change.id == victim.id)
    assert outcome.status == "conflict" and outcome.http_status == 400


def test_a_failed_test_leaves_the_record_as_the_other_writer_left_it(v2_demo, tmp_path):
    root, plan = v2_demo
    victim = _victim(plan)
    with Tenants(root, plan) as t:
        _atomic(plan, _race(t, victim), tmp_path / "j.jsonl", limits=Limits(workers=1))
        now = t.sim(victim.corrected.tenant).store.get(victim.corrected.entity, "v2", victim.corrected.record_id)
    assert _field(now, victim.field) == EDITED


def test_a_failed_test_is_journaled_with_the_apis_message(v2_demo, tmp_path):
    root, plan = v2_demo
    victim = _victim(plan)
    with Tenants(root, plan) as t:
        _atomic(plan, _race(t, victim), tmp_path / "j.jsonl", limits=Limits(workers=1))
    event = fold(tmp_path / "j.jsonl")[victim.id]
    assert event["status"] == "conflict"
    assert "test operation failed" in event["detail"] and EDITED in event["detail"]  # the simulator's Detail


def test_a_failed_test_is_not_sent_again(v2_demo, tmp_path):
    root, plan = v2_demo
    victim = _victim(plan)
    with Tenants(root, plan) as t:
        _atomic(plan, _race(t, victim), tmp_path / "j.jsonl", limits=Limits(workers=1))
    sent = [e for e in read_events(tmp_path / "j.jsonl") if e["event"] == "sent" and victim.id in e["changes"]]
    assert len(sent) == 1


def test_without_atomic_the_same_race_overwrites_the_other_writer(v2_demo, tmp_path):
    root, plan = v2_demo
    victim = _victim(plan)
    with Tenants(root, plan) as t:
        result = apply_approved(plan, _race(t, victim), tmp_path / "j.jsonl", limits=Limits(workers=1))
        now = t.sim(victim.corrected.tenant).store.get(victim.corrected.entity, "v2", victim.corrected.record_id)
    assert next(o for o in result.outcomes if o.change.id == victim.id).status == "applied"
    assert _field(now, victim.field) == victim.new_value  # the lost update --atomic prevents


def test_a_refused_atomic_write_whose_values_still_hold_is_failed_not_conflict(v2_demo, tmp_path):
    root, plan = v2_demo
    victim = _victim(plan)
    problem = {"Type": "about:blank", "Title": "Customer validation error(s)", "Status": 400, "Detail": "Låst"}
    with Tenants(root, plan) as t:
        ref = victim.corrected
        path = "/v2" + t.gateways()[ref.tenant].route(ref.entity, ref.record_id, ref.parent_id)
        t.sim(ref.tenant).script("PATCH", path, status=400, body=problem)
        _atomic(plan, t.gateways(), tmp_path / "j.jsonl", limits=Limits(workers=1, max_failures=100))
    event = fold(tmp_path / "j.jsonl")[victim.id]
    assert event["status"] == "failed" and "Låst" in event["detail"] and "tested values still hold" in event["detail"]


# -------------------------------------------------------------------------- (c) the requests


def test_atomic_patches_test_every_field_before_replacing_it(v2_demo, tmp_path):
    root, plan = v2_demo
    with Tenants(root, plan, record=True) as t:
        _atomic(plan, t.gateways(), tmp_path / "j.jsonl")
        patches = _patches(t)
    assert len(patches) == units(plan)
    for ops in patches:
        kinds = [op["op"] for op in ops]
        n = kinds.count("test")
        assert n and kinds == ["test"] * n + ["replace"] * n
        assert [op["path"] for op in ops[:n]] == [op["path"] for op in ops[n:]]


def test_atomic_tests_carry_the_values_the_guard_read(v2_demo, tmp_path):
    root, plan = v2_demo
    with Tenants(root, plan, record=True) as t:
        _atomic(plan, t.gateways(), tmp_path / "j.jsonl")
        patches = _patches(t)
    sent = [e for e in read_events(tmp_path / "j.jsonl") if e["event"] == "sent"]
    tested = sorted(json.dumps([op["path"], op["value"]]) for ops in patches for op in ops if op["op"] == "test")
    before = sorted(json.dumps(["/" + f.replace(".", "/"), v]) for e in sent for f, v in e["before"].items())
    assert tested == before


def test_without_atomic_patches_carry_no_test(v2_demo, tmp_path):
    root, plan = v2_demo
    with Tenants(root, plan, record=True) as t:
        apply_approved(plan, t.gateways(), tmp_path / "j.jsonl")
        patches = _patches(t)
    assert patches and all(op["op"] == "replace" for ops in patches for op in ops)


# -------------------------------------------------------------------------- (d) v1


def test_atomic_skips_v1_changes_with_the_reason_and_writes_the_v2_ones(mixed_demo, tmp_path):
    root, plan = mixed_demo
    with Tenants(root, plan) as t:
        result = _atomic(plan, t.gateways(), tmp_path / "j.jsonl")
        posts = [r for r in t.source.stats()["routes"] if r.startswith("POST /v1/")]
    by_gen = {o.change.corrected.generation: set() for o in result.outcomes}
    for o in result.outcomes:
        by_gen[o.change.corrected.generation].add((o.status, o.detail if o.status == "skipped" else ""))
    assert by_gen["v1"] == {("skipped", V1_REASON)} and {s for s, _ in by_gen["v2"]} == {"applied"}
    assert posts == []


def test_v1_changes_skipped_by_atomic_are_written_by_a_later_run_without_it(mixed_demo, tmp_path):
    root, plan = mixed_demo
    v1 = [c for c in plan.changes if c.corrected.generation == "v1"]
    with Tenants(root, plan) as t:
        _atomic(plan, t.gateways(), tmp_path / "j.jsonl")
        again = apply_approved(plan, t.gateways(), tmp_path / "j.jsonl")
    assert {o.status for o in again.outcomes if o.change in v1} == {"applied"}


def test_an_atomic_dry_run_shows_v1_changes_skipped(mixed_demo, tmp_path):
    root, plan = mixed_demo
    with Tenants(root, plan) as t:
        result = apply_plan(plan, t.gateways(), atomic=True)
    statuses = {(o.change.corrected.generation, o.status) for o in result.outcomes}
    assert statuses == {("v1", "skipped"), ("v2", "would_write")}


class _Report:
    def __init__(self):
        self.warnings = []

    def warning(self, message):
        self.warnings.append(message)

    def writeback_outcomes(self, result, title):
        self.title = title

    def writeback_verification(self, verification, path):
        pass

    def info(self, message):
        pass


def _tenants_env(t, tmp_path, monkeypatch):
    """The two tenants' settings in the environment, as the CLI reads them."""
    for tenant in ("source", "target"):
        for name, value in t.sim(tenant).env().items():
            monkeypatch.setenv(name.replace("POWEROFFICE_", f"POWEROFFICE_{tenant.upper()}_"), value)
    monkeypatch.chdir(tmp_path)  # no .env


def _dry_run_command(t, plan, tmp_path, monkeypatch, **kw):
    """``audit writeback apply PLAN --atomic`` (a dry run) in this process."""
    _tenants_env(t, tmp_path, monkeypatch)
    write_plan(plan, tmp_path / "plan.json")
    report = _Report()
    apply_reviewed_plan(
        tmp_path / "plan.json",
        approve=None,
        do_apply=False,
        journal=None,
        limits=Limits(),
        overrides={},
        report=report,
        **kw,
    )
    return report


def test_atomic_warns_once_when_it_meets_v1_changes(mixed_demo, tmp_path, monkeypatch):
    root, plan = mixed_demo
    with Tenants(root, plan) as t:
        report = _dry_run_command(t, plan, tmp_path, monkeypatch, atomic=True)
    n = sum(c.corrected.generation == "v1" for c in plan.changes)
    assert len(report.warnings) == 1 and f"{n} change(s) of the v1 source tenant skipped" in report.warnings[0]


def test_atomic_gives_no_warning_without_v1_changes(v2_demo, tmp_path, monkeypatch):
    root, plan = v2_demo
    with Tenants(root, plan) as t:
        report = _dry_run_command(t, plan, tmp_path, monkeypatch, atomic=True)
    assert report.warnings == [] and report.title.endswith("(--atomic)")


def test_a_v1_gateway_refuses_a_compare_and_set(mixed_demo):
    root, plan = mixed_demo
    c = next(c for c in plan.changes if c.corrected.generation == "v1" and c.corrected.entity == "customer")
    with Tenants(root, plan) as t, pytest.raises(ConfigError, match="no compare-and-set"):
        gw = t.gateways()["source"]
        gw.write("customer", c.corrected.record_id, None, {c.field: c.new_value}, {}, expect={c.field: c.old_value})


# -------------------------------------------------------------------------- (e) rollback


def test_an_atomic_rollback_leaves_a_field_edited_during_it_as_the_other_writer_left_it(v2_demo, tmp_path):
    from audit.writeback import Plan, reverse_changes

    root, plan = v2_demo
    with Tenants(root, plan) as t:
        apply_approved(plan, t.gateways(), tmp_path / "j.jsonl")
        undo = Plan(header={"mode": "rollback"}, changes=reverse_changes(fold(tmp_path / "j.jsonl")))
        victim = _victim(undo)
        result = _atomic(undo, _race(t, victim), tmp_path / "r.jsonl", mode="rollback", limits=Limits(workers=1))
        ref = victim.corrected
        now = t.sim(ref.tenant).store.get(ref.entity, "v2", ref.record_id)
    outcome = next(o for o in result.outcomes if o.change.id == victim.id)
    assert outcome.status == "conflict"
    assert _field(now, victim.field) == EDITED
    assert result.counts["applied"] == len(undo.changes) - 1


def test_an_atomic_rollback_skips_v1_changes_and_says_to_run_the_rollback_again(mixed_demo, tmp_path, monkeypatch):
    from audit.writeback.commands import rollback_applied

    root, plan = mixed_demo
    with Tenants(root, plan) as t:
        apply_approved(plan, t.gateways(), tmp_path / "j.jsonl")
        _tenants_env(t, tmp_path, monkeypatch)
        report = _Report()
        result = rollback_applied(
            tmp_path / "j.jsonl",
            do_apply=False,
            rollback_path=None,
            limits=Limits(),
            overrides={},
            atomic=True,
            report=report,
        )
    statuses = {(o.change.corrected.generation, o.status) for o in result.outcomes}
    assert statuses == {("v1", "skipped"), ("v2", "would_write")}
    (warning,) = report.warnings
    assert "run rollback again without --atomic" in warning
    assert report.title == f"rollback {tmp_path / 'j.jsonl'} (--atomic)"  # the outcomes, under their title
