"""Keep the request rate of one export run within what the back end allows.

Two pieces shared by every worker thread of a run:

* :class:`Pacer` spaces requests evenly to at most ``per_minute`` (a back end's
  documented limit, e.g. 500 per minute per company for QuickBooks Online), so
  a run reaches the allowed throughput without provoking a storm of 429s.
* :class:`ThrottleGate` holds *every* worker back after one of them was told to
  slow down (``Retry-After``): the limit is per company, not per thread.

Both take the clock and sleep functions as arguments so tests run instantly.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

__all__ = ["Pacer", "ThrottleGate"]


class Pacer:
    """Hands out evenly spaced request slots: at most ``per_minute`` a minute.

    ``per_minute=None`` (or 0) paces nothing. ``burst`` slots may be taken at
    once after an idle spell, as a token bucket would allow.
    """

    def __init__(
        self,
        per_minute: float | None,
        *,
        burst: int = 1,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._interval = 60.0 / per_minute if per_minute else 0.0
        self._burst = max(burst, 1)
        self._monotonic = monotonic
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next = 0.0

    def __repr__(self) -> str:
        rate = 60.0 / self._interval if self._interval else None
        return f"Pacer(per_minute={rate})"

    def acquire(self) -> float:
        """Wait for the next slot; return the seconds waited."""
        if not self._interval:
            return 0.0
        with self._lock:
            now = self._monotonic()
            earliest = now - (self._burst - 1) * self._interval
            slot = max(self._next, earliest)
            self._next = slot + self._interval
        delay = slot - now
        if delay > 0:
            self._sleep(delay)
            return delay
        return 0.0


class ThrottleGate:
    """Blocks all workers until a back end's ``Retry-After`` has passed."""

    def __init__(
        self,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._monotonic = monotonic
        self._sleep = sleep
        self._lock = threading.Lock()
        self._until = 0.0

    def __repr__(self) -> str:
        return f"ThrottleGate(closed_for={max(self._until - self._monotonic(), 0.0):.2f}s)"

    def close_for(self, seconds: float) -> None:
        """Hold every worker back for ``seconds`` from now (never shortens a pause)."""
        with self._lock:
            self._until = max(self._until, self._monotonic() + max(seconds, 0.0))

    def wait(self) -> float:
        """Wait while the gate is closed; return the seconds waited."""
        with self._lock:
            delay = self._until - self._monotonic()
        if delay > 0:
            self._sleep(delay)
            return delay
        return 0.0
