"""Shared budgets in memory: for the threads of one process (tests, notebooks)."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Sequence

import attrs

from syncstate.adapters.storage.budget_rules import plan_take
from syncstate.ports.budget import BudgetLimits, BudgetScope, BudgetUsage, Grant

__all__ = ["MemoryBudgetStore"]


@attrs.define
class _Scope:
    next_free: float = 0.0
    next_batch: float = 0.0
    held_until: float = 0.0
    #: slot id -> (holder, lease end)
    slots: dict[str, tuple[str, float]] = attrs.field(factory=dict)


class MemoryBudgetStore:
    """A :class:`~syncstate.ports.BudgetStore` in one process; ``clock`` for tests."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._scopes: dict[BudgetScope, _Scope] = {}

    def __repr__(self) -> str:
        return f"MemoryBudgetStore(scopes={len(self._scopes)})"

    def _scope(self, scope: BudgetScope, now: float) -> _Scope:
        row = self._scopes.setdefault(scope, _Scope())
        row.slots = {k: v for k, v in row.slots.items() if v[1] > now}
        return row

    def take(
        self,
        scope: BudgetScope,
        limits: BudgetLimits,
        *,
        holder: str,
        batch: bool = False,
        cost: int = 1,
        lease: float = 130.0,
        release: Sequence[str] = (),
    ) -> Grant:
        """Take a slot and the next request time (see the port)."""
        with self._lock:
            now = self._clock()
            row = self._scope(scope, now)
            for slot in release:
                row.slots.pop(slot, None)
            plan = plan_take(
                limits,
                now=now,
                next_free=row.next_free,
                next_batch=row.next_batch,
                held_until=row.held_until,
                live_slots=len(row.slots),
                batch=batch,
                cost=max(cost, 1),
            )
            if not plan.granted:
                return Grant(slot=None, wait=plan.wait, reason=plan.reason)
            row.next_free, row.next_batch = plan.next_free, plan.next_batch
            slot = uuid.uuid4().hex
            row.slots[slot] = (holder, now + plan.wait + lease)
            return Grant(slot=slot, wait=plan.wait)

    def release(self, scope: BudgetScope, slots: Sequence[str]) -> None:
        """Hand slots back."""
        with self._lock:
            row = self._scopes.get(scope)
            for slot in slots:
                if row is not None:
                    row.slots.pop(slot, None)

    def renew(
        self, scope: BudgetScope, slots: Sequence[str], *, lease: float = 130.0
    ) -> tuple[str, ...]:
        """Extend the leases of live ``slots`` (see the port)."""
        with self._lock:
            now = self._clock()
            row = self._scope(scope, now)  # expired slots are dropped first: never renewed
            renewed = []
            for slot in dict.fromkeys(slots):
                held = row.slots.get(slot)
                if held is not None:
                    row.slots[slot] = (held[0], max(held[1], now + lease))
                    renewed.append(slot)
            return tuple(renewed)

    def hold(self, scope: BudgetScope, seconds: float) -> None:
        """Hold the scope back for ``seconds``."""
        with self._lock:
            now = self._clock()
            row = self._scope(scope, now)
            row.held_until = max(row.held_until, now + max(seconds, 0.0))

    def usage(self, scope: BudgetScope) -> BudgetUsage:
        """Live slots and the hold still to run."""
        with self._lock:
            now = self._clock()
            row = self._scope(scope, now)
            return BudgetUsage(
                slots=len(row.slots),
                held_for=max(row.held_until - now, 0.0),
                holders=tuple(sorted({h for h, _ in row.slots.values()})),
            )

    def close(self) -> None:
        """Nothing to release."""
