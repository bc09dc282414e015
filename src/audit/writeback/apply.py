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

Without ``dry_run=False`` nothing is written: records are read and each change is
reported as ``would_write``, ``would_conflict`` or ``would_noop``.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import replace
from typing import Any

from audit.errors import AuthError, ConfigError, ExternalError
from audit.systems.poweroffice import redaction
from audit.systems.poweroffice.transport import HttpStatusError
from audit.writeback.gateway import MAIL_KEY, STAMP_KEY, RecordGateway, get_field
from audit.writeback.journal import DONE, Journal
from audit.writeback.model import Change, Plan
from audit.writeback.outcome import PROBLEM_STATUSES, ApplyResult, Limits, Outcome, same_stamp, same_value

log = logging.getLogger("audit.writeback")

__all__ = ["Limits", "Outcome", "ApplyResult", "apply_plan", "same_value", "same_stamp", "PROBLEM_STATUSES"]


# --------------------------------------------------------------------------- the run
class _Breaker:
    def __init__(self, limits: Limits):
        self.limits = limits
        self.failures = 0
        self.conflicts = 0
        self.tripped: str | None = None
        self.lock = threading.Lock()

    def record(self, outcomes: list[Outcome]) -> None:
        with self.lock:
            for o in outcomes:
                if o.status in ("failed", "unknown"):
                    self.failures += 1
                elif o.status in ("conflict", "would_conflict"):
                    self.conflicts += 1
            if self.tripped is None:
                if self.failures > self.limits.max_failures:
                    self.tripped = f"{self.failures} failures (more than --max-failures {self.limits.max_failures})"
                elif self.conflicts > self.limits.max_conflicts:
                    self.tripped = f"{self.conflicts} conflicts (more than --max-conflicts {self.limits.max_conflicts})"


class _Runner:
    def __init__(
        self,
        gateways: Mapping[str, RecordGateway],
        journal: Journal | None,
        prior: Mapping[str, dict[str, Any]],
        limits: Limits,
        dry_run: bool,
        breaker: _Breaker,
    ):
        self.breaker = breaker
        self.gateways = gateways
        self.journal = journal
        self.prior = prior
        self.limits = limits
        self.dry_run = dry_run
        self.answered = 0

    # -- one record ----------------------------------------------------------------------

    def unit(self, changes: list[Change]) -> list[Outcome]:
        if self.breaker.tripped:  # queued before the breaker tripped: left alone
            return [Outcome(c, "not_attempted", f"circuit breaker: {self.breaker.tripped}") for c in changes]
        first = changes[0].corrected
        gw = self.gateways[first.tenant]
        fields = {c.id: c.field_on(gw.api) for c in changes}
        missing = [c for c in changes if not fields[c.id] or not gw.can_write(c.corrected.entity)]
        outcomes = [Outcome(c, "failed", f"not writable on {gw.api}") for c in missing]
        changes = [c for c in changes if c not in missing]
        if not changes:
            return self._record_results(outcomes)
        try:
            current = gw.read(first.entity, first.record_id, first.parent_id)
            self.answered += 1
        except AuthError:
            raise
        except HttpStatusError as exc:
            if exc.status == 404:
                self.answered += 1
                return self._record_results(
                    outcomes + [Outcome(c, "conflict", "the record no longer exists") for c in changes]
                )
            return self._record_results(outcomes + [Outcome(c, "failed", f"guard read: {exc}") for c in changes])
        except ExternalError as exc:
            return self._record_results(outcomes + [Outcome(c, "failed", f"guard read: {exc}") for c in changes])
        to_write: list[Change] = []
        for c in changes:
            verdict = self._guard(c, current, gw.api, fields[c.id])
            if verdict is None:
                to_write.append(c)
            else:
                outcomes.append(verdict)
        if to_write:
            if self.dry_run:
                outcomes += [
                    Outcome(
                        c,
                        "would_write",
                        "guard passed",
                        before=get_field(current, fields[c.id]),
                        after=c.new_value,
                        last_changed_before=current.get(STAMP_KEY[gw.api]),
                    )
                    for c in to_write
                ]
            else:
                outcomes += self._write(gw, to_write, current, fields)
        return self._record_results(outcomes)

    def _guard(self, c: Change, current: Mapping[str, Any], api: str, field: str) -> Outcome | None:
        """``None`` when the change may be written, else its outcome."""
        value = get_field(current, field)
        stamp = current.get(STAMP_KEY[api])
        prefix = "would_" if self.dry_run else ""
        earlier = self.prior.get(c.id, {}).get("status")
        if same_value(value, c.new_value, c.field_v2):
            detail = (
                "request sent in an earlier run; the record holds the new value: done"
                if earlier == "unknown"
                else "the field already holds the new value"
            )
            status = "applied" if earlier == "unknown" and not self.dry_run else prefix + "noop"
            return Outcome(
                c,
                status,
                detail,
                before=value,
                after=value,
                last_changed_before=stamp,
                last_changed_after=stamp,
                address_last_changed_after=get_field(current, f"{MAIL_KEY[api]}.{STAMP_KEY[api]}"),
            )
        if not same_stamp(stamp, c.last_changed):
            return Outcome(
                c,
                prefix + "conflict",
                f"the record changed since the audit read it (lastChanged {stamp}, plan {c.last_changed})",
                before=value,
                last_changed_before=stamp,
            )
        if c.address_last_changed is not None:
            sub = get_field(current, f"{MAIL_KEY[api]}.{STAMP_KEY[api]}")
            if not same_stamp(sub, c.address_last_changed):
                return Outcome(
                    c,
                    prefix + "conflict",
                    f"the mail address changed since the audit read it "
                    f"(lastChanged {sub}, plan {c.address_last_changed})",
                    before=value,
                    last_changed_before=stamp,
                )
        if not same_value(value, c.old_value, c.field_v2):
            return Outcome(
                c,
                prefix + "conflict",
                f"the field changed since the audit read it (now {value!r}, plan {c.old_value!r})",
                before=value,
                last_changed_before=stamp,
            )
        return None

    def _write(
        self, gw: RecordGateway, changes: list[Change], current: dict[str, Any], fields: dict[str, str]
    ) -> list[Outcome]:
        first = changes[0].corrected
        values = {fields[c.id]: c.new_value for c in changes}
        before = {fields[c.id]: get_field(current, fields[c.id]) for c in changes}
        stamp_before = current.get(STAMP_KEY[gw.api])
        for attempt in range(1, self.limits.write_attempts + 1):
            assert self.journal is not None
            self.journal.write(
                "sent",
                changes=[c.id for c in changes],
                tenant=first.tenant,
                entity=first.entity,
                record_id=first.record_id,
                api=gw.api,
                method="PATCH" if gw.api == "v2" else "POST",
                path=gw.route(first.entity, first.record_id, first.parent_id),
                fields=values,
                before=before,
                attempt=attempt,
                specs=[c.to_dict() for c in changes],
            )
            try:
                written = gw.write(first.entity, first.record_id, first.parent_id, values, current)
            except AuthError:
                raise
            except HttpStatusError as exc:
                if exc.status < 500 and exc.status != 429:
                    self.answered += 1
                    return [
                        Outcome(c, "failed", str(exc), before=before[fields[c.id]], http_status=exc.status)
                        for c in changes
                    ]
                lost = f"{exc}"
            except ExternalError as exc:
                lost = f"{type(exc).__name__}: {exc}"
            else:
                self.answered += 1
                detail = f"{written.method} {written.path} -> {written.status}"
                return _applied(
                    changes, fields, before, written.record or {}, stamp_before, gw.api, detail, written.status
                )
            # The answer was lost: read the record to learn whether the write was done.
            log.info(
                "write of %s got no answer (%s); reading it back",
                first.record_id,
                redaction.redact(lost)[:200],
            )
            try:
                now = gw.read(first.entity, first.record_id, first.parent_id)
                self.answered += 1
            except AuthError:
                raise
            except ExternalError as exc:
                return [
                    Outcome(c, "unknown", f"write: {lost}; read back: {exc}", before=before[fields[c.id]])
                    for c in changes
                ]
            done = all(same_value(get_field(now, fields[c.id]), c.new_value, c.field_v2) for c in changes)
            if done:
                detail = f"answer lost ({lost}); read back: the record holds the new value"
                return _applied(changes, fields, before, now, stamp_before, gw.api, detail)
            untouched = same_stamp(now.get(STAMP_KEY[gw.api]), stamp_before) and all(
                same_value(get_field(now, fields[c.id]), before[fields[c.id]], c.field_v2) for c in changes
            )
            if not untouched:
                return [
                    Outcome(
                        c,
                        "conflict",
                        f"answer lost ({lost}) and the record changed meanwhile",
                        before=before[fields[c.id]],
                        after=get_field(now, fields[c.id]),
                    )
                    for c in changes
                ]
            current = now
        return [
            Outcome(
                c,
                "failed",
                f"no answer after {self.limits.write_attempts} attempts: {lost}",
                before=before[fields[c.id]],
            )
            for c in changes
        ]

    def _record_results(self, outcomes: list[Outcome]) -> list[Outcome]:
        if self.journal is not None and not self.dry_run:
            for o in outcomes:
                self.journal.write(
                    "result",
                    change=o.change.id,
                    status=o.status,
                    detail=o.detail,
                    before=o.before,
                    after=o.after,
                    last_changed_before=o.last_changed_before,
                    last_changed_after=o.last_changed_after,
                    address_last_changed_after=o.address_last_changed_after,
                    http_status=o.http_status,
                    spec=o.change.to_dict(),
                )
        self.breaker.record(outcomes)
        return outcomes


def _units(changes: list[Change]) -> list[list[Change]]:
    """Changes grouped by record, in plan order of each record's first change."""
    units: dict[tuple[str, str, int], list[Change]] = {}
    for c in changes:
        units.setdefault(c.corrected.key, []).append(c)
    return list(units.values())


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
) -> ApplyResult:
    """Apply (or dry-run) a plan.

    Parameters
    ----------
    plan : Plan
        The reviewed plan.
    gateways : mapping
        ``{"source": RecordGateway, "target": RecordGateway}`` (a tenant the plan does not
        write may be missing).
    journal_path : str, optional
        The journal (required unless ``dry_run``); appended to, and read first to resume.
    dry_run : bool
        Read and report only (the default).
    approve : str, optional
        The hash the reviewer approved; required to write, and must equal ``plan.hash``.
    limits : Limits, optional
        The circuit breaker (default: :class:`Limits` defaults).
    mode : str
        Written into the journal (``apply`` or ``rollback``).
    progress : callable, optional
        Called with the number of changes finished after each record.

    Raises
    ------
    ConfigError
        The plan was changed after review, no approval was given for a real run, the
        plan is larger than ``max_changes``, or a tenant's gateway is missing (exit 2;
        nothing is written).
    AuthError
        The API refused the keys (exit 3; the journal says what was done before).
    """
    limits = limits or Limits()
    if approve is not None and approve.strip().lower() != plan.hash:
        raise ConfigError(
            f"the plan's content hash is {plan.hash}, not the approved {approve.strip()}: "
            "it changed after review; nothing written"
        )
    if not dry_run and approve is None:
        raise ConfigError(f"writing needs --approve HASH (the plan's hash is {plan.hash}); nothing written")
    if limits.max_changes is not None and len(plan.changes) > limits.max_changes:
        raise ConfigError(
            f"the plan holds {len(plan.changes)} changes, more than --max-changes {limits.max_changes}; nothing written"
        )
    need = {c.corrected.tenant for c in plan.changes}
    if need - set(gateways):
        raise ConfigError(f"no connection for tenant(s) {', '.join(sorted(need - set(gateways)))}")
    if not dry_run and not journal_path:
        raise ConfigError("writing needs a journal file")

    journal = Journal(journal_path) if journal_path and not dry_run else None
    prior = journal.state() if journal is not None else ({} if not journal_path else _prior_if_any(journal_path))
    breaker = _Breaker(limits)
    results: dict[str, Outcome] = {}
    pending: list[list[Change]] = []
    for unit in _units(plan.changes):
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

    runner = _Runner(gateways, journal, prior, limits, dry_run, breaker)

    def run_all() -> None:
        with ThreadPoolExecutor(max_workers=max(1, limits.workers), thread_name_prefix="writeback") as pool:
            queue = list(reversed(pending))
            running: set[Future] = set()
            while queue or running:
                while queue and len(running) < limits.workers * 2 and breaker.tripped is None:
                    running.add(pool.submit(runner.unit, queue.pop()))
                if not running:
                    break
                finished, running = wait(running, return_when=FIRST_COMPLETED)
                for fut in finished:
                    outcomes = fut.result()  # AuthError propagates and stops the run
                    for o in outcomes:
                        results[o.change.id] = o
                    if progress:
                        progress(len(outcomes))

    if journal is not None:
        with journal:
            journal.write(
                "run", mode=mode, plan_hash=plan.hash, changes=len(plan.changes), plan=plan.header.get("path")
            )
            try:
                run_all()
            finally:
                _fill_unattempted(plan, results, breaker)
                journal.write("end", counts=dict(Counter(o.status for o in results.values())), tripped=breaker.tripped)
    else:
        try:
            run_all()
        finally:
            _fill_unattempted(plan, results, breaker)
    gws = {id(g): g for g in gateways.values()}
    return ApplyResult(
        outcomes=[results[c.id] for c in plan.changes],
        dry_run=dry_run,
        plan_hash=plan.hash,
        journal=str(journal_path) if journal is not None else None,
        tripped=breaker.tripped,
        run_id=journal.run_id if journal is not None else None,
        requests=sum(g.client.requests_sent for g in gws.values()),
        unreachable=bool(pending) and runner.answered == 0,
    )


def _prior_if_any(path: str) -> dict[str, dict[str, Any]]:
    from pathlib import Path

    from audit.writeback.journal import fold

    return fold(path) if Path(path).is_file() else {}


def _fill_unattempted(plan: Plan, results: dict[str, Outcome], breaker: _Breaker) -> None:
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


__all__ += ["reverse_changes"]


def _applied(
    changes: list[Change],
    fields: dict[str, str],
    before: dict[str, Any],
    record: dict[str, Any],
    stamp_before: str | None,
    api: str,
    detail: str,
    http_status: int | None = None,
) -> list[Outcome]:
    """``applied`` outcomes of one record's changes, with the values and stamps the API
    now holds (from the write's answer, or from reading the record back)."""
    return [
        Outcome(
            c,
            "applied",
            detail,
            before=before[fields[c.id]],
            after=get_field(record, fields[c.id]),
            last_changed_before=stamp_before,
            last_changed_after=record.get(STAMP_KEY[api]),
            address_last_changed_after=get_field(record, f"{MAIL_KEY[api]}.{STAMP_KEY[api]}"),
            http_status=http_status,
        )
        for c in changes
    ]
