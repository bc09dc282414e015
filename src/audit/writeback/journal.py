"""The write-back journal: JSON Lines, one event per line, appended and flushed to disk
before the next step, so a crash at any point leaves a journal that says what was done.

Events::

    {"event": "run",    "run_id", "at", "mode", "plan", "plan_hash", "changes"}
    {"event": "sent",   "run_id", "at", "changes": [ids], "tenant", "entity", "record_id",
                        "method", "path", "fields": {field: new}, "before": {field: old},
                        "atomic": true (only when ``before`` was sent as JSON Patch tests)}
    {"event": "result", "run_id", "at", "change": id, "status", "detail", "before",
                        "after", "last_changed_before", "last_changed_after",
                        "address_last_changed_after", "http_status", "spec": {change}}
    {"event": "end",    "run_id", "at", "counts", "tripped"}

A ``sent`` event is written (and fsynced) *before* its request goes out. On resume,
:meth:`Journal.state` folds the lines into the last known status of each change: a change
whose ``sent`` has no ``result`` after it is ``unknown`` (the request went out and no
answer was recorded) and is re-checked by reading the record, never blindly re-sent.

Only values of the planned fields, ids, routes and stamps are written; no header, no
key, no token. Every text passes :func:`audit.systems.http.redaction.redact` as a last guard.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from audit.core import exact_json
from audit.errors import InputError
from audit.systems.http import redaction

__all__ = ["Journal", "DONE", "read_events"]

#: Statuses after which a change is never touched again by apply.
DONE = frozenset({"applied", "noop"})


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def read_events(path: str | Path) -> Iterator[dict[str, Any]]:
    """The events of a journal file, in order. A torn last line (a crash mid-write) is
    ignored; any other line that is not JSON is an error.

    Raises
    ------
    InputError
        The file is missing or holds a damaged line before its end.
    """
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise InputError(f"{path}: no such journal") from None
    for no, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            event = exact_json.loads(line)
        except ValueError:
            if no == len(lines):
                return
            raise InputError(f"{path}:{no}: not a journal line") from None
        if isinstance(event, dict):
            yield event


class Journal:
    """An append-only journal file, safe to share between worker threads.

    Parameters
    ----------
    path : path
        The JSON Lines file; created when missing, appended to otherwise.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.run_id = uuid.uuid4().hex[:12]
        self._lock = threading.Lock()
        self._file = None

    def __enter__(self) -> Journal:
        self._file = open(self.path, "a", encoding="utf-8")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def write(self, event: str, **data: Any) -> None:
        """Append one event and flush it to disk."""
        record = {"event": event, "run_id": self.run_id, "at": _now(), **data}
        text = redaction.redact(exact_json.dumps(record, ensure_ascii=False))
        with self._lock:
            assert self._file is not None, "use the journal as a context manager"
            self._file.write(text + "\n")
            self._file.flush()
            os.fsync(self._file.fileno())

    def state(self) -> dict[str, dict[str, Any]]:
        """The last known status of each change in the file (before this run's lines
        are added): ``{change id: result event}``; ``unknown`` for a ``sent`` with no
        ``result`` after it."""
        return fold(self.path) if self.path.is_file() else {}


def fold(path: str | Path) -> dict[str, dict[str, Any]]:
    """``{change id: last result event}`` of a journal, ``status: unknown`` for changes
    whose request was sent and never answered."""
    state: dict[str, dict[str, Any]] = {}
    for event in read_events(path):
        kind = event.get("event")
        if kind == "sent":
            for cid in event.get("changes", []):
                state[cid] = {
                    **event,
                    "change": cid,
                    "status": "unknown",
                    "detail": "request sent, no answer recorded",
                }
        elif kind == "result" and event.get("change"):
            previous = state.get(event["change"])
            merged = dict(event)
            if previous is not None and "spec" not in merged and "spec" in previous:
                merged["spec"] = previous["spec"]
            state[event["change"]] = merged
    return state
