"""The heartbeat of a run's slots: a request longer than the lease keeps its slot.

The store runs on a hand-moved clock, so the lease runs out exactly when the test
moves the clock past it; the heartbeat thread runs on real time (every 20 ms), and
the tests wait for what it does (a renewal), never for a length of time.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence

import pytest

from syncstate.adapters.storage.memory.budgets import MemoryBudgetStore
from syncstate.errors import InputError, StorageError
from syncstate.ports.budget import BudgetLimits, BudgetScope
from syncstate.services.budgets import Budgets, SharedBudget

SCOPE = BudgetScope("quickbooks", "acme")
ONE = BudgetLimits(concurrent=1)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Recording(MemoryBudgetStore):
    """The memory store, noting each renewal's slots; ``fail`` makes renewals fail."""

    def __init__(self, clock: Callable[[], float]) -> None:
        super().__init__(clock=clock)
        self.renewed: list[tuple[str, ...]] = []
        self.fail = False

    def renew(
        self, scope: BudgetScope, slots: Sequence[str], *, lease: float = 130.0
    ) -> tuple[str, ...]:
        if self.fail:
            raise StorageError("the budget store is gone")
        renewed = super().renew(scope, slots, lease=lease)
        self.renewed.append(tuple(slots))  # noted once done: a test then sees its effect
        return renewed


def beating(limits: BudgetLimits = ONE) -> tuple[Clock, Recording, SharedBudget]:
    """A run's budget on a recording store, its lease 10 s and its heartbeat every 20 ms."""
    clock = Clock()
    store = Recording(clock)
    return clock, store, SharedBudget(store, SCOPE, limits, lease=10, heartbeat=0.02)


def until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 30
    while not condition():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.01)


def beats() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("budget-heartbeat")]


def test_a_request_longer_than_the_lease_keeps_its_slot() -> None:
    clock, store, budget = beating()
    with budget.slot():
        for _ in range(5):  # 5 x 8 s: four leases, each move inside the renewed lease
            seen = len(store.renewed)
            until(lambda seen=seen: len(store.renewed) > seen, "a renewal")
            clock.now += 8
            assert store.take(SCOPE, ONE, holder="other").reason == "busy"
        assert store.usage(SCOPE).holders == (budget.holder,)
    budget.flush()
    assert budget.stats["renewals"] >= 5 and budget.stats["lost"] == 0
    assert store.take(SCOPE, ONE, holder="other").slot is not None


def test_without_renewal_the_same_request_loses_its_slot_after_the_lease() -> None:
    clock = Clock()
    store = MemoryBudgetStore(clock=clock)
    budget = SharedBudget(store, SCOPE, ONE, lease=10, heartbeat=3600)  # never in this test
    with budget.slot():
        clock.now += 11
        assert store.take(SCOPE, ONE, holder="other").slot is not None


def test_only_requests_in_progress_are_renewed_and_the_thread_ends_with_the_run() -> None:
    _clock, store, budget = beating(BudgetLimits(concurrent=2))
    with budget.slot():
        first = next(iter(budget._held))
    with budget.slot():
        second = next(iter(budget._held))
        seen = len(store.renewed)
        until(lambda: len(store.renewed) > seen, "a renewal of the second request")
    assert first != second
    assert all(first not in renewed for renewed in store.renewed[seen:])
    budget.flush()
    until(lambda: not beats(), "the heartbeat thread to end")
    count = len(store.renewed)
    with budget.slot():  # a new request of the run starts a heartbeat again
        until(lambda: len(store.renewed) > count, "a renewal after the restart")
    budget.flush()
    until(lambda: not beats(), "the heartbeat thread to end again")


def test_a_slot_that_expired_before_its_renewal_is_counted_lost(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock, _store, budget = beating()
    with caplog.at_level(logging.WARNING), budget.slot():
        clock.now += 11  # the heartbeat was late: the lease ran out
        until(lambda: budget.stats["lost"] >= 1, "the slot counted lost")
    budget.flush()
    assert "expired before their renewal" in caplog.text


def test_a_failing_store_does_not_stop_the_heartbeat_or_the_request(
    caplog: pytest.LogCaptureFixture,
) -> None:
    _clock, store, budget = beating()
    store.fail = True
    with caplog.at_level(logging.WARNING), budget.slot():
        until(lambda: "could not renew" in caplog.text, "a failed renewal logged")
        store.fail = False
        until(lambda: len(store.renewed) > 0, "a renewal once the store is back")
    budget.flush()


def test_the_heartbeat_defaults_to_a_third_of_the_lease_and_must_be_below_it() -> None:
    store = MemoryBudgetStore()
    budgets = Budgets(store=store, lease=90)
    assert budgets.for_company(_Backend(), "acme").heartbeat == pytest.approx(30)
    assert Budgets(store=store, lease=90, heartbeat=5).for_company(_Backend(), "a").heartbeat == 5
    for bad in (0, -1, 90, 120):
        with pytest.raises(InputError, match="heartbeat"):
            Budgets(store=store, lease=90, heartbeat=bad)
    with pytest.raises(InputError, match="lease"):
        Budgets(store=store, lease=0)


class _Backend:
    name = "quickbooks"


class _OldStore:
    """A store written before ``renew`` existed: everything else of the memory store."""

    def __init__(self) -> None:
        self._inner = MemoryBudgetStore()
        self.take, self.release = self._inner.take, self._inner.release
        self.hold, self.usage, self.close = self._inner.hold, self._inner.usage, self._inner.close


def test_a_store_without_renew_still_works_without_a_heartbeat(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING):
        budget = SharedBudget(_OldStore(), SCOPE, ONE, lease=10, heartbeat=0.01)  # type: ignore[arg-type]
    assert "cannot renew leases" in caplog.text
    with budget.slot():
        assert budget._beat is None
    budget.flush()
    assert budget.stats["slots"] == 1
