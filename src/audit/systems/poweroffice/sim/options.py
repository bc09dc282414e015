"""What a simulator accepts and how it misbehaves: its keys (demo values unless the
environment names others) and the shares of requests that fail on purpose."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

DEMO_APPLICATION_KEY = "sim-demo-application-key"
DEMO_CLIENT_KEY = "sim-demo-client-key"
DEMO_SUBSCRIPTION_KEY = "sim-demo-subscription-key"

TOKEN_LIFETIME = {"v2": 1200.0, "v1": 600.0}


@dataclass(frozen=True)
class Keys:
    """The keys the simulator accepts."""

    application_key: str = DEMO_APPLICATION_KEY
    client_key: str = DEMO_CLIENT_KEY
    subscription_key: str = DEMO_SUBSCRIPTION_KEY

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Keys:
        env = os.environ if environ is None else environ
        return cls(
            application_key=env.get("POWEROFFICE_APPLICATION_KEY") or DEMO_APPLICATION_KEY,
            client_key=env.get("POWEROFFICE_CLIENT_KEY") or DEMO_CLIENT_KEY,
            subscription_key=env.get("POWEROFFICE_SUBSCRIPTION_KEY") or DEMO_SUBSCRIPTION_KEY,
        )


@dataclass(frozen=True)
class Faults:
    """Shares of requests that fail on purpose, drawn from a seeded RNG."""

    error_rate: float = 0.0
    drop_rate: float = 0.0
    slow_rate: float = 0.0
    slow_seconds: float = 2.0
    early_expiry_rate: float = 0.0
    seed: int = 0

    @classmethod
    def from_rate(cls, fault_rate: float, seed: int = 0) -> Faults:
        """``fault_rate`` split evenly between 5xx answers and dropped connections."""
        if not 0.0 <= fault_rate <= 1.0:
            raise ValueError("the fault rate must be between 0 and 1")
        return cls(error_rate=fault_rate / 2, drop_rate=fault_rate / 2, seed=seed)
