"""Benchmark of ``audit writeback apply`` against the local simulator.

A v2 tenant of N customers, a plan that corrects one field (``EmailAddress``) on each,
and a simulator limited to R requests in any sliding second with the client's limiter at
0.9 R (its defaults' share of the documented limits). Each guarded write costs three
requests (guard read, PATCH, read back), so the best possible change rate is R/3.
Reported: request rate and change rate, each as a share of its ceiling (goal: >= 0.85),
plus the 429s the server answered (goal: none).

Run: ``PYTHONPATH=src python bench/bench_writeback.py [--rate 10] [--changes 200]``
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from simulator_tenant import seed_customers

from audit.systems.poweroffice.settings import ConnectionSettings
from audit.systems.poweroffice.sim.server import running_simulator
from audit.systems.poweroffice.transport import ApiClient
from audit.writeback import Change, Limits, Plan, RecordGateway, RecordRef, apply_plan

STAMP = "2024-02-01T10:00:00+00:00"


def seed(root: Path, n: int) -> Path:
    return seed_customers(
        root, n, lambda i: {"EmailAddress": f"old{i}@example.no", "LastChangedDateTimeOffset": STAMP}
    )


def plan_for(n: int) -> Plan:
    changes = [
        Change(
            id=f"target:customer:{1 + i}:EmailAddress",
            pair="bench",
            source_key=str(1 + i),
            target_key=str(1 + i),
            source_property="emailAddress",
            target_property="emailAddress",
            corrected=RecordRef("target", "target", "customer", 1 + i, "v2"),
            counterpart=RecordRef("source", "source", "customer", 1 + i, "v2"),
            field="EmailAddress",
            field_v1="emailAddress",
            field_v2="EmailAddress",
            old_value=f"old{i}@example.no",
            new_value=f"new{i}@example.no",
            last_changed=STAMP,
            address_last_changed=None,
            winner="source",
            rule="bench",
        )
        for i in range(n)
    ]
    return Plan(header={"policy": "bench"}, changes=changes)


def run(rate: float, n: int, workers: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        root = seed(Path(tmp) / "seed", n)
        plan = plan_for(n)
        with running_simulator(root, rate_limit=rate) as sim:
            settings = ConnectionSettings.from_env(environ=sim.env(), dotenv_path=None, rate_limit=rate * 0.9)
            gw = RecordGateway(ApiClient(settings.endpoint("v2")))
            gw.client.tokens.get()  # the token call is not part of the write rate
            sim.reset_stats()
            started = time.monotonic()
            result = apply_plan(
                plan,
                {"target": gw},
                journal_path=str(Path(tmp) / "j.jsonl"),
                dry_run=False,
                approve=plan.hash,
                limits=Limits(workers=workers, max_changes=None),
            )
            elapsed = time.monotonic() - started
            stats = sim.stats()
            gw.close()
    answered = stats["requests"]
    applied = result.counts.get("applied", 0)
    return {
        "rate_limit": rate,
        "changes": n,
        "workers": workers,
        "applied": applied,
        "seconds": round(elapsed, 2),
        "requests": answered,
        "server_429": stats["rate_limited"],
        "requests_per_s": round(answered / elapsed, 2),
        "request_share_of_R": round(answered / elapsed / rate, 3),
        "changes_per_s": round(applied / elapsed, 2),
        "change_share_of_R_over_3": round(applied / elapsed / (rate / 3), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rate", type=float, default=10.0, help="R: requests/second (v2's documented limit is 10)"
    )
    parser.add_argument("--changes", type=int, default=200)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    print(json.dumps(run(args.rate, args.changes, args.workers), indent=2))


if __name__ == "__main__":
    main()
