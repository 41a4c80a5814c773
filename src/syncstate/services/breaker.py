"""The circuit breaker of an export run: stop early when the back end cannot be reached.

Without it, a run against a back end that is down retries every record with
back-off until its attempts run out (minutes of silence for a few dozen records).
The breaker counts consecutive requests that provably never left the machine
(:class:`~syncstate.errors.NotSent`: connection refused, DNS, TLS, connect and
pool timeouts) across every worker thread of the run. Any answer from the back end
(a success, a refusal, a throttle) closes the streak. The breaker trips when the
streak reaches ``limit`` requests or has lasted ``budget`` seconds (counting the
back-off waits it would sleep), and the run then stops: see
:class:`~syncstate.errors.BackendUnavailable`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

__all__ = ["Breaker"]


class Breaker:
    """Counts consecutive connection failures; thread-safe."""

    def __init__(
        self, limit: int, budget: float, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.budget = budget
        self._clock = clock
        self._lock = threading.Lock()
        self._streak = 0
        self._started: float | None = None
        self._waited = 0.0
        #: why the breaker tripped ("" while closed)
        self.reason = ""

    def __repr__(self) -> str:
        return f"Breaker(limit={self.limit}, budget={self.budget}, streak={self._streak})"

    @property
    def tripped(self) -> bool:
        """True once the breaker has tripped (it stays tripped for the run)."""
        return bool(self.reason)

    def answered(self) -> None:
        """The back end answered (any answer): the streak ends."""
        with self._lock:
            self._streak = 0
            self._started = None
            self._waited = 0.0

    def failed(self, error: BaseException) -> bool:
        """A request never left the machine; returns whether the breaker is now tripped."""
        with self._lock:
            self._streak += 1
            if self._started is None:
                self._started = self._clock()
            return self._check(error, 0.0)

    def waiting(self, delay: float, error: BaseException) -> bool:
        """About to wait ``delay`` seconds before retrying; trips if that passes the budget."""
        with self._lock:
            if self._started is None:
                return self.tripped
            self._waited += delay
            return self._check(error, 0.0)

    def _check(self, error: BaseException, extra: float) -> bool:
        if self.reason:
            return True
        assert self._started is not None
        elapsed = max(self._clock() - self._started, self._waited) + extra
        if self._streak >= self.limit:
            self.reason = (
                f"{self._streak} consecutive requests could not reach the back end (last: {error})"
            )
        elif elapsed >= self.budget:
            self.reason = (
                f"the back end could not be reached for {elapsed:.1f}s "
                f"(budget {self.budget:g}s; last: {error})"
            )
        return bool(self.reason)
