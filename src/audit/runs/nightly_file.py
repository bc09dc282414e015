"""``audit nightly``: run the jobs of a nightly YAML file."""

from __future__ import annotations

from pathlib import Path

from audit.runs.nightly import NightlyResult, load_config, run_nightly


def run_nightly_file(path: Path, timeout_minutes: float | None = None) -> NightlyResult:
    """Run every job the nightly file at ``path`` lists.

    ``timeout_minutes``, when given, replaces the file's wall-clock limit per job.
    """
    config = load_config(path)
    if timeout_minutes is not None:
        config.timeout_minutes = timeout_minutes
    return run_nightly(config)
