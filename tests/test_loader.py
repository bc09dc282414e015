"""The snapshot loader reads files in the background: one file parses at a time, in the
pairs' order, while the ids of the file before are checked."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import audit.core.snapshot as snapshot
from audit.core.loader import SnapshotLoader
from audit.core.snapshot import read_entity_file
from audit.flow.parser import parse_file

ROOT = Path(__file__).resolve().parents[1]
FLOW = ROOT / "data" / "flows" / "powerofficego-powerofficego.rst"
DEMO = ROOT / "data" / "demo"


def test_files_parse_one_at_a_time_in_pair_order_while_ids_are_checked_beside(monkeypatch):
    flow = parse_file(FLOW)
    parse, check = snapshot.read_jsonl, snapshot.entity_problems
    lock = threading.Lock()
    events: list[tuple[str, str]] = []
    state = {"parsing": 0, "most": 0}

    def parsing(path, file, columns=None):
        with lock:
            state["parsing"] += 1
            state["most"] = max(state["most"], state["parsing"])
            events.append(("parse", Path(file).parent.name + "/" + Path(file).stem, time.monotonic()))
        time.sleep(0.05)  # a second parse, were it let in, would overlap this one
        try:
            return parse(path, file, columns)
        finally:
            with lock:
                state["parsing"] -= 1

    def checking(frame, id_column, file, data):
        time.sleep(0.3)  # the next file's parse starts meanwhile
        with lock:
            events.append(("checked", Path(file).parent.name + "/" + Path(file).stem, time.monotonic()))
        return check(frame, id_column, file, data)

    monkeypatch.setattr(snapshot, "read_jsonl", parsing)
    monkeypatch.setattr(snapshot, "entity_problems", checking)
    loader = SnapshotLoader(flow, DEMO / "source", DEMO / "target")
    try:
        frames = {
            (side, entity): loader.entity(side, entity)
            for pair in flow.pairs
            for side, entity in (("source", pair.source_entity), ("target", pair.target_entity))
        }
    finally:
        loader.close()

    assert state["most"] == 1
    parsed = [name for kind, name, _ in events if kind == "parse"]
    wanted = []
    for pair in flow.pairs:
        for side, entity in (("source", pair.source_entity), ("target", pair.target_entity)):
            name = f"{side}/{snapshot.entity_file_stem(entity)}"
            if name not in wanted:
                wanted.append(name)
    assert parsed == wanted
    when = {(kind, name): at for kind, name, at in events}
    assert when[("parse", wanted[1])] < when[("checked", wanted[0])]  # it did not wait for the check
    for (side, entity), ef in frames.items():
        alone = read_entity_file(DEMO / side / f"{snapshot.entity_file_stem(entity)}.jsonl", entity)
        assert set(ef.frame.columns) <= set(alone.frame.columns)
        assert ef.frame.height == alone.frame.height and ef.problems.duplicates.equals(alone.problems.duplicates)
