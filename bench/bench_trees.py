"""``audit run`` from two source trees, side by side on the same demo tenants.

For a change that must not make the audit slower (a refactor, a dependency bump): check out
the old commit in a worktree and run, from the repository root,

    .venv/bin/python bench/bench_trees.py --before ../old-tree --after . --records 1000000 --rounds 3

Each round runs both trees once, in alternating order, each in a fresh interpreter with
``PYTHONPATH=<tree>/src``; the table gives the median wall time, CPU time (user + system)
and peak memory of each tree, and after/before ratios. Both runs' ``findings.csv`` must be
equal, else the comparison is refused. Demo tenants are cached under ``bench/data/`` as
for ``bench_audit.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from bench_audit import DEFAULT_FLOW, dataset  # noqa: E402

#: Runs one command and prints its CPU seconds and peak memory: a fresh measuring process
#: per run, so the peak is that run's own.
MEASURE = """
import json, resource, subprocess, sys
rc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode
use = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"rc": rc, "cpu": use.ru_utime + use.ru_stime, "peak_mib": use.ru_maxrss / 1024}))
"""


def _run(tree: Path, flow: Path, data: Path, out: Path, extra: list[str]) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(tree / "src")}
    cmd = [sys.executable, "-m", "audit", "run", "--flow", str(flow), "--source", str(data / "source")]
    cmd += ["--target", str(data / "target"), "--out", str(out), *extra]
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", MEASURE, *cmd], env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    result = json.loads(proc.stdout)
    if result["rc"] not in (0, 1):
        raise SystemExit(f"{tree}: audit run exited {result['rc']}\n{proc.stderr}")
    return {"wall": wall, "cpu": result["cpu"], "peak_mib": result["peak_mib"]}


def _same_findings(before: Path, after: Path) -> bool:
    """The two runs' findings rows are equal on the columns both write (a tree may add a
    column, such as ``expectation``, that the other does not know)."""
    import polars as pl

    a, b = (pl.read_csv(p, infer_schema=False) for p in (before, after))
    shared = [c for c in a.columns if c in b.columns]
    return a.select(shared).equals(b.select(shared))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True)
    parser.add_argument("--after", type=Path, required=True)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--flow", type=Path, default=DEFAULT_FLOW)
    parser.add_argument("--data", type=Path, default=BENCH / "data")
    parser.add_argument("--out", type=Path, default=BENCH / "out" / "trees")
    parser.add_argument(
        "--tenants", type=Path, help="a demo directory (source/, target/) to use as it is, instead of the cache"
    )
    parser.add_argument("--before-args", default="", help="extra audit run options of the before tree")
    parser.add_argument("--after-args", default="", help="extra audit run options of the after tree")
    args = parser.parse_args()
    data = args.tenants or dataset(args.records, args.seed, "jsonl", args.flow, args.data)
    for path in sorted(data.rglob("*.jsonl")):
        path.read_bytes()  # both trees meet a warm page cache
    trees = {"before": args.before.resolve(), "after": args.after.resolve()}
    # the demo's Sesam links, unless a tree is told how to link (an older tree: --link-by-id)
    links = ["--links", str(data / "global-person.json")] if (data / "global-person.json").is_file() else []
    extra = {
        "before": args.before_args.split() or links,
        "after": args.after_args.split() or links,
    }
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in trees}
    for round_no in range(args.rounds):
        order = list(trees) if round_no % 2 == 0 else list(reversed(trees))
        for name in order:
            runs[name].append(_run(trees[name], args.flow, data, args.out / name, extra[name]))
            print(f"round {round_no + 1} {name}: {runs[name][-1]['wall']:.1f} s", file=sys.stderr)
    if not _same_findings(args.out / "before" / "findings.csv", args.out / "after" / "findings.csv"):
        raise SystemExit("the two trees' findings.csv differ: not the same audit")
    keys = ("wall", "cpu", "peak_mib")
    med = {n: {k: statistics.median(r[k] for r in rs) for k in keys} for n, rs in runs.items()}
    print(f"records/entity {args.records:,}, {args.rounds} rounds, median; findings.csv equal")
    print(f"{'tree':<8} {'wall s':>8} {'CPU s':>8} {'peak MiB':>9}  rounds (wall s)")
    for name in trees:
        walls = " / ".join(f"{r['wall']:.1f}" for r in runs[name])
        m = med[name]
        print(f"{name:<8} {m['wall']:>8.1f} {m['cpu']:>8.1f} {m['peak_mib']:>9,.0f}  {walls}")
    ratio_wall = med["after"]["wall"] / med["before"]["wall"]
    ratio_cpu = med["after"]["cpu"] / med["before"]["cpu"]
    ratio_mem = med["after"]["peak_mib"] / med["before"]["peak_mib"]
    print(f"after/before: wall {ratio_wall:.2f}, CPU {ratio_cpu:.2f}, peak memory {ratio_mem:.2f}")


if __name__ == "__main__":
    main()
