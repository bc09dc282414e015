"""``audit simulate``: serve the simulator in the foreground until Ctrl+C or SIGTERM."""

from __future__ import annotations

import signal
from collections.abc import Callable
from pathlib import Path

from audit.errors import ConfigError
from audit.systems.poweroffice.settings import ConnectionSettings
from audit.systems.poweroffice.sim.server import Keys, Simulator


def _check(snapshot: Path, state: Path | None, fault_rate: float, rate_limit: float | None) -> None:
    """Raise :class:`ConfigError` for a seed, fault rate or rate limit the simulator cannot use."""
    if not snapshot.is_dir() and not (state and state.is_file()):
        raise ConfigError(f"--snapshot {snapshot}: not a directory")
    if not 0.0 <= fault_rate <= 1.0:
        raise ConfigError("--fault-rate must be between 0 and 1")
    if rate_limit is not None and rate_limit <= 0:
        raise ConfigError("--rate-limit must be positive")


def keys_from_settings() -> Keys:
    """The keys ``audit fetch`` would send (environment, ``.env``), else the demo keys."""
    settings = ConnectionSettings.from_env()
    defaults = Keys()

    def value(secret, default: str) -> str:
        return secret.get_secret_value() if secret is not None else default

    return Keys(
        application_key=value(settings.application_key, defaults.application_key),
        client_key=value(settings.client_key, defaults.client_key),
        subscription_key=value(settings.subscription_key, defaults.subscription_key),
    )


def export_lines(sim: Simulator) -> list[str]:
    """Shell lines that point ``audit fetch`` / the write-back at ``sim``.

    The demo keys are public (the README lists them) and are printed; a key taken from
    the environment is a secret and never is: the user already has it set.
    """
    demo = set(vars(Keys()).values())
    lines, own = [], []
    for name, value in sim.env().items():
        if name.endswith("_KEY") and value not in demo:
            own.append(name)
        else:
            lines.append(f"export {name}={value}")
    if own:
        lines.append(f"# {', '.join(own)}: as set in your environment (.env)")
    return lines


def _raise_interrupt(signum, frame) -> None:
    """SIGTERM (service managers, ``kill``) stops the simulator like Ctrl+C."""
    raise KeyboardInterrupt


def serve(
    snapshot: Path,
    *,
    port: int,
    rate_limit: float | None = None,
    fault_rate: float = 0.0,
    state: Path | None = None,
    token_lifetime: float | None = None,
    seed: int = 0,
    sesam_datasets: dict[str, Path] | None = None,
    on_ready: Callable[[dict[str, str], list[str]], None] = lambda urls, exports: None,
) -> None:
    """Serve a simulator seeded from ``snapshot`` (or ``state``) on 127.0.0.1 until interrupted.

    ``on_ready`` gets the simulator's URLs and the ``export`` lines to use it
    (:func:`export_lines`) once the port is bound. Returns after Ctrl+C or SIGTERM, with
    the server stopped.
    """
    _check(snapshot, state, fault_rate, rate_limit)
    sim = Simulator(
        snapshot if snapshot.is_dir() else None,
        port=port,
        rate_limit=rate_limit,
        fault_rate=fault_rate,
        state_file=state,
        token_lifetime=token_lifetime,
        keys=keys_from_settings(),
        seed=seed,
        sesam_datasets=sesam_datasets,
    )
    try:
        sim.bind()
    except OSError as exc:
        raise ConfigError(f"--port {port}: cannot listen on 127.0.0.1 ({exc.strerror or exc})") from None
    signal.signal(signal.SIGTERM, _raise_interrupt)
    on_ready(sim.urls(), export_lines(sim))
    try:
        sim.serve_forever()  # returns on Ctrl+C (werkzeug catches it) or SIGTERM
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()
