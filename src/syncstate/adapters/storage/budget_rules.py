"""The one rule every budget store applies in :meth:`~syncstate.ports.BudgetStore.take`.

Pure: the stores load a scope's row (next free request times, hold, live
slots), call :func:`plan_take` with their clock's ``now`` and write back what it
says, in one transaction. Rates are a token bucket with a burst of one (the
generic cell rate algorithm): each request is given the next free time, which
moves on by ``60 / per_minute`` seconds, so requests are evenly spaced and no
window of any length holds more than the limit allows.
"""

from __future__ import annotations

from typing import Literal

import attrs

from syncstate.ports.budget import BudgetLimits

__all__ = ["BUSY_POLL", "Plan", "plan_take"]

#: longest wait before asking again when every concurrency slot is in use (seconds)
BUSY_POLL = 0.25


@attrs.frozen(kw_only=True)
class Plan:
    """What a take decided: ``at`` (seconds from now) or why not, and the new times."""

    granted: bool
    wait: float
    reason: Literal["granted", "held", "busy"]
    next_free: float
    next_batch: float


def plan_take(
    limits: BudgetLimits,
    *,
    now: float,
    next_free: float,
    next_batch: float,
    held_until: float,
    live_slots: int,
    batch: bool,
    cost: int = 1,
) -> Plan:
    """Decide one take; ``next_free`` / ``next_batch`` / ``held_until`` are store times."""
    if held_until > now:
        return Plan(
            granted=False,
            wait=held_until - now,
            reason="held",
            next_free=next_free,
            next_batch=next_batch,
        )
    interval = 60.0 / limits.per_minute if limits.per_minute else 0.0
    if limits.concurrent is not None and live_slots >= limits.concurrent:
        poll = min(max(interval, 0.01), BUSY_POLL)
        return Plan(
            granted=False, wait=poll, reason="busy", next_free=next_free, next_batch=next_batch
        )
    at = max(now, next_free)
    batch_interval = 0.0
    if batch and limits.batch_per_minute:
        batch_interval = 60.0 / limits.batch_per_minute
        at = max(at, next_batch)
    return Plan(
        granted=True,
        wait=at - now,
        reason="granted",
        next_free=at + interval * cost if interval else next_free,
        next_batch=at + batch_interval if batch_interval else next_batch,
    )
