"""Benchmark of ``audit fetch`` against the local simulator.

1. Sustained request rate: a many-page fetch of customers and contact persons (the
   contact persons from their one list route: v2 ``GET /ContactPersons``, v1
   ``GET /PartyContactPerson/``) against a simulator limited to R requests in any sliding
   second, with the connector's limiter at 0.9 R (its defaults' share of the documented
   limits). Goal: >= 0.85 R and no 429 at all. A third row turns the client-side limiter off (1000/s) to show what
   leaning on 429s costs.
2. Incremental fetch onto the full snapshot: after a few PATCH edits of customer fields,
   a fetch of customers since the last watermark; records transferred vs records changed
   (goal: equal). With addresses wanted, customers are read in full (an address-only edit
   leaves the customer's stamp alone): that row shows the cost, and that the edits land.

Run: ``PYTHONPATH=src python bench/bench_fetch.py [--rate 20] [--customers 4000]``
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from simulator_tenant import seed_customers

from audit.errors import ApiError
from audit.systems.poweroffice.fetch import fetch_snapshot
from audit.systems.poweroffice.settings import ConnectionSettings
from audit.systems.poweroffice.sim.server import running_simulator
from audit.systems.poweroffice.transport import ApiClient


def seed(root: Path, n: int) -> Path:
    seed_customers(
        root,
        n,
        lambda i: {
            "LastChangedDateTimeOffset": "2024-02-01T10:00:00+00:00",
            "MailAddress": {"Id": 100000 + i, "City": "Ålesund", "ZipCode": f"{i % 10000:04d}"},
        },
    )
    with open(root / "contactperson.jsonl", "w", encoding="utf-8") as f:
        for i in range(n):
            rec = {"Id": 500000 + i, "ContactId": 1 + i, "FirstName": "Åse", "LastName": f"Kontakt {i}",
                   "LastChangedDateTimeOffset": "2024-02-01T10:00:00+00:00"}
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
    return root


#: The client's limiter runs at this share of the server's limit, as its defaults do
#: against PowerOffice's documented limits (9/s against 10/s: ``settings.DEFAULT_RATE``).
CLIENT_SHARE = 0.9


def rate_run(seed_dir: Path, out: Path, api: str, rate: float, client_rate: float, page_size: int) -> dict:
    with running_simulator(seed_dir, rate_limit=rate) as sim:
        settings = ConnectionSettings.from_env(
            environ=sim.env(), dotenv_path=None, rate_limit=client_rate, page_size=page_size
        )
        caller_429 = 0
        records = 0
        started = time.monotonic()
        try:
            result = fetch_snapshot(
                out, api, entities=["customer", "contactperson"], settings=settings, progress=False
            )
            records = sum(result.manifest["counts"].values())
        except ApiError as exc:  # a 429 that got through the retries reaches the caller here
            caller_429 = int("429" in str(exc))
        elapsed = time.monotonic() - started
        stats = sim.stats()
    requests_made = stats["requests"]
    return {
        "run": f"{api} client limiter {client_rate:g}/s",
        "requests": requests_made,
        "seconds": elapsed,
        "req/s": requests_made / elapsed,
        "fraction of R": requests_made / elapsed / rate,
        "429 at server": stats["rate_limited"],
        "429 to caller": caller_429,
        "records": records,
    }


def incremental_run(seed_dir: Path, tmp: Path, rate: float, edits: int, entities: list[str]) -> dict:
    """Edit ``edits`` customers (e-mail and city), then fetch ``entities`` since the
    watermark onto the full snapshot."""
    with running_simulator(seed_dir, rate_limit=rate) as sim:
        settings = ConnectionSettings.from_env(
            environ=sim.env(), dotenv_path=None, rate_limit=rate, page_size=500
        )
        snap = tmp / ("inc-" + "-".join(entities))
        full = fetch_snapshot(snap, "v2", entities=entities, settings=settings, progress=False)
        with ApiClient(settings.endpoint("v2")) as client:
            for k in range(edits):
                client.request(
                    "PATCH",
                    f"/Customers/{1 + k * 37}",
                    json_body=[
                        {"op": "replace", "path": "/EmailAddress", "value": f"k{k}@example.no"},
                        {"op": "replace", "path": "/MailAddress/City", "value": f"Bø {k}"},
                    ],
                    headers={"Content-Type": "application/json-patch+json"},
                )
        sim.reset_stats()
        started = time.monotonic()
        delta = fetch_snapshot(
            snap, "v2", entities=entities, since=full.manifest["watermark"], settings=settings, progress=False
        )
        elapsed = time.monotonic() - started
        stats = sim.stats()
    cities = [json.loads(line)["MailAddress"]["City"] for line in open(snap / "customer.jsonl", encoding="utf-8")]
    return {
        "entities": ",".join(entities),
        "customer read": delta.manifest["read"]["customer"]["mode"],
        "changed": edits,
        "transferred (server)": stats["records_served"].get("customer", 0),
        "snapshot customers": delta.manifest["counts"]["customer"],
        "edits in snapshot": sum(c.startswith("Bø ") for c in cities),
        "requests": stats["requests"],
        "seconds": elapsed,
    }


def table(rows: list[dict]) -> str:
    cols = list(rows[0])
    cells = [[f"{r[c]:.2f}" if isinstance(r[c], float) else str(r[c]) for c in cols] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    lines = ["  ".join(c.rjust(w) for c, w in zip(cols, widths, strict=True))]
    lines += ["  ".join(v.rjust(w) for v, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=20.0, help="simulator rate limit R (requests/s)")
    parser.add_argument("--customers", type=int, default=4000)
    parser.add_argument("--page-size", type=int, default=50)
    parser.add_argument("--edits", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmpname:
        tmp = Path(tmpname)
        seed_dir = seed(tmp / "seed", args.customers)
        rows = [
            rate_run(seed_dir, tmp / "a", "v2", args.rate, args.rate * CLIENT_SHARE, args.page_size),
            rate_run(seed_dir, tmp / "b", "v1", args.rate, args.rate * CLIENT_SHARE, args.page_size),
            rate_run(seed_dir, tmp / "c", "v2", args.rate, 1000.0, args.page_size),
        ]
        print(f"Sustained rate, R = {args.rate:g}/s, {args.customers} customers, PageSize {args.page_size}")
        print(table(rows))
        print()
        inc = incremental_run(seed_dir, tmp, args.rate, args.edits, ["customer"])
        inc_address = incremental_run(seed_dir, tmp, args.rate, args.edits, ["customer", "address"])
        print("Incremental fetch onto the full snapshot after PATCH edits (v2, since = last watermark)")
        print(table([inc, inc_address]))
    ok = all(r["fraction of R"] >= 0.85 and r["429 to caller"] == 0 and r["429 at server"] == 0 for r in rows[:2])
    ok = ok and inc["transferred (server)"] == inc["changed"]
    ok = ok and all(r["edits in snapshot"] == r["changed"] == args.edits for r in (inc, inc_address))
    ok = ok and all(r["snapshot customers"] == args.customers for r in (inc, inc_address))
    print()
    print("goals met" if ok else "goals NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
