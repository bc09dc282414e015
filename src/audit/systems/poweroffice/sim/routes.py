"""The simulator's HTTP face: routes of PowerOffice Go v2 and v1, in the API's own
formats (ProblemDetails for v2, HTTP 200 ``{"success": false, "validation": ...}`` for v1, OAuth errors for the
token endpoints), with the gate every request passes first: subscription key, rate
limit, injected faults, bearer token, scripted answers.

:func:`build_app` puts the parts together: the gate and error handlers
(:mod:`~audit.systems.poweroffice.sim.gate`), the token endpoints
(:mod:`~audit.systems.poweroffice.sim.auth`) and the routes of each generation
(:mod:`~audit.systems.poweroffice.sim.routes_v2`, :mod:`~audit.systems.poweroffice.sim.routes_v1`).
The data and its rules live in :mod:`audit.systems.poweroffice.sim.store`; the server, its
options and the faults' dice live in :mod:`audit.systems.poweroffice.sim.server`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Flask

from audit.systems.poweroffice.sim.auth import register_token_routes
from audit.systems.poweroffice.sim.gate import install_error_handlers, install_gate
from audit.systems.poweroffice.sim.routes_v1 import register_v1_contacts, register_v1_parties
from audit.systems.poweroffice.sim.routes_v2 import (
    MAX_PAGE_SIZE,
    register_v2_contact_persons,
    register_v2_parties,
)

if TYPE_CHECKING:
    from audit.systems.poweroffice.sim.server import Simulator


def build_app(sim: Simulator) -> Flask:
    """The Flask application of ``sim``: its gate (keys, rate limit, faults, tokens,
    scripted answers) and its v2/v1 routes."""
    app = Flask("audit.systems.poweroffice.sim.server")
    app.url_map.strict_slashes = False
    install_gate(app, sim)
    install_error_handlers(app)
    register_token_routes(app, sim)
    register_v2_parties(app, sim)
    register_v2_contact_persons(app, sim)
    register_v1_parties(app, sim)
    register_v1_contacts(app, sim)
    return app


__all__ = ["MAX_PAGE_SIZE", "build_app"]
