"""``audit writeback plan|apply|rollback|verify`` as a user runs them: subprocesses
against two simulated tenants, with recognisable fake keys that must never leak."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import polars as pl
import pytest
from audit_cli import audit_cli, writeback_plan
from poweroffice_fixtures import subprocess_env

from audit.core.engine import run_audit, write_outputs
from audit.demo.generator import generate
from audit.flow.parser import parse_file
from audit.systems.poweroffice.sim.server import Keys, running_simulator

pytestmark = pytest.mark.usefixtures("po_clean_env")

FLOW = Path(__file__).resolve().parents[1] / "data" / "flows" / "powerofficego-powerofficego.rst"
KEYS = {
    "source": Keys("FAKE-APP-src-7f3a9c", "FAKE-CLIENT-src-51be", "FAKE-SUB-shared-c0ffee"),
    "target": Keys("FAKE-APP-tgt-9d2e11", "FAKE-CLIENT-tgt-7aa0", "FAKE-SUB-shared-c0ffee"),
}
SECRETS = [v for k in KEYS.values() for v in (k.application_key, k.client_key, k.subscription_key)]


@pytest.fixture(scope="module")
def audited(tmp_path_factory):
    root = tmp_path_factory.mktemp("wb-cli")
    flow = parse_file(FLOW)
    generate(root, flow, records=40, seed=3, source_api="v2", target_api="v2")
    write_outputs(run_audit(flow, root / "source", root / "target", root / "global-person.json"), root / "audit")
    return root


@pytest.fixture
def tenants(audited):
    with (
        running_simulator(audited / "source", keys=KEYS["source"]) as s,
        running_simulator(audited / "target", keys=KEYS["target"]) as t,
    ):
        yield s, t


def _env(tenants, **extra):
    s, t = tenants
    env = {"AUDIT_LOG_LEVEL": "DEBUG", "POWEROFFICE_RATE_LIMIT": "500"}
    for name, sim in (("SOURCE", s), ("TARGET", t)):
        keys = KEYS[name.lower()]
        env |= {
            f"POWEROFFICE_{name}_APPLICATION_KEY": keys.application_key,
            f"POWEROFFICE_{name}_CLIENT_KEY": keys.client_key,
            f"POWEROFFICE_{name}_SUBSCRIPTION_KEY": keys.subscription_key,
            f"POWEROFFICE_{name}_V2_URL": sim.v2_url,
        }
    return subprocess_env({**env, **extra})


def _audit(*args, env, cwd):
    return audit_cli("writeback", *args, env=env, cwd=cwd, timeout=120)


def _plan(root, tmp_path, env, *extra):
    plan = tmp_path / "plan.json"
    done = writeback_plan(
        root / "audit", FLOW, root / "source", root / "target", plan, *extra, env=env, cwd=tmp_path, timeout=120
    )
    assert done.returncode == 0, done.stderr
    digest = json.loads(plan.read_text(encoding="utf-8"))["hash"]
    return plan, digest, done


def test_plan_review_apply_verify_and_rollback(audited, tenants, tmp_path):
    s, t = tenants
    env = _env(tenants)
    plan, digest, planned = _plan(audited, tmp_path, env)
    assert f"plan hash: {digest}" in planned.stdout and "MailAddress.City" in planned.stdout
    header = json.loads(plan.read_text(encoding="utf-8"))["header"]
    assert header["policy"] == "latest" and header["counts"]["changes"] >= 8

    dry = _audit("apply", plan, env=env, cwd=tmp_path)
    assert dry.returncode == 0, dry.stderr
    assert "DRY RUN" in dry.stdout and "would_write" in dry.stdout
    assert s.store.writes + t.store.writes == 0

    unapproved = _audit("apply", plan, "--apply", env=env, cwd=tmp_path)
    assert unapproved.returncode == 2 and "--approve" in unapproved.stderr
    assert s.store.writes + t.store.writes == 0

    done = _audit("apply", plan, "--approve", digest, "--apply", "--audit", audited / "audit", env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    journal = tmp_path / "plan.journal.jsonl"
    summary = json.loads((audited / "audit" / "writeback.json").read_text(encoding="utf-8"))
    n = header["counts"]["changes"]
    assert summary["counts"]["applied"] == n and summary["counts"]["verified"] == n
    verification = json.loads((tmp_path / "verification.json").read_text(encoding="utf-8"))
    assert verification["counts"] == {"checked": n, "verified": n, "not_verified": 0}

    again = _audit("verify", journal, "--flow", FLOW, env=env, cwd=tmp_path)
    assert again.returncode == 0 and f"{n}/{n} changes verified" in again.stdout

    writes = s.store.writes + t.store.writes
    dry_back = _audit("rollback", journal, "--atomic", env=env, cwd=tmp_path)
    assert dry_back.returncode == 0, dry_back.stdout + dry_back.stderr
    assert "(--atomic)" in dry_back.stdout and "DRY RUN" in dry_back.stdout
    assert s.store.writes + t.store.writes == writes

    back = _audit("rollback", journal, "--apply", env=env, cwd=tmp_path)
    assert back.returncode == 0, back.stdout + back.stderr
    assert (tmp_path / "plan.journal.rollback.jsonl").is_file()
    gone = _audit("verify", journal, "--flow", FLOW, env=env, cwd=tmp_path)
    assert gone.returncode == 1  # the old drift is back

    texts = [
        plan.read_text(encoding="utf-8"),
        journal.read_text(encoding="utf-8"),
        (tmp_path / "plan.journal.rollback.jsonl").read_text(encoding="utf-8"),
        (audited / "audit" / "writeback.json").read_text(encoding="utf-8"),
    ]
    texts += [p.stdout + p.stderr for p in (planned, dry, unapproved, done, again, back, gone)]
    assert "DEBUG" in done.stderr  # the logs were on
    for secret in SECRETS:
        assert not any(secret in text for text in texts), secret


def test_an_edited_plan_is_refused_with_exit_2(audited, tenants, tmp_path):
    s, t = tenants
    env = _env(tenants)
    plan, digest, _ = _plan(audited, tmp_path, env)
    data = json.loads(plan.read_text(encoding="utf-8"))
    data["changes"][0]["new_value"] = "Somewhere else"
    plan.write_text(json.dumps(data, indent=2), encoding="utf-8")
    done = _audit("apply", plan, "--approve", digest, "--apply", env=env, cwd=tmp_path)
    assert done.returncode == 2 and "changed after review" in done.stderr
    assert s.store.writes + t.store.writes == 0
    assert s.stats()["requests"] + t.stats()["requests"] == 0


def test_plan_max_changes_refuses_and_writes_no_plan(audited, tenants, tmp_path):
    done = _audit(
        "plan",
        "--audit",
        audited / "audit",
        "--flow",
        FLOW,
        "--source",
        audited / "source",
        "--target",
        audited / "target",
        "--out",
        tmp_path / "plan.json",
        "--max-changes",
        "2",
        env=_env(tenants),
        cwd=tmp_path,
    )
    assert done.returncode == 2 and "--max-changes" in done.stderr
    assert not (tmp_path / "plan.json").exists()


def test_conflicts_end_with_exit_1(audited, tenants, tmp_path):
    s, t = tenants
    env = _env(tenants)
    plan, digest, _ = _plan(audited, tmp_path, env, "--policy", "source")
    change = json.loads(plan.read_text(encoding="utf-8"))["changes"][0]
    t.store.patch_v2(
        change["corrected"]["entity"],
        change["corrected"]["record_id"],
        [{"op": "replace", "path": "/PhoneNumber", "value": "40000000"}],
    )
    done = _audit("apply", plan, "--approve", digest, "--apply", env=env, cwd=tmp_path)
    assert done.returncode == 1
    assert "conflict" in done.stdout


@pytest.fixture
def dead_v2_url():
    """A v2 URL on a port of 127.0.0.1 that is bound but not listening: every connection is
    refused, and no other process can take the port while the test runs."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{held.getsockname()[1]}/v2"


def test_an_unreachable_api_ends_with_exit_3(audited, tenants, tmp_path, dead_v2_url):
    env = _env(tenants)
    plan, digest, _ = _plan(audited, tmp_path, env)
    dead = _env(
        tenants,
        POWEROFFICE_TARGET_V2_URL=dead_v2_url,
        POWEROFFICE_SOURCE_V2_URL=dead_v2_url,
        POWEROFFICE_RETRIES="1",
    )
    done = _audit("apply", plan, env=dead, cwd=tmp_path)
    assert done.returncode == 3, done.stdout + done.stderr


def test_refused_keys_end_with_exit_3(audited, tenants, tmp_path):
    env = _env(tenants)
    plan, digest, _ = _plan(audited, tmp_path, env)
    wrong = _env(
        tenants,
        POWEROFFICE_TARGET_CLIENT_KEY="FAKE-WRONG-client-0000",
        POWEROFFICE_SOURCE_CLIENT_KEY="FAKE-WRONG-client-0000",
    )
    done = _audit("apply", plan, env=wrong, cwd=tmp_path)
    assert done.returncode == 3 and "POWEROFFICE_CLIENT_KEY" in done.stderr
    assert "FAKE-WRONG-client-0000" not in done.stdout + done.stderr


def _audited_demo(tmp_path):
    flow = FLOW
    demo = FLOW.parents[1] / "demo"
    out = tmp_path / "audit"
    write_outputs(run_audit(parse_file(flow), demo / "source", demo / "target", demo / "global-person.json"), out)
    return flow, demo, out


def _plan_with_decisions(tmp_path, flow, demo, out, decisions):
    plan = tmp_path / "plan.json"
    return writeback_plan(out, flow, demo / "source", demo / "target", plan, "--decisions", decisions)


def test_decisions_written_by_the_investigate_helper_steer_the_plan(tmp_path):
    from audit.runs.notebook import InvestigateParameters, Investigation
    from audit.writeback import load_plan

    flow, demo, out = _audited_demo(tmp_path)
    inv = Investigation.load(
        InvestigateParameters.check(out=out, flow=flow, source=demo / "source", target=demo / "target")
    )
    path = inv.decisions_template(tmp_path / "decisions.csv", "Contactperson to", "city")
    rows = pl.read_csv(path, infer_schema=False)
    assert rows.height >= 2
    rows = rows.with_columns(
        decision=pl.when(pl.int_range(pl.len()) == 0).then(pl.lit("source")).otherwise(pl.lit("skip"))
    )
    rows.write_csv(path)
    result = _plan_with_decisions(tmp_path, flow, demo, out, path)
    assert result.returncode == 0, result.stderr
    plan = load_plan(tmp_path / "plan.json")
    city = [c for c in plan.changes if c.source_property == "city"]
    assert [c.source_key for c in city] == [rows["source_key"][0]]
    assert city[0].corrected.side == "target" and city[0].rule.startswith("decision: source")
    skipped = {s.source_key for s in plan.skipped if s.source_property == "city"}
    assert skipped == set(rows["source_key"][1:].to_list())


def test_a_bad_decision_names_the_file_and_line(tmp_path):
    from audit.writeback.plan import DECISION_COLUMNS

    flow, demo, out = _audited_demo(tmp_path)
    path = tmp_path / "decisions.csv"
    good = [
        "Powerofficego Contactperson to PowerOfficeGo Customer",
        "5000002",
        "5000002",
        "city",
        "mailAddress.city",
        "Oslo",
        "Hønefoss",
        "skip",
    ]
    path.write_text(
        ",".join(DECISION_COLUMNS) + "\n" + ",".join(good) + "\n" + ",".join(good[:-1] + ["maybe"]) + "\n",
        encoding="utf-8",
    )
    result = _plan_with_decisions(tmp_path, flow, demo, out, path)
    assert result.returncode == 2
    assert f"{path}:3:" in result.stderr and "'maybe'" in result.stderr and "Traceback" not in result.stderr


def test_a_decisions_file_that_is_not_utf8_is_named(tmp_path):
    flow, demo, out = _audited_demo(tmp_path)
    path = tmp_path / "decisions.csv"
    path.write_bytes("pair,decision\nBlåbær,skip\n".encode("latin-1"))
    result = _plan_with_decisions(tmp_path, flow, demo, out, path)
    assert result.returncode == 2 and str(path) in result.stderr and "Traceback" not in result.stderr


def _dead_target(tenants, dead_v2_url):
    return _env(tenants, POWEROFFICE_TARGET_V2_URL=dead_v2_url, POWEROFFICE_RETRIES="2")


def test_one_side_unreachable_skips_its_changes_after_one_token_attempt_and_exits_3(
    audited, tenants, tmp_path, dead_v2_url
):
    s, t = tenants
    plan, digest, _ = _plan(audited, tmp_path, _env(tenants))
    changes = json.loads(plan.read_text(encoding="utf-8"))["changes"]
    n_target = sum(1 for c in changes if c["corrected"]["tenant"] == "target")
    assert 0 < n_target < len(changes)  # the plan corrects both tenants

    done = _audit("apply", plan, env=_dead_target(tenants, dead_v2_url), cwd=tmp_path)

    out = done.stdout + done.stderr
    assert done.returncode == 3, out
    skipped = [ln for ln in done.stdout.splitlines() if ln.strip().startswith("skipped") and " target:" in ln]
    assert len(skipped) == n_target and all(ln.endswith("side unreachable") for ln in skipped)
    assert out.count("got no answer") == 1 and out.count("target tenant unreachable") == 1
    assert "circuit breaker" not in out
    assert s.stats()["requests"] > 0  # the source side was still read


def test_side_applies_one_tenants_changes_only(audited, tenants, tmp_path):
    s, t = tenants
    plan, digest, _ = _plan(audited, tmp_path, _env(tenants))
    done = _audit("apply", plan, "--approve", digest, "--apply", "--side", "source", env=_env(tenants), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert s.store.writes > 0 and t.store.writes == 0
    assert "not this run's side (--side source)" in done.stdout


def test_side_with_the_other_tenant_down_writes_and_says_once_it_cannot_verify(audited, tenants, tmp_path, dead_v2_url):
    s, t = tenants
    plan, digest, _ = _plan(audited, tmp_path, _env(tenants))
    dead = _dead_target(tenants, dead_v2_url)
    done = _audit("apply", plan, "--approve", digest, "--apply", "--side", "source", env=dead, cwd=tmp_path)
    assert done.returncode == 3, done.stdout + done.stderr
    assert s.store.writes > 0 and t.store.writes == 0
    assert done.stderr.count("verification skipped, target tenant unreachable") == 1
    assert "not verified" not in done.stdout


def test_an_unknown_side_is_exit_2(audited, tenants, tmp_path):
    plan, digest, _ = _plan(audited, tmp_path, _env(tenants))
    done = _audit("apply", plan, "--side", "both", env=_env(tenants), cwd=tmp_path)
    assert done.returncode == 2 and "--side 'both'" in done.stderr


def test_atomic_apply_writes_with_compare_and_set_and_verifies(audited, tenants, tmp_path):
    s, t = tenants
    plan, digest, _ = _plan(audited, tmp_path, _env(tenants))
    done = _audit("apply", plan, "--approve", digest, "--apply", "--atomic", env=_env(tenants), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "(--atomic): written" in done.stdout and "verified" in done.stdout
    sent = [json.loads(ln) for ln in (tmp_path / "plan.journal.jsonl").read_text(encoding="utf-8").splitlines()]
    assert all(e.get("atomic") is True for e in sent if e["event"] == "sent")


def test_a_plan_whose_changes_are_not_a_list_is_refused_without_a_traceback(tmp_path):
    path = tmp_path / "plan.json"
    path.write_text(json.dumps({"format": "audit-writeback-plan/1", "header": {}, "changes": {"a": 1}}), "utf-8")
    result = _audit("apply", path, env=subprocess_env({}), cwd=tmp_path)
    assert result.returncode == 2 and str(path) in result.stderr and "Traceback" not in result.stderr


def test_a_malformed_change_in_a_plan_is_named_by_number_and_id(tmp_path):
    path = tmp_path / "plan.json"
    plan = {"format": "audit-writeback-plan/1", "header": {}, "changes": [{"id": "source:customer:1:Name"}]}
    path.write_text(json.dumps(plan), "utf-8")
    result = _audit("apply", path, env=subprocess_env({}), cwd=tmp_path)
    assert result.returncode == 2 and "change 1 ('source:customer:1:Name')" in result.stderr
