"""Writing a reviewed plan: the guard, the journal, resume and the circuit breaker.

:func:`apply_plan` groups the plan's changes by record (one read and at most one write per
record), and for each record

1. reads it again (the guard read);
2. per change: ``noop`` when the field already holds the new value; ``conflict`` when the
   record's last-changed stamp (or, for a mail address field, the address's stamp)
   differs from the plan's, or the field no longer holds the plan's old value;
   otherwise the change is written;
3. journals ``sent`` (fsynced), writes the fields that passed in one request (v2 JSON
   Patch, v1 whole object), and journals each change's ``result`` with before and after
   values and the stamps the write produced.

A write whose answer is lost (dropped connection, a 5xx: the server may or may not have
done it) is settled by reading the record again: the new value there means ``applied``;
the old value and the old stamp mean it was not done, and it is sent again (up to
``write_attempts`` times); anything else is a ``conflict``. A crash leaves a ``sent``
with no ``result``; the next run re-checks such a change the same way, and skips changes
the journal already holds as ``applied`` or ``noop``. So nothing is written twice.

The circuit breaker stops the run once more than ``max_failures`` failures or more than
``max_conflicts`` conflicts are recorded (the records not reached are
``not_attempted``), and the run refuses to start when the plan holds more than
``max_changes`` changes.

With ``atomic`` each v2 write also tests, in the same JSON Patch, that the fields still
hold the values the guard read (a compare-and-set, :mod:`audit.writeback.atomic`); v1
changes, which have no such operation, are then ``skipped``.

Without ``dry_run=False`` nothing is written: records are read and each change is
reported as ``would_write``, ``would_conflict`` or ``would_noop``.

One record's guard read, guard and write are :mod:`audit.writeback.write`; the breaker is
:mod:`audit.writeback.breaker`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import replace
from pathlib import Path
from typing import Any

from audit.errors import ConfigError
from audit.writeback.atomic import set_aside_v1
from audit.writeback.breaker import Breaker
from audit.writeback.gateway import RecordGateway
from audit.writeback.journal import DONE, Journal, fold
from audit.writeback.model import Change, Plan
from audit.writeback.outcome import PROBLEM_STATUSES, ApplyResult, Limits, Outcome, same_stamp, same_value
from audit.writeback.sides import handled_units
from audit.writeback.write import RecordWriter

__all__ = [
    "Limits",
    "Outcome",
    "ApplyResult",
    "apply_plan",
    "same_value",
    "same_stamp",
    "PROBLEM_STATUSES",
    "reverse_changes",
]


def apply_plan(
    plan: Plan,
    gateways: Mapping[str, RecordGateway],
    *,
    journal_path: str | None = None,
    dry_run: bool = True,
    approve: str | None = None,
    limits: Limits | None = None,
    mode: str = "apply",
    progress: Callable[[int], None] | None = None,
    side: str | None = None,
    atomic: bool = False,
) -> ApplyResult:
    """Apply (or dry-run) a plan.

    Parameters
    ----------
    plan, gateways
        The reviewed plan; ``{"source": RecordGateway, "target": RecordGateway}`` (a
        tenant the plan does not write may be missing).
    journal_path : str, optional
        The journal (required unless ``dry_run``); appended to, and read first to resume.
    dry_run, approve
        Read and report only (the default); the hash the reviewer approved, required to
        write and equal to ``plan.hash``.
    limits, mode, progress
        The circuit breaker (default: :class:`Limits`); written into the journal (``apply``
        or ``rollback``); called with the number of changes finished after each record.
    side, atomic
        ``source`` or ``target``: only that tenant's changes, a tenant down ends ``skipped``
        (:mod:`audit.writeback.sides`); compare-and-set v2 writes (JSON Patch ``test`` ahead
        of ``replace``) and skip v1 changes (:mod:`audit.writeback.atomic`).

    Raises
    ------
    ConfigError
        The plan changed after review, a real run lacks the approval or a journal, too many
        changes, a tenant without a gateway, a bad ``side`` (exit 2; nothing written).
    AuthError
        The API refused the keys (exit 3; the journal says what was done before).
    """
    limits = limits or Limits()
    _check_run(plan, gateways, journal_path=journal_path, dry_run=dry_run, approve=approve, limits=limits)
    (journal, prior), breaker = _open_journal(journal_path, dry_run), Breaker(limits)
    results, pending = _resume(plan.changes, prior)
    pending, skipped, down = _handled(gateways, pending, side, atomic)
    results.update({o.change.id: o for o in skipped})
    writer = RecordWriter(gateways, journal, prior, limits, dry_run, breaker, atomic)
    _run(plan, journal, mode, results, breaker, lambda: _run_units(pending, writer, limits, results, progress))
    return ApplyResult(
        outcomes=[results[c.id] for c in plan.changes],
        dry_run=dry_run,
        plan_hash=plan.hash,
        journal=str(journal_path) if journal is not None else None,
        tripped=breaker.tripped,
        run_id=journal.run_id if journal is not None else None,
        requests=_requests_sent(gateways),
        unreachable=bool(down) or (bool(pending) and writer.answered == 0),
        down=down,
    )


def _handled(
    gateways: Mapping[str, RecordGateway], pending: list[list[Change]], side: str | None, atomic: bool
) -> tuple[list[list[Change]], list[Outcome], dict[str, str]]:
    """The records this run handles, ``skipped`` outcomes of the others (another side, a
    tenant down, v1 records of an atomic run) and the tenants found down."""
    pending, no_cas = set_aside_v1(pending, gateways, side) if atomic else (pending, [])
    pending, skipped, down = handled_units(gateways, pending, side)
    return pending, skipped + no_cas, down


def _run(
    plan: Plan,
    journal: Journal | None,
    mode: str,
    results: dict[str, Outcome],
    breaker: Breaker,
    run_all: Callable[[], None],
) -> None:
    """Run, between the journal's ``run`` and ``end`` events when there is a journal;
    changes never reached end ``not_attempted`` whatever stops the run."""
    if journal is None:
        try:
            run_all()
        finally:
            _fill_unattempted(plan, results, breaker)
        return
    with journal:
        journal.write("run", mode=mode, plan_hash=plan.hash, changes=len(plan.changes), plan=plan.header.get("path"))
        try:
            run_all()
        finally:
            _fill_unattempted(plan, results, breaker)
            journal.write("end", counts=dict(Counter(o.status for o in results.values())), tripped=breaker.tripped)


def _check_run(
    plan: Plan,
    gateways: Mapping[str, RecordGateway],
    *,
    journal_path: str | None,
    dry_run: bool,
    approve: str | None,
    limits: Limits,
) -> None:
    """Refuse (with :class:`ConfigError`) a run that must not start."""
    if approve is not None and approve.strip().lower() != plan.hash:
        if plan.stored_hash and plan.stored_hash != plan.hash:
            raise ConfigError(
                "the plan's changes no longer match the hash written with them: it changed after review; "
                "nothing written"
            )
        raise ConfigError(
            f"--approve {approve.strip()} does not match the plan's hash; copy the hash the dry run "
            "(`audit writeback apply PLAN`) prints; nothing written"
        )
    if not dry_run and approve is None:
        raise ConfigError(
            "writing needs --approve HASH: review the plan first with a dry run (`audit writeback apply PLAN`), "
            "which prints its hash; nothing written"
        )
    if limits.max_changes is not None and len(plan.changes) > limits.max_changes:
        raise ConfigError(
            f"the plan holds {len(plan.changes)} changes, more than --max-changes {limits.max_changes}; nothing written"
        )
    need = {c.corrected.tenant for c in plan.changes}
    if need - set(gateways):
        raise ConfigError(f"no connection for tenant(s) {', '.join(sorted(need - set(gateways)))}")
    if not dry_run and not journal_path:
        raise ConfigError("writing needs a journal file")


def _units(changes: list[Change]) -> list[list[Change]]:
    """Changes grouped by record, in plan order of each record's first change."""
    units: dict[tuple[str, str, int], list[Change]] = {}
    for c in changes:
        units.setdefault(c.corrected.key, []).append(c)
    return list(units.values())


def _resume(
    changes: list[Change], prior: Mapping[str, dict[str, Any]]
) -> tuple[dict[str, Outcome], list[list[Change]]]:
    """``already_done`` outcomes of the changes an earlier run finished, and the records
    (groups of changes) still to handle."""
    results: dict[str, Outcome] = {}
    pending: list[list[Change]] = []
    for unit in _units(changes):
        done = [c for c in unit if prior.get(c.id, {}).get("status") in DONE]
        for c in done:
            results[c.id] = Outcome(
                c,
                "already_done",
                f"{prior[c.id]['status']} in an earlier run",
                after=prior[c.id].get("after"),
            )
        rest = [c for c in unit if c not in done]
        if rest:
            pending.append(rest)
    return results, pending


def _run_units(
    pending: list[list[Change]],
    writer: RecordWriter,
    limits: Limits,
    results: dict[str, Outcome],
    progress: Callable[[int], None] | None,
) -> None:
    """Hand the records to the workers, at most two per worker queued, and none once the
    breaker has tripped; each outcome goes into ``results``."""
    with ThreadPoolExecutor(max_workers=max(1, limits.workers), thread_name_prefix="writeback") as pool:
        queue = list(reversed(pending))
        running: set[Future] = set()
        while queue or running:
            while queue and len(running) < limits.workers * 2 and writer.breaker.tripped is None:
                running.add(pool.submit(writer.unit, queue.pop()))
            if not running:
                break
            finished, running = wait(running, return_when=FIRST_COMPLETED)
            for fut in finished:
                outcomes = fut.result()  # AuthError propagates and stops the run
                for o in outcomes:
                    results[o.change.id] = o
                if progress:
                    progress(len(outcomes))


def _open_journal(path: str | None, dry_run: bool) -> tuple[Journal | None, dict[str, dict[str, Any]]]:
    """The journal a real run appends to, and what earlier runs recorded in it (a dry run
    only reads the file, when there is one)."""
    if path and not dry_run:
        journal = Journal(path)
        return journal, journal.state()
    return None, fold(path) if path and Path(path).is_file() else {}


def _requests_sent(gateways: Mapping[str, RecordGateway]) -> int:
    """Requests sent through the gateways, a gateway serving both tenants counted once."""
    return sum(g.client.requests_sent for g in {id(g): g for g in gateways.values()}.values())


def _fill_unattempted(plan: Plan, results: dict[str, Outcome], breaker: Breaker) -> None:
    why = f"circuit breaker: {breaker.tripped}" if breaker.tripped else "the run stopped before this record"
    for c in plan.changes:
        if c.id not in results:
            results[c.id] = Outcome(c, "not_attempted", why)


def reverse_changes(state: Mapping[str, dict[str, Any]]) -> list[Change]:
    """The changes that undo a journal's applied ones: old and new value swapped, guarded
    by the stamps our write left (a record changed after our write is a conflict)."""
    out = []
    for cid, event in state.items():
        if event.get("status") != "applied" or "spec" not in event:
            continue
        c = Change.from_dict(event["spec"])
        out.append(
            replace(
                c,
                old_value=c.new_value,
                new_value=c.old_value,
                last_changed=event.get("last_changed_after"),
                address_last_changed=event.get("address_last_changed_after")
                if c.address_last_changed is not None
                else None,
                rule=f"rollback of {cid}",
            )
        )
    return out
