"""The retry policy of remote calls: one pure decision, one tenacity wiring.

* :func:`should_retry` says whether an error is worth another attempt
  (throttling, timeouts, dropped connections, 5xx: yes; validation errors and
  every other 4xx: never).
* :func:`retry_delay` says how long to wait before attempt ``n + 1``:
  exponential back-off with jitter, or the back end's ``Retry-After`` when it
  gave one. Pure: the random draw is passed in, so tests pin it.
* :func:`retrying` builds the :class:`tenacity.Retrying` loop from a
  :class:`RetryPolicy`, with the sleep function and a callback for each retry
  injected (the export engine counts retries and tells :class:`Progress`).

The idempotency key is made by the caller *before* the loop, so every attempt
of one logical export carries the same key.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import attrs
import tenacity

from syncstate.errors import InputError, ThrottledError, TransientBackendError

__all__ = ["RetryPolicy", "retry_delay", "retrying", "should_retry"]


def _positive(_instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if value < 0:
        raise InputError(f"retry policy: {attribute.name} must not be negative, got {value}")


@attrs.frozen(kw_only=True)
class RetryPolicy:
    """How often and how patiently a remote call is retried.

    ``attempts`` counts the first try (``attempts=1`` never retries). Waits grow
    ``initial * multiplier ** (n - 1)`` up to ``maximum`` seconds, each shortened
    by up to ``jitter`` (a fraction) at random so parallel workers do not retry in
    lockstep. A ``Retry-After`` from the back end is honoured up to
    ``max_retry_after`` seconds.
    """

    attempts: int = attrs.field(default=6)
    initial: float = attrs.field(default=0.5, validator=_positive)
    multiplier: float = attrs.field(default=2.0, validator=_positive)
    maximum: float = attrs.field(default=30.0, validator=_positive)
    jitter: float = attrs.field(default=0.5, validator=_positive)
    max_retry_after: float = attrs.field(default=120.0, validator=_positive)

    @attempts.validator
    def _check_attempts(self, _attribute: object, value: int) -> None:
        if value < 1:
            raise InputError(f"retry policy: attempts must be at least 1, got {value}")


def should_retry(error: BaseException) -> bool:
    """True for errors worth another attempt: throttling and ambiguous outcomes.

    Validation errors, stale versions, duplicates, authentication failures and
    every other non-transient back-end error are never retried.
    """
    return isinstance(error, TransientBackendError)


def retry_delay(policy: RetryPolicy, attempt: int, error: BaseException, draw: float) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1-based).

    ``draw`` is a random number in ``[0, 1)``. A throttling error's
    ``retry_after`` wins over the back-off (capped at ``max_retry_after``), so
    the back end's own schedule is respected; no jitter is taken off it.
    """
    if isinstance(error, ThrottledError) and error.retry_after is not None:
        return min(max(error.retry_after, 0.0), policy.max_retry_after)
    base = min(policy.initial * policy.multiplier ** max(attempt - 1, 0), policy.maximum)
    return base * (1.0 - min(policy.jitter, 1.0) * draw)


def retrying(
    policy: RetryPolicy,
    *,
    sleep: Callable[[float], None],
    on_retry: Callable[[int, BaseException, float], None] | None = None,
    rng: random.Random | None = None,
    give_up: Callable[[], bool] | None = None,
    predicate: Callable[[BaseException], bool] = should_retry,
) -> tenacity.Retrying:
    """A tenacity loop for ``policy``.

    ``on_retry(attempt, error, delay)`` runs before each pause; ``give_up()``
    returning true stops the loop at the next failure (cancellation).
    ``predicate`` narrows which errors are retried (default :func:`should_retry`).
    The last error is re-raised when attempts run out.
    """
    draws = rng or random.Random()

    def wait(state: tenacity.RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if error is None:  # pragma: no cover - tenacity only waits after a failure
            return 0.0
        return retry_delay(policy, state.attempt_number, error, draws.random())

    def before_sleep(state: tenacity.RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        delay = state.upcoming_sleep
        if on_retry is not None and error is not None:
            on_retry(state.attempt_number, error, delay)

    def stop(state: tenacity.RetryCallState) -> bool:
        if give_up is not None and give_up():
            return True
        return state.attempt_number >= policy.attempts

    return tenacity.Retrying(
        stop=stop,
        wait=wait,
        retry=tenacity.retry_if_exception(predicate),
        before_sleep=before_sleep,
        sleep=sleep,
        reraise=True,
    )
