"""``audit suites``: write the suites of flow documents, or find the stale ones."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from audit.core.policy import Policy, load_policy
from audit.errors import ConfigError
from audit.flow.bundled import bundled_flows
from audit.flow.model import Flow
from audit.flow.parser import parse_file
from audit.gx.suites import suite_path, suite_text, write_suites


def _stale(flow: Flow, out: Path, policy: Policy) -> Iterator[Path]:
    """The suite files of ``flow`` under ``out`` that are missing or differ from today's."""
    for pair in flow.pairs:
        path = suite_path(out, flow, pair)
        if not path.is_file() or path.read_text(encoding="utf-8") != suite_text(flow, pair, policy):
            yield path


def refresh_suites(flow_docs: list[Path] | None, out: Path, config: Path | None, check: bool) -> Iterator[Path]:
    """Yield each suite file written, or with ``check`` each stale one (nothing written).

    ``flow_docs`` defaults to every bundled flow (the package's copy of ``data/flows/*.rst``);
    ``config`` is the policy file.
    Paths are yielded as each document is done, so a caller can show progress.
    """
    docs = list(flow_docs or bundled_flows())
    if not docs:
        raise ConfigError("no flow documents: give --flow DOC (the package bundles none)")
    policy = load_policy(config)
    for doc in docs:
        parsed = parse_file(doc)
        yield from (_stale(parsed, out, policy) if check else write_suites(parsed, out, policy))
