"""The two snapshots of a run, their entity files read in the background.

:class:`SnapshotLoader` reads the files in the background, one parsing at a time, in the
order the pairs need them, keeping only the columns the flow's paths resolve to, so that a
pair is audited while the files of the next ones are read.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from audit.core.snapshot import (
    EntityFrame,
    Snapshot,
    entity_file,
    find_id_column,
    read_entity_file,
    read_snapshot,
)
from audit.errors import SnapshotError
from audit.flow.model import Flow, Pair, entity_file_stem
from audit.flow.paths import ColumnCollision, resolve_path
from audit.flow.profile import SystemProfile, profiles_for

__all__ = ["SnapshotLoader"]


def _flow_paths(flow: Flow) -> tuple[str, ...]:
    """Every path the flow names (merge rules, properties, conditions), either side."""
    paths: dict[str, None] = {}
    for pair in flow.pairs:
        for rule in pair.merge_rules:
            paths.update(dict.fromkeys((rule.source, rule.target)))
        for prop in pair.properties:
            paths.update(dict.fromkeys((prop.source, prop.target, *(c.path for c in prop.conditions))))
    return tuple(paths)


def _needed_columns(
    stem: str, paths: tuple[str, ...], profile: SystemProfile
) -> Callable[[list[str]], set[str | None]]:
    """A column chooser for :func:`~audit.core.snapshot.read_entity_file`: the columns any of
    ``paths`` resolves to in an entity file (the reader keeps the id column too).

    The audit of a pair never looks at another column, and each path resolves against the
    kept columns exactly as against all of them (the column it found is kept, in its
    place, and the others it passed over were not matches), so dropping the rest while
    reading changes no result and saves converting and holding most of a wide entity.
    """

    def choose(columns: list[str]) -> set[str | None]:
        id_column = find_id_column(columns)
        out: set[str | None] = set()
        for path in paths:
            try:
                out.add(resolve_path(path, columns, stem, id_column, profile=profile).column)
            except ColumnCollision as exc:  # kept, so the audit names them (audit.core.binding)
                out.update(exc.columns)
        return out

    return choose


def _sides(pair: Pair) -> tuple[tuple[str, str], tuple[str, str]]:
    """``(side, entity)`` of the pair's source and target."""
    return ("source", pair.source_entity), ("target", pair.target_entity)


class SnapshotLoader:
    """The two snapshots of a run, their files read on a background thread in the order
    the pairs need them, so a pair is audited while the files of the next ones are read.

    Reading is native pyarrow work and auditing a pair mostly native polars work; both
    release the interpreter, so the two overlap on separate cores. The outcome is that of
    reading both snapshots first, file by file: when anything fails, :meth:`raise_read_error`
    replays that sequential read (using the files already read, reading again those
    already let go) and raises the error it would have met first. A file is let go
    (:meth:`release`) once no later pair reads it.
    """

    def __init__(self, flow: Flow, source: Snapshot | str | Path, target: Snapshot | str | Path) -> None:
        self._inputs = {"source": source, "target": target}
        self._entities = {
            "source": [p.source_entity for p in flow.pairs],
            "target": [p.target_entity for p in flow.pairs],
        }
        self._paths = _flow_paths(flow)
        self._profiles = profiles_for(flow.source_system, flow.target_system)._asdict()
        self._futures: dict[tuple[str, str], Future] = {}
        # Two threads, one parsing at a time: a file's ids are checked (single-threaded work)
        # while the next file is parsed (pyarrow's threads), in the pairs' order.
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="audit-read")
        self._parsing = threading.Lock()
        for pair in flow.pairs:
            for side, entity in _sides(pair):
                self._submit(side, entity)

    def _file(self, side: str, entity: str) -> Path | None:
        """The file of ``entity`` on ``side``; ``None`` for an in-memory snapshot or a missing
        file (whose error the sequential replay raises in order)."""
        snap = self._inputs[side]
        if isinstance(snap, Snapshot):
            return None
        try:
            return entity_file(snap, entity_file_stem(entity))
        except SnapshotError:
            return None

    def _submit(self, side: str, entity: str) -> None:
        path = self._file(side, entity)
        if path is None:
            return
        key = (side, str(path))
        if key not in self._futures:
            self._futures[key] = self._pool.submit(self._read_needed, path, entity_file_stem(entity), side)

    def _read_needed(self, path: Path, stem: str, side: str) -> EntityFrame:
        columns = _needed_columns(stem, self._paths, self._profiles[side])
        return read_entity_file(path, stem, columns=columns, parsing=self._parsing)

    def release(self, pairs_left: list[Pair]) -> None:
        """Let go of the files no pair in ``pairs_left`` reads (their memory is reused by the
        next files; an error replay reads a released file again)."""
        keep = set()
        for pair in pairs_left:
            for side, entity in _sides(pair):
                path = self._file(side, entity)
                if path is not None:
                    keep.add((side, str(path)))
        for key in [k for k, f in self._futures.items() if k not in keep and f.done()]:
            del self._futures[key]

    def entity(self, side: str, name: str) -> EntityFrame:
        """The frame of entity ``name`` on ``side`` (``source`` or ``target``)."""
        snap = self._inputs[side]
        if isinstance(snap, Snapshot):
            return snap.entity(name)
        path = entity_file(snap, entity_file_stem(name))
        future = self._futures.get((side, str(path)))
        return future.result() if future is not None else read_entity_file(path, entity_file_stem(name))

    def _read(self, side: str) -> Callable[[Path, str], EntityFrame]:
        def read(path: Path, stem: str) -> EntityFrame:
            future = self._futures.get((side, str(path)))
            if future is not None and not future.cancelled():
                return future.result()
            return read_entity_file(path, stem)

        return read

    def snapshots(self) -> tuple[Snapshot, Snapshot]:
        """Both snapshots, as :func:`~audit.core.snapshot.read_snapshot` gives them."""
        out = []
        for side in ("source", "target"):
            snap = self._inputs[side]
            if not isinstance(snap, Snapshot):
                snap = read_snapshot(snap, self._entities[side], read=self._read(side))
            out.append(snap)
        return out[0], out[1]

    def raise_read_error(self) -> None:
        """Raise the error reading both snapshots in order would have raised, if any."""
        self.close()
        self.snapshots()

    def close(self) -> None:
        """Stop reading files not started yet and wait for the one being read."""
        self._pool.shutdown(wait=True, cancel_futures=True)
