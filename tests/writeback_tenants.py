"""Shared set-up of the write-back tests: a demo plan of the PowerOffice Go flow, two
simulated tenants serving it, and an approved apply.

Registered by ``conftest.py``. The demo fixtures are module-scoped: each test module gets
its own demo folder, its tests share it."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
import requests
from poweroffice_fixtures import settings_for

from audit.core.engine import run_audit
from audit.core.snapshot import read_snapshot
from audit.demo.generator import generate
from audit.flow.parser import parse_file
from audit.systems.poweroffice.sim.server import running_simulator
from audit.systems.poweroffice.transport import ApiClient, make_session
from audit.writeback import Limits, Plan, RecordGateway, apply_plan, build_plan

FLOW = Path(__file__).resolve().parents[1] / "data" / "flows" / "powerofficego-powerofficego.rst"


def plan_of(audit, source: Path, target: Path, policy: str, flow_path: Path = FLOW) -> Plan:
    """The write-back plan of an audit result over the snapshots it read."""
    return build_plan(
        audit.findings,
        read_snapshot(source),
        read_snapshot(target),
        summary=audit.summary,
        policy=policy,
        header={"flow": str(flow_path)},
    )


def demo_plan(root: Path, flow, source_api: str, policy: str) -> Plan:
    """Generate a demo (v2 target) under ``root``, audit it and plan its corrections."""
    generate(root, flow, records=40, seed=3, source_api=source_api, target_api="v2")
    result = run_audit(flow, root / "source", root / "target", root / "global-person.json")
    return plan_of(result, root / "source", root / "target", policy)


class Tenants:
    """Two running simulators and gateways to them."""

    def __init__(self, root: Path, plan: Plan, **sim_options):
        self.root, self.plan, self.sim_options = root, plan, sim_options

    def __enter__(self):
        # one stack for both simulators: a target that fails to start stops the source too
        with contextlib.ExitStack() as stack:
            self.source = stack.enter_context(running_simulator(self.root / "source", **self.sim_options))
            self.target = stack.enter_context(running_simulator(self.root / "target", **self.sim_options))
            self._stack = stack.pop_all()
        return self

    def __exit__(self, *exc):
        return self._stack.__exit__(*exc)

    def sim(self, tenant):
        return self.source if tenant == "source" else self.target

    def gateways(self, session_for=None, **overrides):
        out = {}
        for tenant in ("source", "target"):
            sim = self.sim(tenant)
            api = self.plan.header["generations"][tenant][0]
            ep = settings_for(sim, **overrides).endpoint(api)
            session = session_for(tenant) if session_for else None
            out[tenant] = RecordGateway(ApiClient(ep, session=session))
        return out

    def writes(self):
        return self.source.store.writes + self.target.store.writes

    def values(self):
        """Every record of both tenants without last-changed stamps."""

        def strip(node):
            if isinstance(node, dict):
                return {k: strip(v) for k, v in node.items() if k not in ("LastChangedDateTimeOffset", "lastChanged")}
            return node

        return {
            t: {
                e: [strip(r) for r in self.sim(t).store.list(e, "v2")]
                for e in ("customer", "supplier", "contactperson")
            }
            for t in ("source", "target")
        }


def units(plan):
    """The records the plan writes (one write a record)."""
    return len({c.corrected.key for c in plan.changes})


def apply_approved(plan, gateways, journal, **kw):
    """Apply ``plan`` for real, approved by its hash (four workers unless told)."""
    kw.setdefault("limits", Limits(workers=4))
    return apply_plan(plan, gateways, journal_path=str(journal), dry_run=False, approve=plan.hash, **kw)


@pytest.fixture(scope="session")
def po_flow():
    """The PowerOffice Go to PowerOffice Go flow of ``data/flows``."""
    return parse_file(FLOW)


@pytest.fixture(scope="module")
def v2_demo(tmp_path_factory, po_flow):
    """A v2 source and a v2 target; the plan corrects toward the latest change."""
    root = tmp_path_factory.mktemp("wb-v2")
    return root, demo_plan(root, po_flow, "v2", "latest")


@pytest.fixture(scope="module")
def v1_demo(tmp_path_factory, po_flow):
    """A v1 source and a v2 target; the plan corrects the source toward the target."""
    root = tmp_path_factory.mktemp("wb-v1")
    return root, demo_plan(root, po_flow, "v1", "target")


@pytest.fixture(scope="module")
def mixed_demo(tmp_path_factory, po_flow):
    """A v1 source and a v2 target, with changes to both."""
    root = tmp_path_factory.mktemp("wb-mixed")
    plan = demo_plan(root, po_flow, "v1", "latest")
    assert {c.corrected.generation for c in plan.changes} == {"v1", "v2"}
    return root, plan


EDITED = "Edited by a person"


def victim(plan):
    """The demo plan's change of an e-mail address (a v2 field every tenant writes)."""
    return next(c for c in plan.changes if c.field == "EmailAddress")


class RacingSession(requests.Session):
    """Someone else edits the record just before our PATCH of ``path`` goes out: after
    the guard read, before the write."""

    def __init__(self, path, edit):
        super().__init__()
        self.path, self.edit = path, edit
        self.mount("http://", make_session().get_adapter("http://"))

    def request(self, method, url, *args, **kwargs):
        if method.upper() == "PATCH" and url.split("?")[0].endswith(self.path) and self.edit:
            edit, self.edit = self.edit, None
            edit()
        return super().request(method, url, *args, **kwargs)


def race(t, victim, value=EDITED):
    """Gateways whose write of ``victim``'s record meets a concurrent edit of its field."""
    store = t.sim(victim.corrected.tenant).store
    ptr = "/" + victim.field.replace(".", "/")
    ref = victim.corrected

    def edit():
        store.patch_v2(ref.entity, ref.record_id, [{"op": "replace", "path": ptr, "value": value}])

    path = t.gateways()[ref.tenant].route(ref.entity, ref.record_id, ref.parent_id)
    sessions = {ref.tenant: RacingSession(path, edit)}
    return t.gateways(session_for=lambda tenant: sessions.get(tenant) or make_session())
