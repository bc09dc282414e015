"""What the deferred imports of ``audit run`` save: Great Expectations' import, measured in
fresh interpreters, side by side and interleaved (shared machines are noisy: read ratios).

Variants, each importing ``great_expectations.expectations`` as ``audit run`` does:

- ``eager``: no deferral;
- ``placeholder``: ``audit.runs.process`` (placeholders that import on first use);
- ``lazyloader``: the standard library's ``importlib.util.LazyLoader`` for the same modules.

Usage: ``python bench/bench_process.py [--rounds 7]``; prints CPU seconds per variant
(median), the ratio to ``eager``, and whether ``scipy.stats`` was loaded by the import.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys

PROBE = """
import importlib.util, sys, time
mode = sys.argv[1]
start = time.process_time()
if mode == "placeholder":
    from audit.runs.process import DEFERRED_MODULES, _defer
    for name in DEFERRED_MODULES:
        _defer(name)
elif mode == "lazyloader":
    for name in ("scipy.stats", "altair"):
        spec = importlib.util.find_spec(name)
        spec.loader = importlib.util.LazyLoader(spec.loader)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
import great_expectations.expectations  # noqa: F401
print(time.process_time() - start, "scipy.stats._stats_py" in sys.modules)
"""

VARIANTS = ("eager", "placeholder", "lazyloader")


def _once(variant: str) -> tuple[float, bool]:
    out = subprocess.run([sys.executable, "-c", PROBE, variant], capture_output=True, text=True, check=True)
    seconds, loaded = out.stdout.split()
    return float(seconds), loaded == "True"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    times: dict[str, list[float]] = {v: [] for v in VARIANTS}
    loaded: dict[str, bool] = {}
    for _ in range(args.rounds):
        for variant in VARIANTS:
            seconds, loaded[variant] = _once(variant)
            times[variant].append(seconds)
    eager = statistics.median(times["eager"])
    print(f"{'variant':<12} {'CPU s (median)':>15} {'/ eager':>8}  scipy.stats loaded")
    for variant in VARIANTS:
        median = statistics.median(times[variant])
        print(f"{variant:<12} {median:>15.2f} {median / eager:>8.2f}  {loaded[variant]}")


if __name__ == "__main__":
    main()
