"""A v2 simulator tenant of generated customers, shared by the fetch and write-back benchmarks."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any


def seed_customers(root: Path, n: int, extra: Callable[[int], dict[str, Any]]) -> Path:
    """Write ``root/customer.jsonl``: ``n`` v2 customers (``Id`` 1..n, ``Number``, ``Name``)
    with the fields ``extra(i)`` adds to the i-th; the simulator's snapshot directory."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root / "customer.jsonl", "w", encoding="utf-8") as f:
        for i in range(n):
            rec = {"Id": 1 + i, "Number": 10000 + i, "Name": f"Kunde {i} Ærø", **extra(i)}
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
    return root
