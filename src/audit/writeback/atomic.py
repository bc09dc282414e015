"""Optional compare-and-set (``audit writeback apply --atomic``).

The guard read closes most of the lost-update window, not all of it: a value may change
between the guard read and the write. With ``--atomic`` a v2 write carries, ahead of its
``replace`` operations, one JSON Patch ``test`` operation per changed field holding the
value the guard read; RFC 6902 (sections 4.6 and 5) says a failed ``test`` fails the
whole patch, so the server writes nothing. The v2 OpenAPI document lists ``op: test`` in
the ``requestBody`` examples of ``PATCH /Customers/{id}``, ``/Suppliers/{id}`` and
``/ContactPersons/{contactId}/{id}`` (the project's copy:
``audit/systems/poweroffice/contract/v2-contract.yaml``), but no public source says the
server honours it: so it is off by default. The simulator honours it (and answers a
failed ``test`` with 400 ProblemDetails).

- A refused atomic write (a 4xx other than 429) is settled by reading the record back:
  a tested field that no longer holds the tested value means the test failed, and the
  change is a ``conflict`` with the API's message (never ``applied``, never sent again);
  otherwise the refusal had another cause and the change is ``failed`` as usual.
- v1 writes post the whole record (``POST /Customer``; go-api-documentation,
  ``docs/api/reference/rest/``): there is no operation to compare with. An ``--atomic``
  run therefore leaves v1 changes alone (``skipped``, with :data:`V1_REASON`), says so once
  (:func:`v1_warning`), and a later run without ``--atomic`` can write them; writing them
  unguarded would silently give up what ``--atomic`` asked for.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from audit.writeback.gateway import RecordGateway, get_field
from audit.writeback.model import Change
from audit.writeback.outcome import Outcome
from audit.writeback.sides import SKIPPED

__all__ = ["V1_REASON", "moved_fields", "set_aside_v1", "v1_warning"]

#: Why an ``--atomic`` run leaves a v1 change alone.
V1_REASON = "--atomic: v1 writes post the whole record and have no compare-and-set (JSON Patch test); not written"


def _v1_units(
    pending: list[list[Change]], gateways: Mapping[str, RecordGateway], side: str | None
) -> list[list[Change]]:
    """The records (groups of changes) of ``side`` (any when ``None``) reached over v1."""
    return [
        unit
        for unit in pending
        if (side is None or unit[0].corrected.tenant == side) and gateways[unit[0].corrected.tenant].api == "v1"
    ]


def set_aside_v1(
    pending: list[list[Change]], gateways: Mapping[str, RecordGateway], side: str | None = None
) -> tuple[list[list[Change]], list[Outcome]]:
    """The records still to handle, and ``skipped`` outcomes of the v1 records of ``side``
    (no request is sent for them; the journal does not hold them as done)."""
    v1 = _v1_units(pending, gateways, side)
    skipped = [Outcome(c, SKIPPED, V1_REASON) for unit in v1 for c in unit]
    return [unit for unit in pending if unit not in v1], skipped


def v1_warning(
    changes: list[Change], gateways: Mapping[str, RecordGateway], side: str | None = None, command: str = "apply"
) -> str | None:
    """The one warning an ``--atomic`` run of ``command`` (``apply``, ``rollback``) gives
    when it meets v1 changes (``None``: none)."""
    v1 = [c for unit in _v1_units([[c] for c in changes], gateways, side) for c in unit]
    if not v1:
        return None
    tenants = ", ".join(sorted({c.corrected.tenant for c in v1}))
    return (
        f"--atomic: {len(v1)} change(s) of the v1 {tenants} tenant skipped: v1 writes post the whole "
        f"record and have no compare-and-set; run {command} again without --atomic to write them"
    )


def moved_fields(record: Mapping[str, Any], tested: Mapping[str, Any]) -> dict[str, Any]:
    """The tested fields whose value in ``record`` differs from the tested one (field ->
    value now), compared as JSON values are by ``test`` (an absent member as ``null``)."""
    return {f: get_field(record, f) for f, v in tested.items() if get_field(record, f) != v}
