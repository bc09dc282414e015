"""``audit run``: audit two snapshots against a flow document in a short-lived process."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING

from audit.runs.process import prepare_batch_run

if TYPE_CHECKING:
    from audit.core.engine import AuditResult

#: Makes the context of one audit; it yields the per-step progress callback, or ``None``.
Progress = Callable[[], AbstractContextManager[Callable[[str], None] | None]]


def run_batch(
    flow_doc: Path,
    source: Path,
    target: Path,
    out: Path,
    *,
    links: Path | None = None,
    link_by_id: bool = False,
    config: Path | None = None,
    progress: Progress = nullcontext,
    labels: dict[str, str | None] | None = None,
    expectations: Path | None = None,
) -> AuditResult:
    """Audit ``source`` against ``target`` as ``flow_doc`` says and write the outputs to ``out``.

    The process settings of :func:`prepare_batch_run` are made first, so polars and Great
    Expectations are imported (here, not at module level) after them. ``labels`` name the
    tenants for the run history (:mod:`audit.core.tenant_label`); ``expectations`` is the
    directory of the user's own suites (:mod:`audit.gx.user_suites`).
    """
    prepare_batch_run()
    from audit.core.engine import run_audit, write_outputs
    from audit.core.policy import load_policy
    from audit.flow.parser import parse_file

    parsed = parse_file(flow_doc)
    policy = load_policy(config)
    with progress() as step:
        result = run_audit(
            parsed,
            source,
            target,
            links_dir=links,
            policy=policy,
            progress=step,
            link_by_id=link_by_id,
            labels=labels,
            expectations_dir=expectations,
        )
    write_outputs(result, out)
    return result
