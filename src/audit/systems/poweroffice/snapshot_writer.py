"""Writing a snapshot directory safely: built in a hidden temporary sibling of the target
and renamed into place only on :meth:`SnapshotWriter.commit`; a failure removes the
temporary directory and leaves an existing snapshot at the target untouched."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from pathlib import Path
from typing import Any

from audit.core import exact_json
from audit.errors import ConfigError

MANIFEST = "manifest.json"


class SnapshotWriter:
    """Writes a snapshot into a temporary sibling directory and renames it into place.

    Use as a context manager: leaving the block with an exception removes the temporary
    directory; :meth:`commit` writes the manifest and swaps the directory in.
    """

    def __init__(self, out_dir: str | Path):
        self.out_dir = Path(out_dir)
        self._check_target()
        self.tmp_dir = self.out_dir.parent / f".{self.out_dir.name}.partial-{uuid.uuid4().hex[:8]}"
        self._files: dict[str, Any] = {}
        self._seen: dict[str, dict[Any, str]] = {}
        self.counts: dict[str, int] = {}
        self.committed = False

    def _check_target(self) -> None:
        out = self.out_dir
        if out.exists() and not out.is_dir():
            raise ConfigError(f"--out {out}: exists and is not a directory")
        if out.is_dir() and any(out.iterdir()) and not (out / MANIFEST).is_file():
            raise ConfigError(
                f"--out {out}: the directory holds files but no {MANIFEST}; refusing to replace "
                "something that is not a snapshot"
            )
        if not out.parent.is_dir():
            raise ConfigError(f"--out {out}: the parent directory {out.parent} does not exist")

    def __enter__(self) -> SnapshotWriter:
        self.tmp_dir.mkdir()
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self._close_files()
        if not self.committed:
            shutil.rmtree(self.tmp_dir, ignore_errors=True)

    def open_entity(self, entity: str) -> None:
        """Create the entity's file even when no record comes (an empty file is a fact)."""
        if entity not in self._files:
            self._files[entity] = open(self.tmp_dir / f"{entity}.jsonl", "w", encoding="utf-8", newline="\n")
            self._seen[entity] = {}
            self.counts[entity] = 0

    def write(self, entity: str, key: Any, record: dict[str, Any]) -> str | None:
        """Append one record; a repeated ``key`` is skipped. Returns a warning for a
        repeat whose content differs from the first copy, else ``None``."""
        self.open_entity(entity)
        line = exact_json.dumps(record, ensure_ascii=False, separators=(",", ":"))
        digest = hashlib.blake2b(line.encode("utf-8"), digest_size=16).hexdigest()
        seen = self._seen[entity]
        if key in seen:
            if seen[key] != digest:
                return f"{entity} {key}: returned twice with different content; the first copy is kept"
            return None
        seen[key] = digest
        self._files[entity].write(line + "\n")
        self.counts[entity] += 1
        return None

    def write_if_new(self, entity: str, key: Any, record: dict[str, Any]) -> None:
        """Append a record whose ``key`` was not written yet (a base snapshot's record that
        no change replaced); a written ``key`` keeps its record silently."""
        self.open_entity(entity)
        if key not in self._seen[entity]:
            self.write(entity, key, record)

    def _close_files(self) -> None:
        for handle in self._files.values():
            if not handle.closed:
                handle.close()

    def commit(self, manifest: dict[str, Any]) -> None:
        """Write ``manifest.json`` and move the finished snapshot to ``out_dir``."""
        self._close_files()
        for handle in self._files.values():
            with open(handle.name, "rb+") as f:
                os.fsync(f.fileno())
        (self.tmp_dir / MANIFEST).write_text(
            json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        old = None
        if self.out_dir.exists():
            old = self.out_dir.parent / f".{self.out_dir.name}.old-{uuid.uuid4().hex[:8]}"
            os.replace(self.out_dir, old)
        try:
            os.replace(self.tmp_dir, self.out_dir)
        except OSError:
            if old is not None:
                os.replace(old, self.out_dir)
            raise
        self.committed = True
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
