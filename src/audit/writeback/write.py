"""One record of a write-back run: guard read, guard, journaled write, read back.

:class:`RecordWriter` handles the changes of one record at a time: it reads the record
again, lets :func:`guard` judge each change against it, journals ``sent``, writes the
changes that passed in one request, reads the record back and journals each change's
``result``. A change is ``applied`` only when the API said success (v2: a 2xx; v1: a 2xx
whose body says ``success: true``) *and* the record read back holds the new value;
otherwise it is ``failed`` with the API's own words (v1 ``validation.summary``,
ProblemDetails ``Title``/``Detail``) or with what the record holds instead. A write whose
answer is lost is settled by reading the record back (see :mod:`audit.writeback.apply`).
A change whose new value the field's JSON type cannot hold (``"0150"`` where the API
answers a number) is ``type_conflict`` and not sent (:mod:`audit.writeback.json_types`).
With ``atomic`` a v2 write tests the values the guard read before replacing them, and a
refused one whose tested values moved is a ``conflict`` (:mod:`audit.writeback.atomic`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from audit.errors import AuthError, ExternalError
from audit.systems.http import redaction
from audit.systems.poweroffice.responses import ApiRefusal
from audit.systems.poweroffice.transport import HttpStatusError
from audit.writeback.atomic import moved_fields
from audit.writeback.breaker import Breaker
from audit.writeback.gateway import MAIL_KEY, STAMP_KEY, RecordGateway, get_field
from audit.writeback.journal import Journal
from audit.writeback.json_types import TYPE_CONFLICT, typed_for
from audit.writeback.model import Change, RecordRef
from audit.writeback.outcome import Limits, Outcome, same_stamp, same_value

log = logging.getLogger("audit.writeback")

__all__ = ["RecordWriter", "guard"]


# --------------------------------------------------------------------------- the guard
def _address_stamp(record: Mapping[str, Any], api: str) -> Any:
    """The mail address's own last-changed stamp in a record."""
    return get_field(record, f"{MAIL_KEY[api]}.{STAMP_KEY[api]}")


def guard(
    c: Change, current: Mapping[str, Any], api: str, field: str, *, earlier: str | None, dry_run: bool
) -> Outcome | None:
    """``None`` when the change may be written to ``current``, else its outcome.

    ``earlier`` is the change's status in the journal of an earlier run (``unknown``: its
    request was sent and never answered).
    """
    value = get_field(current, field)
    stamp = current.get(STAMP_KEY[api])
    prefix = "would_" if dry_run else ""
    if same_value(value, c.new_value, c.value_spec()):
        detail = (
            "request sent in an earlier run; the record holds the new value: done"
            if earlier == "unknown"
            else "the field already holds the new value"
        )
        status = "applied" if earlier == "unknown" and not dry_run else prefix + "noop"
        return Outcome(
            c,
            status,
            detail,
            before=value,
            after=value,
            last_changed_before=stamp,
            last_changed_after=stamp,
            address_last_changed_after=_address_stamp(current, api),
        )
    why = _conflict(c, current, api, value, stamp)
    if why is None:
        return None
    return Outcome(c, prefix + "conflict", why, before=value, last_changed_before=stamp)


def _conflict(c: Change, current: Mapping[str, Any], api: str, value: Any, stamp: Any) -> str | None:
    """Why the record or field no longer is what the plan saw (``None`` when it is)."""
    zone = c.value_spec().zone
    if not same_stamp(stamp, c.last_changed, zone):
        return f"the record changed since the audit read it (lastChanged {stamp}, plan {c.last_changed})"
    if c.address_last_changed is not None:
        sub = _address_stamp(current, api)
        if not same_stamp(sub, c.address_last_changed, zone):
            return (
                f"the mail address changed since the audit read it (lastChanged {sub}, plan {c.address_last_changed})"
            )
    if not same_value(value, c.old_value, c.value_spec()):
        return f"the field changed since the audit read it (now {value!r}, plan {c.old_value!r})"
    return None


@dataclass
class _Write:
    """One record's changes on their way out: the field each sets, and the values and
    stamp the record held before."""

    gw: RecordGateway
    changes: list[Change]
    fields: dict[str, str]
    before: dict[str, Any]
    stamp_before: str | None

    @classmethod
    def of(cls, gw: RecordGateway, changes: list[Change], fields: dict[str, str], current: Mapping[str, Any]) -> _Write:
        before = {fields[c.id]: get_field(current, fields[c.id]) for c in changes}
        return cls(gw, changes, fields, before, current.get(STAMP_KEY[gw.api]))

    @property
    def ref(self) -> RecordRef:
        return self.changes[0].corrected

    def holds(self, record: Mapping[str, Any], *, new: bool) -> bool:
        """True when ``record`` holds every change's new value (``new``), or every value
        from before."""
        return all(
            same_value(
                get_field(record, self.fields[c.id]),
                c.new_value if new else self.before[self.fields[c.id]],
                c.value_spec(),
            )
            for c in self.changes
        )

    def outcomes(
        self, status: str, detail: str, record: Mapping[str, Any] | None = None, **extra: Any
    ) -> list[Outcome]:
        """One outcome per change, with the value before and the value in ``record``."""
        return [
            Outcome(
                c,
                status,
                detail,
                before=self.before[self.fields[c.id]],
                after=get_field(record, self.fields[c.id]),
                **extra,
            )
            for c in self.changes
        ]

    def applied(self, record: Mapping[str, Any], detail: str, http_status: int | None = None) -> list[Outcome]:
        """``applied`` outcomes, with the values and stamps the API now holds (from the
        write's answer, or from reading the record back)."""
        api = self.gw.api
        return self.outcomes(
            "applied",
            detail,
            record,
            last_changed_before=self.stamp_before,
            last_changed_after=record.get(STAMP_KEY[api]),
            address_last_changed_after=_address_stamp(record, api),
            http_status=http_status,
        )


# --------------------------------------------------------------------------- one record
class RecordWriter:
    """Handles one record's changes per :meth:`unit` call; shared by the worker threads.

    Attributes
    ----------
    answered : int
        How many requests the API answered (a run with none found the API unreachable).
    """

    def __init__(
        self,
        gateways: Mapping[str, RecordGateway],
        journal: Journal | None,
        prior: Mapping[str, dict[str, Any]],
        limits: Limits,
        dry_run: bool,
        breaker: Breaker,
        atomic: bool = False,
    ):
        self.atomic = atomic
        self.breaker = breaker
        self.gateways = gateways
        self.journal = journal
        self.prior = prior
        self.limits = limits
        self.dry_run = dry_run
        self.answered = 0

    def unit(self, changes: list[Change]) -> list[Outcome]:
        """The outcomes of one record's changes (journaled, and counted by the breaker)."""
        if self.breaker.tripped:  # queued before the breaker tripped: left alone
            return [Outcome(c, "not_attempted", f"circuit breaker: {self.breaker.tripped}") for c in changes]
        first = changes[0].corrected
        gw = self.gateways[first.tenant]
        fields = {c.id: c.field_on(gw.api) for c in changes}
        missing = [c for c in changes if not fields[c.id] or not gw.can_write(c.corrected.entity)]
        outcomes = [Outcome(c, "failed", f"not writable on {gw.api}") for c in missing]
        changes = [c for c in changes if c not in missing]
        if changes:
            outcomes += self._guarded(gw, first, changes, fields)
        return self._record_results(outcomes)

    def _read(self, gw: RecordGateway, ref: RecordRef) -> dict[str, Any]:
        record = gw.read(ref.entity, ref.record_id, ref.parent_id)
        self.answered += 1
        return record

    def _guarded(
        self, gw: RecordGateway, ref: RecordRef, changes: list[Change], fields: dict[str, str]
    ) -> list[Outcome]:
        """Guard read of record ``ref``, guard, and the write (or a dry run's ``would_write``)."""
        current = self._guard_read(gw, ref, changes)
        if isinstance(current, list):
            return current
        outcomes: list[Outcome] = []
        to_write: list[Change] = []
        typed: dict[str, Any] = {}  # change id -> the new value in the field's JSON type
        for c in changes:
            earlier = self.prior.get(c.id, {}).get("status")
            verdict = guard(c, current, gw.api, fields[c.id], earlier=earlier, dry_run=self.dry_run)
            if verdict is None:
                before = get_field(current, fields[c.id])
                typed[c.id], refused = typed_for(c, before, fields[c.id])
                if refused is None:
                    to_write.append(c)
                    continue
                verdict = Outcome(c, TYPE_CONFLICT, refused, before=before)
            outcomes.append(verdict)
        if not to_write:
            return outcomes
        if self.dry_run:
            return outcomes + [_would_write(c, current, fields[c.id], gw.api, typed[c.id]) for c in to_write]
        return outcomes + self._write(gw, to_write, current, fields, typed)

    def _guard_read(self, gw: RecordGateway, ref: RecordRef, changes: list[Change]) -> dict[str, Any] | list[Outcome]:
        """The record as the API holds it now, or the outcomes when it cannot be read."""
        try:
            return self._read(gw, ref)
        except AuthError:
            raise
        except HttpStatusError as exc:
            if exc.status == 404:
                self.answered += 1
                return [Outcome(c, "conflict", "the record no longer exists") for c in changes]
            return [Outcome(c, "failed", f"guard read: {exc}") for c in changes]
        except ExternalError as exc:
            return [Outcome(c, "failed", f"guard read: {exc}") for c in changes]

    def _write(
        self,
        gw: RecordGateway,
        changes: list[Change],
        current: dict[str, Any],
        fields: dict[str, str],
        typed: Mapping[str, Any],
    ) -> list[Outcome]:
        """Write the changes (their new values as ``typed`` holds them) in one request,
        sent again while its answer is lost and the record, read back, shows it was not done."""
        w = _Write.of(gw, changes, fields, current)
        values = {fields[c.id]: typed[c.id] for c in changes}
        for attempt in range(1, self.limits.write_attempts + 1):
            self._journal_sent(w, values, attempt)
            try:
                expect = w.before if self.atomic else None
                written = gw.write(w.ref.entity, w.ref.record_id, w.ref.parent_id, values, current, expect)
            except AuthError:
                raise
            except ApiRefusal as exc:  # v1: HTTP 200 with success=false: refused, not lost
                self.answered += 1
                return w.outcomes("failed", f"refused by the API: {exc.summary}", http_status=200)
            except HttpStatusError as exc:
                if exc.status < 500 and exc.status != 429:
                    self.answered += 1
                    if self.atomic:
                        return self._refused_atomic(w, exc)
                    return w.outcomes("failed", str(exc), http_status=exc.status)
                lost = f"{exc}"
            except ExternalError as exc:
                lost = f"{type(exc).__name__}: {exc}"
            else:
                self.answered += 1
                return self._confirm(w, f"{written.method} {written.path} -> {written.status}", written.status)
            now = self._read_back(w, lost)
            if isinstance(now, list):
                return now
            current = now
        return w.outcomes("failed", f"no answer after {self.limits.write_attempts} attempts: {lost}")

    def _confirm(self, w: _Write, said: str, http_status: int) -> list[Outcome]:
        """After the API said success: ``applied`` only when the record, read back, holds
        every new value; the answer's own body is not taken for it."""
        try:
            now = self._read(w.gw, w.ref)
        except AuthError:
            raise
        except ExternalError as exc:
            return w.outcomes("unknown", f"{said}; read back failed: {exc}", http_status=http_status)
        if w.holds(now, new=True):
            return w.applied(now, f"{said}; read back: the record holds the new value", http_status)
        found = {w.fields[c.id]: get_field(now, w.fields[c.id]) for c in w.changes}
        detail = f"{said}, but the record read back does not hold the new value (now {found!r})"
        return w.outcomes("failed", detail, now, http_status=http_status)

    def _refused_atomic(self, w: _Write, exc: HttpStatusError) -> list[Outcome]:
        """A refused compare-and-set: a ``conflict`` when the record, read back, no longer
        holds a tested value (the ``test`` failed; nothing was written), else ``failed``.
        Either way it is not sent again."""
        try:
            now = self._read(w.gw, w.ref)
        except AuthError:
            raise
        except ExternalError as read_error:
            return w.outcomes("failed", f"{exc}; read back: {read_error}", http_status=exc.status)
        moved = moved_fields(now, w.before)
        if not moved:
            return w.outcomes("failed", f"{exc}; read back: the tested values still hold", now, http_status=exc.status)
        detail = f"compare-and-set refused: {exc}; read back: the record changed after the guard read (now {moved!r})"
        return w.outcomes("conflict", detail, now, http_status=exc.status)

    def _read_back(self, w: _Write, lost: str) -> dict[str, Any] | list[Outcome]:
        """After a lost answer: the outcomes when the record shows the write done (or
        changed by someone else), else the record untouched (to send the write again)."""
        log.info("write of %s got no answer (%s); reading it back", w.ref.record_id, redaction.redact(lost)[:200])
        try:
            now = self._read(w.gw, w.ref)
        except AuthError:
            raise
        except ExternalError as exc:
            return w.outcomes("unknown", f"write: {lost}; read back: {exc}")
        if w.holds(now, new=True):
            return w.applied(now, f"answer lost ({lost}); read back: the record holds the new value")
        zone = w.changes[0].value_spec().zone
        if same_stamp(now.get(STAMP_KEY[w.gw.api]), w.stamp_before, zone) and w.holds(now, new=False):
            return now
        return w.outcomes("conflict", f"answer lost ({lost}) and the record changed meanwhile", now)

    def _journal_sent(self, w: _Write, values: dict[str, Any], attempt: int) -> None:
        """Journal (and fsync) a write before it is sent."""
        assert self.journal is not None
        self.journal.write(
            "sent",
            changes=[c.id for c in w.changes],
            tenant=w.ref.tenant,
            entity=w.ref.entity,
            record_id=w.ref.record_id,
            api=w.gw.api,
            method="PATCH" if w.gw.api == "v2" else "POST",
            path=w.gw.route(w.ref.entity, w.ref.record_id, w.ref.parent_id),
            fields=values,
            before=w.before,
            attempt=attempt,
            specs=[c.to_dict() for c in w.changes],
            **({"atomic": True} if self.atomic and w.gw.api == "v2" else {}),
        )

    def _record_results(self, outcomes: list[Outcome]) -> list[Outcome]:
        """Journal each outcome (a real run only) and let the breaker count them."""
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


def _would_write(c: Change, current: Mapping[str, Any], field: str, api: str, value: Any) -> Outcome:
    """A dry run's outcome of a change that passed the guard (``value``: what it would write)."""
    return Outcome(
        c,
        "would_write",
        "guard passed",
        before=get_field(current, field),
        after=value,
        last_changed_before=current.get(STAMP_KEY[api]),
    )
