"""Token buckets: the client's :class:`RateLimiter` and the base the simulator's own
server-side bucket shares with it."""

from __future__ import annotations

import threading
import time


class TokenBucket:
    """Tokens that refill at ``rate`` per second up to ``burst``; subclasses take them."""

    def __init__(self, rate: float, burst: float, clock=time.monotonic):
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._tokens = burst
        self._last = clock()
        self._lock = threading.Lock()

    def _refill(self) -> None:
        """Add the tokens earned since the last call (the caller holds the lock)."""
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
        self._last = now


class RateLimiter(TokenBucket):
    """A thread-safe token bucket: ``rate`` requests per second, bursts up to ``burst``.

    :meth:`acquire` blocks until a request may go. With ``burst=1`` requests are spaced
    evenly ``1/rate`` apart; a larger ``burst`` lets a caller that was held up by a slow
    answer make up the slots it missed. Over any ``T`` seconds at most ``burst + rate*T``
    requests go.
    """

    def __init__(self, rate: float, burst: float = 1.0, clock=time.monotonic, sleep=time.sleep):
        if rate <= 0:
            raise ValueError("rate must be positive")
        super().__init__(float(rate), max(1.0, float(burst)), clock)
        self._sleep = sleep

    def acquire(self) -> float:
        """Take one slot, waiting as needed; returns the seconds waited."""
        with self._lock:
            self._refill()
            self._tokens -= 1.0
            wait = -self._tokens / self.rate if self._tokens < 0 else 0.0
        # The slot is reserved under the lock (tokens may go negative); the wait itself
        # happens outside it, so waiting threads queue in order without holding the lock.
        if wait > 0:
            self._sleep(wait)
        return wait
