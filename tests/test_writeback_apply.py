"""The guarded write-back against two simulated tenants (source and target, both v2,
plus a v1 source): apply, re-audit, faults, resume, conflicts, rollback, breaker."""

from __future__ import annotations

import json

import polars as pl
import pytest
import requests
from poweroffice_fixtures import settings_for
from writeback_tenants import Tenants, apply_approved, units

from audit.core.engine import run_audit
from audit.errors import ConfigError
from audit.systems.poweroffice.fetch import fetch_snapshot
from audit.systems.poweroffice.sim.server import Faults
from audit.systems.poweroffice.transport import make_session
from audit.writeback import (
    Limits,
    Plan,
    applied_changes,
    apply_plan,
    load_plan,
    reverse_changes,
    verify_changes,
    write_plan,
)
from audit.writeback.gateway import get_field
from audit.writeback.journal import fold, read_events

pytestmark = pytest.mark.usefixtures("po_clean_env")


# -------------------------------------------------------------------------- the happy path


def test_apply_then_reaudit_leaves_no_mismatch_among_the_applied_changes(v2_demo, po_flow, tmp_path):
    root, plan = v2_demo
    assert len(plan.changes) >= 8 and {c.corrected.side for c in plan.changes} == {"source", "target"}
    with Tenants(root, plan) as t:
        result = apply_approved(plan, t.gateways(), tmp_path / "j.jsonl")
        assert result.counts == {"applied": len(plan.changes)} and result.exit_code == 0
        assert t.writes() == units(plan)
        fetch_snapshot(tmp_path / "after-s", "v2", settings=settings_for(t.source), progress=False)
        fetch_snapshot(tmp_path / "after-t", "v2", settings=settings_for(t.target), progress=False)
    after = run_audit(po_flow, tmp_path / "after-s", tmp_path / "after-t", root / "global-person.json").findings.filter(
        pl.col("status") == "mismatch"
    )
    left = {(r["pair"], r["source_key"], r["source_property"]) for r in after.iter_rows(named=True)}
    assert not left & {(c.pair, c.source_key, c.source_property) for c in plan.changes}


def test_v2_writes_are_json_patches_of_just_the_changed_field(v2_demo, tmp_path):
    root, plan = v2_demo
    with Tenants(root, plan) as t:
        apply_approved(plan, t.gateways(), tmp_path / "j.jsonl")
    sent = [e for e in read_events(tmp_path / "j.jsonl") if e["event"] == "sent"]
    city = next(e for e in sent if any(cid.endswith("MailAddress.City") for cid in e["changes"]))
    assert city["method"] == "PATCH" and list(city["fields"]) == ["MailAddress.City"]


def test_v1_writes_post_the_whole_record_with_the_field_changed(v1_demo, tmp_path):
    root, plan = v1_demo
    customers = [c for c in plan.changes if c.corrected.entity == "customer"]
    assert customers and all(c.corrected.generation == "v1" for c in plan.changes)
    with Tenants(root, plan) as t:
        before = {r["id"]: r for r in t.source.store.list("customer", "v1")}
        result = apply_approved(plan, t.gateways(), tmp_path / "j.jsonl")
        assert result.counts == {"applied": len(plan.changes)}
        by_record: dict[int, list] = {}
        for c in customers:  # one POST a record, with all of its changed fields
            by_record.setdefault(c.corrected.record_id, []).append(c)
        assert t.source.stats()["routes"].get("POST /v1/Customer") == len(by_record)
        for record_id, changes in by_record.items():
            now = t.source.store.get("customer", "v1", record_id)
            assert all(get_field(now, c.field) == c.new_value for c in changes)
            touched = {c.field.split(".")[0] for c in changes} | {"lastChanged"}
            untouched = {k: v for k, v in before[record_id].items() if k not in touched}
            assert {k: now[k] for k in untouched} == untouched


def test_v1_contact_person_writes_post_to_their_party_contact_route(v1_demo, tmp_path):
    # POST /Customer/{parentId}/Contact/ "Creates or updates the specified ContactPerson"
    # (go-api-documentation, docs/api/reference/rest/route_post_customer__parentid__contact_.md)
    root, plan = v1_demo
    contacts = [c for c in plan.changes if c.corrected.entity == "contactperson"]
    assert contacts
    with Tenants(root, plan) as t:
        apply_approved(plan, t.gateways(), tmp_path / "j.jsonl")
        routes = t.source.stats()["routes"]
        for c in contacts:
            assert routes.get(f"POST /v1/Customer/{c.corrected.parent_id}/Contact", 0) >= 1
            assert t.source.store.get("contactperson", "v1", c.corrected.record_id)[c.field] == c.new_value


def test_verify_confirms_the_applied_changes(v2_demo, po_flow, tmp_path):
    root, plan = v2_demo
    with Tenants(root, plan) as t:
        gws = t.gateways()
        apply_approved(plan, gws, tmp_path / "j.jsonl")
        v = verify_changes(applied_changes(tmp_path / "j.jsonl"), gws, po_flow)
    assert v.counts == {"checked": len(plan.changes), "verified": len(plan.changes), "not_verified": 0}


def test_verify_reads_v1_contact_person_counterparts_through_their_party(mixed_demo, po_flow, tmp_path):
    root, plan = mixed_demo
    v1_contact_counterparts = [
        c for c in plan.changes if c.counterpart.entity == "contactperson" and c.counterpart.generation == "v1"
    ]
    assert v1_contact_counterparts, "the demo plan corrects target customers from v1 source contact persons"
    with Tenants(root, plan) as t:
        gws = t.gateways()
        apply_approved(plan, gws, tmp_path / "j.jsonl")
        v = verify_changes(applied_changes(tmp_path / "j.jsonl"), gws, po_flow)
    assert v.counts["not_verified"] == 0 and v.counts["verified"] == len(plan.changes)


def test_a_dry_run_reads_and_writes_nothing(v2_demo, tmp_path):
    root, plan = v2_demo
    with Tenants(root, plan) as t:
        result = apply_plan(plan, t.gateways(), journal_path=str(tmp_path / "j.jsonl"))
        assert t.writes() == 0
        routes = {**t.source.stats()["routes"], **t.target.stats()["routes"]}
        assert not [r for r in routes if r.startswith(("PATCH", "POST /v1/C"))]
    assert result.dry_run and result.counts == {"would_write": len(plan.changes)}
    assert not (tmp_path / "j.jsonl").exists()


# -------------------------------------------------------------------------- guard


def test_an_edit_between_plan_and_apply_is_a_conflict_not_an_overwrite(v2_demo, tmp_path):
    root, plan = v2_demo
    victim = plan.changes[0]
    with Tenants(root, plan) as t:
        store = t.sim(victim.corrected.tenant).store
        ptr = "/" + victim.field.replace(".", "/")
        store.patch_v2(
            victim.corrected.entity,
            victim.corrected.record_id,
            [{"op": "replace", "path": ptr, "value": "Edited by a person"}],
        )
        result = apply_approved(plan, t.gateways(), tmp_path / "j.jsonl")
        now = store.get(victim.corrected.entity, "v2", victim.corrected.record_id)
    outcome = next(o for o in result.outcomes if o.change.id == victim.id)
    assert outcome.status == "conflict" and "changed since the audit" in outcome.detail
    node = now
    for part in victim.field.split("."):
        node = node[part]
    assert node == "Edited by a person"
    assert result.exit_code == 1


def test_an_edit_of_another_field_still_stops_the_write(v2_demo, tmp_path):
    root, plan = v2_demo
    victim = next(c for c in plan.changes if c.field == "EmailAddress")
    with Tenants(root, plan) as t:
        store = t.sim(victim.corrected.tenant).store
        store.patch_v2(
            victim.corrected.entity,
            victim.corrected.record_id,
            [{"op": "replace", "path": "/PhoneNumber", "value": "99999999"}],
        )
        result = apply_approved(plan, t.gateways(), tmp_path / "j.jsonl")
        now = store.get(victim.corrected.entity, "v2", victim.corrected.record_id)
    assert next(o for o in result.outcomes if o.change.id == victim.id).status == "conflict"
    assert now["EmailAddress"] == victim.old_value


# -------------------------------------------------------------------------- faults and resume


def test_faults_lose_nothing_and_write_nothing_twice(v2_demo, tmp_path):
    root, plan = v2_demo
    faults = Faults(error_rate=0.15, drop_rate=0.15, seed=11)
    with Tenants(root, plan, faults=faults) as t:
        # and a 429 for the first write of every record (the API's rate limit answer)
        for c in plan.changes:
            gw_path = "/v2" + t.gateways()[c.corrected.tenant].route(
                c.corrected.entity, c.corrected.record_id, c.corrected.parent_id
            )
            t.sim(c.corrected.tenant).script(
                "PATCH",
                gw_path,
                status=429,
                headers={"Retry-After": "0"},
                body={"statusCode": "429", "message": "Rate limit is exceeded."},
            )
        result = apply_approved(
            plan,
            # faults hit every request (guard read, write, read-back) at random across four
            # workers: 8 attempts left about one run in ten a change failing for good
            t.gateways(max_attempts=20),
            tmp_path / "j.jsonl",
            limits=Limits(workers=4, max_failures=50, write_attempts=20),
        )
        stats = [t.source.stats(), t.target.stats()]
        assert t.writes() == units(plan), [(o.change.id, o.detail) for o in result.outcomes if o.status != "applied"]
    assert sum(s["injected_errors"] for s in stats) > 0 and sum(s["dropped"] for s in stats) > 0
    assert sum(s["status"].get(429, 0) for s in stats) >= units(plan)
    assert result.counts == {"applied": len(plan.changes)}
    patched = sum(n for s in stats for r, n in s["routes"].items() if r.startswith("PATCH"))
    assert patched > 2 * units(plan)  # refused, dropped or failed writes were sent again


class _LosingSession(requests.Session):
    """Delivers every PATCH to the server, then loses the first ``lose`` answers (or
    crashes the process's work with ``crash`` instead)."""

    def __init__(self, lose: int = 0, crash_after: int | None = None):
        super().__init__()
        self.lose, self.crash_after, self.patches = lose, crash_after, 0
        self.mount("http://", make_session().get_adapter("http://"))

    def request(self, method, url, *args, **kwargs):
        response = super().request(method, url, *args, **kwargs)
        if method.upper() == "PATCH" and response.status_code == 200:
            self.patches += 1
            if self.crash_after is not None and self.patches == self.crash_after:
                raise SystemExit("simulated crash after the server applied the write")
            if self.lose > 0:
                self.lose -= 1
                raise requests.ConnectionError("connection reset after the request was sent")
        return response


def test_a_lost_answer_is_settled_by_reading_the_record_back(v2_demo, tmp_path):
    root, plan = v2_demo
    with Tenants(root, plan) as t:
        result = apply_approved(
            plan,
            t.gateways(session_for=lambda tenant: _LosingSession(lose=2)),
            tmp_path / "j.jsonl",
            limits=Limits(workers=1),
        )
        assert t.writes() == units(plan)
    assert result.counts == {"applied": len(plan.changes)}
    assert sum("read back" in o.detail for o in result.outcomes) >= 2


def test_resume_after_a_crash_writes_nothing_twice(v2_demo, tmp_path):
    root, plan = v2_demo
    journal = tmp_path / "j.jsonl"
    with Tenants(root, plan) as t:
        with pytest.raises(SystemExit):
            apply_approved(
                plan,
                t.gateways(session_for=lambda tenant: _LosingSession(crash_after=2)),
                journal,
                limits=Limits(workers=1),
            )
        crashed_writes = t.writes()
        state = fold(journal)
        assert "unknown" in {e["status"] for e in state.values()}
        result = apply_approved(plan, t.gateways(), journal)
        assert t.writes() == units(plan)
    assert crashed_writes >= 2
    statuses = {o.status for o in result.outcomes}
    assert statuses <= {"applied", "already_done"} and "already_done" in statuses
    assert any("earlier run" in o.detail for o in result.outcomes if o.status == "applied")
    again = {o.status for o in _apply_again(plan, root, journal)}
    assert again == {"already_done"}


def _apply_again(plan, root, journal):
    with Tenants(root, plan) as t:
        result = apply_approved(plan, t.gateways(), journal)
        assert t.writes() == 0
    return result.outcomes


# -------------------------------------------------------------------------- rollback


def test_rollback_returns_the_data_to_its_state_before_apply(v2_demo, tmp_path):
    root, plan = v2_demo
    journal = tmp_path / "j.jsonl"
    with Tenants(root, plan) as t:
        before = t.values()
        gws = t.gateways()
        apply_approved(plan, gws, journal)
        assert t.values() != before
        undo = Plan(header={"mode": "rollback"}, changes=reverse_changes(fold(journal)))
        result = apply_approved(undo, gws, tmp_path / "r.jsonl", mode="rollback")
        assert result.counts == {"applied": len(plan.changes)}
        assert t.values() == before


def test_rollback_skips_a_record_changed_after_our_write(v2_demo, tmp_path):
    root, plan = v2_demo
    journal = tmp_path / "j.jsonl"
    victim = next(c for c in plan.changes if c.field == "EmailAddress")
    with Tenants(root, plan) as t:
        gws = t.gateways()
        apply_approved(plan, gws, journal)
        store = t.sim(victim.corrected.tenant).store
        store.patch_v2(
            victim.corrected.entity,
            victim.corrected.record_id,
            [{"op": "replace", "path": "/PhoneNumber", "value": "12345678"}],
        )
        undo = Plan(header={}, changes=reverse_changes(fold(journal)))
        result = apply_approved(undo, gws, tmp_path / "r.jsonl")
        now = store.get(victim.corrected.entity, "v2", victim.corrected.record_id)
    assert next(o for o in result.outcomes if o.change.id == victim.id).status == "conflict"
    assert now["EmailAddress"] == victim.new_value


# -------------------------------------------------------------------------- refusals and breaker


def test_an_edited_plan_is_refused_and_nothing_is_written(v2_demo, tmp_path):
    root, plan = v2_demo
    path = write_plan(plan, tmp_path / "plan.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    data["changes"][0]["new_value"] = "Tampered"
    path.write_text(json.dumps(data), encoding="utf-8")
    with Tenants(root, plan) as t:
        with pytest.raises(ConfigError, match="changed after review"):
            _apply_hash(load_plan(path), t.gateways(), tmp_path / "j.jsonl", plan.hash)
        with pytest.raises(ConfigError, match="--approve"):
            apply_plan(plan, t.gateways(), journal_path=str(tmp_path / "j.jsonl"), dry_run=False)
        assert t.writes() == 0 and t.source.stats()["requests"] == 0 and t.target.stats()["requests"] == 0


def _apply_hash(plan, gateways, journal, approved):
    return apply_plan(plan, gateways, journal_path=str(journal), dry_run=False, approve=approved)


def test_the_breaker_trips_on_conflicts(v2_demo, tmp_path):
    root, plan = v2_demo
    with Tenants(root, plan) as t:
        for c in plan.changes:  # every record changes after the audit
            t.sim(c.corrected.tenant).store.patch_v2(
                c.corrected.entity,
                c.corrected.record_id,
                [{"op": "replace", "path": "/PhoneNumber", "value": "1"}],
            )
        t.source.store.writes = t.target.store.writes = 0
        result = apply_approved(plan, t.gateways(), tmp_path / "j.jsonl", limits=Limits(max_conflicts=2, workers=1))
        assert t.writes() == 0
    assert result.tripped and "3 conflicts" in result.tripped
    assert result.counts["conflict"] == 3
    assert result.counts["not_attempted"] == len(plan.changes) - 3
    assert result.exit_code == 1


def test_the_breaker_trips_on_failures(v2_demo, tmp_path):
    root, plan = v2_demo
    with Tenants(root, plan, fault_rate=1.0) as t:
        gws = t.gateways(max_attempts=1)
        for gw in gws.values():  # tokens first, so the faults hit the records
            gw.client.tokens._token = None
        result = apply_approved(plan, gws, tmp_path / "j.jsonl", limits=Limits(max_failures=1, workers=1))
    assert result.tripped and "failures" in result.tripped
    assert result.counts.get("not_attempted", 0) > 0


def test_a_plan_larger_than_the_maximum_is_refused(v2_demo, tmp_path):
    root, plan = v2_demo
    with Tenants(root, plan) as t:
        with pytest.raises(ConfigError, match="--max-changes"):
            apply_approved(plan, t.gateways(), tmp_path / "j.jsonl", limits=Limits(max_changes=3))
        assert t.source.stats()["requests"] == 0 and t.target.stats()["requests"] == 0
