"""Which tenants a write-back run reaches: ``--side``, and one reachability check per tenant.

A tenant that cannot be reached must cost one token request (with its retries), not one
per change: before any record is read, each tenant with changes to handle is asked for a
token once. A tenant that does not answer is *down*: every change of it ends ``skipped``
(``side unreachable``) without a request, the other tenant's changes run as usual, and
the run exits 3. Keys that are refused stop the run as before (:class:`AuthError`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from audit.errors import AuthError, ConfigError, ExternalError
from audit.writeback.gateway import RecordGateway
from audit.writeback.model import Change
from audit.writeback.outcome import Outcome

__all__ = ["SIDES", "SKIPPED", "check_side", "find_down", "handled_units", "set_aside"]

#: The tenants a plan writes to, as ``--side`` names them.
SIDES = ("source", "target")

#: Status of a change this run did not handle on purpose (``--side``, a tenant down).
SKIPPED = "skipped"

UNREACHABLE = "side unreachable"


def check_side(side: str | None) -> None:
    """Refuse a ``--side`` that is not ``source`` or ``target``."""
    if side is not None and side not in SIDES:
        raise ConfigError(f"--side {side!r}: use source or target")


def find_down(gateways: Mapping[str, RecordGateway], tenants: Iterable[str]) -> dict[str, str]:
    """Tenant -> why it cannot be reached, after one token request (and its retries) each.

    Raises
    ------
    AuthError
        A tenant answered but refused the keys (exit 3, as for any refused key).
    """
    down: dict[str, str] = {}
    for tenant in sorted(set(tenants)):
        try:
            gateways[tenant].client.tokens.get()
        except AuthError:
            raise
        except ExternalError as exc:
            down[tenant] = str(exc)
    return down


def set_aside(
    pending: list[list[Change]], side: str | None, down: Mapping[str, str]
) -> tuple[list[list[Change]], list[Outcome]]:
    """The records still to handle, and ``skipped`` outcomes for those of another ``side``
    or of a tenant that is down."""
    keep: list[list[Change]] = []
    skipped: list[Outcome] = []
    for unit in pending:
        tenant = unit[0].corrected.tenant
        if side is not None and tenant != side:
            skipped += [Outcome(c, SKIPPED, f"not this run's side (--side {side})") for c in unit]
        elif tenant in down:
            skipped += [Outcome(c, SKIPPED, UNREACHABLE) for c in unit]
        else:
            keep.append(unit)
    return keep, skipped


def handled_units(
    gateways: Mapping[str, RecordGateway], pending: list[list[Change]], side: str | None
) -> tuple[list[list[Change]], list[Outcome], dict[str, str]]:
    """The records this run handles, ``skipped`` outcomes of the others, and the tenants
    found down (one token request each, for the tenants this run would reach)."""
    check_side(side)
    tenants = {unit[0].corrected.tenant for unit in pending} & ({side} if side else set(SIDES))
    down = find_down(gateways, tenants)
    keep, skipped = set_aside(pending, side, down)
    return keep, skipped, down
