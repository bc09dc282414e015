"""The guarded write-back: push corrected values to the system that drifted.

findings -> :mod:`~audit.writeback.plan` (pure: which side, which field, old -> new,
why) -> a reviewed plan file (:mod:`~audit.writeback.model`, content hash) ->
:mod:`~audit.writeback.apply` (guard read, journal, resume, circuit breaker) through
:mod:`~audit.writeback.gateway` (v2 JSON Patch, v1 whole object) ->
:mod:`~audit.writeback.verify` (re-audit of the touched records, ``writeback.json``).
The journal is :mod:`~audit.writeback.journal`, the statuses :mod:`~audit.writeback.outcome`,
the direction policy :mod:`~audit.writeback.direction`; a plan's rows are made in
:mod:`~audit.writeback.plan_rows` (fields and values: :mod:`~audit.writeback.fields`,
decisions CSV: :mod:`~audit.writeback.decisions`), one record is written by
:mod:`~audit.writeback.write` and the run stopped by :mod:`~audit.writeback.breaker`.
"""

from audit.writeback.apply import ApplyResult, Limits, Outcome, apply_plan, reverse_changes
from audit.writeback.direction import Decision, decide
from audit.writeback.gateway import RecordGateway, tenant_settings
from audit.writeback.model import Change, Plan, RecordRef, Skipped, changes_hash, load_plan, write_plan
from audit.writeback.plan import build_plan
from audit.writeback.verify import Verification, applied_changes, verify_changes, writeback_summary

__all__ = [
    "ApplyResult",
    "Change",
    "Decision",
    "Limits",
    "Outcome",
    "Plan",
    "RecordGateway",
    "RecordRef",
    "Skipped",
    "Verification",
    "applied_changes",
    "apply_plan",
    "build_plan",
    "changes_hash",
    "decide",
    "load_plan",
    "reverse_changes",
    "tenant_settings",
    "verify_changes",
    "write_plan",
    "writeback_summary",
]
