"""The conformance kit every :class:`~syncstate.ports.BudgetStore` must pass.

Subclass :class:`BudgetStoreContract` and provide a ``budgets`` fixture (a fresh,
empty store). The checks run on real time (a PostgreSQL store reads the
server's clock), with intervals of tens of milliseconds and tolerances for a
busy machine::

    class TestMyBudgets(BudgetStoreContract):
        @pytest.fixture
        def budgets(self) -> Iterator[BudgetStore]:
            store = MyBudgetStore(...)
            yield store
            store.close()
"""

from __future__ import annotations

import itertools
import time
import uuid

import pytest

from syncstate.ports.budget import BudgetLimits, BudgetScope, BudgetStore

__all__ = ["BudgetStoreContract"]


def _scope() -> BudgetScope:
    return BudgetScope("quickbooks", f"co-{uuid.uuid4().hex[:8]}")


class BudgetStoreContract:
    """Behaviour shared by every budget store."""

    def test_unlimited_scope_grants_at_once(self, budgets: BudgetStore) -> None:
        grant = budgets.take(_scope(), BudgetLimits(), holder="w1")
        assert grant.slot is not None
        assert grant.wait == pytest.approx(0.0, abs=0.01)

    def test_requests_are_spaced_by_the_rate(self, budgets: BudgetStore) -> None:
        scope = _scope()
        limits = BudgetLimits(per_minute=600)  # one every 0.1 s
        started = time.monotonic()
        times = []
        for _ in range(5):
            grant = budgets.take(scope, limits, holder="w1")
            times.append(time.monotonic() - started + grant.wait)
        gaps = [b - a for a, b in itertools.pairwise(times)]
        assert all(gap == pytest.approx(0.1, abs=0.03) for gap in gaps), gaps

    def test_cost_moves_the_rate_on_by_that_many_requests(self, budgets: BudgetStore) -> None:
        scope = _scope()
        limits = BudgetLimits(per_minute=600)
        budgets.take(scope, limits, holder="w1", cost=3)
        grant = budgets.take(scope, limits, holder="w1")
        assert grant.wait == pytest.approx(0.3, abs=0.05)

    def test_batch_requests_also_keep_to_the_batch_rate(self, budgets: BudgetStore) -> None:
        scope = _scope()
        limits = BudgetLimits(per_minute=6000, batch_per_minute=300)  # batch: one per 0.2 s
        budgets.take(scope, limits, holder="w1", batch=True)
        single = budgets.take(scope, limits, holder="w1")
        batch = budgets.take(scope, limits, holder="w1", batch=True)
        assert single.wait < 0.05
        assert batch.wait == pytest.approx(0.2, abs=0.05)

    def test_concurrency_slots_run_out_and_come_back_on_release(self, budgets: BudgetStore) -> None:
        scope = _scope()
        limits = BudgetLimits(concurrent=2)
        first = budgets.take(scope, limits, holder="w1")
        second = budgets.take(scope, limits, holder="w2")
        third = budgets.take(scope, limits, holder="w3")
        assert first.slot and second.slot and first.slot != second.slot
        assert third.slot is None and third.reason == "busy" and third.wait > 0
        assert budgets.usage(scope).slots == 2
        assert first.slot is not None
        budgets.release(scope, [first.slot])
        assert budgets.take(scope, limits, holder="w3").slot is not None

    def test_a_take_hands_back_earlier_slots_in_the_same_call(self, budgets: BudgetStore) -> None:
        scope = _scope()
        limits = BudgetLimits(concurrent=1)
        first = budgets.take(scope, limits, holder="w1")
        assert first.slot is not None
        again = budgets.take(scope, limits, holder="w1", release=[first.slot])
        assert again.slot is not None
        assert budgets.usage(scope).slots == 1

    def test_the_slots_of_a_dead_worker_come_back_after_their_lease(
        self, budgets: BudgetStore
    ) -> None:
        scope = _scope()
        limits = BudgetLimits(concurrent=1)
        dead = budgets.take(scope, limits, holder="dead", lease=0.3)
        assert dead.slot is not None
        assert budgets.take(scope, limits, holder="alive").slot is None
        assert budgets.usage(scope).holders == ("dead",)
        time.sleep(0.4)
        assert budgets.take(scope, limits, holder="alive").slot is not None

    def test_a_hold_stops_every_taker_and_is_never_shortened(self, budgets: BudgetStore) -> None:
        scope = _scope()
        budgets.hold(scope, 1.0)
        budgets.hold(scope, 0.1)
        grant = budgets.take(scope, BudgetLimits(), holder="w2")
        assert grant.slot is None and grant.reason == "held"
        assert grant.wait == pytest.approx(1.0, abs=0.2)
        assert budgets.usage(scope).held_for == pytest.approx(1.0, abs=0.2)
        assert budgets.usage(scope).slots == 0

    def test_companies_and_back_ends_have_budgets_of_their_own(self, budgets: BudgetStore) -> None:
        limits = BudgetLimits(concurrent=1, per_minute=60)
        scope = _scope()
        assert budgets.take(scope, limits, holder="w").slot is not None
        other_company = BudgetScope(scope.backend, scope.company + "-x")
        other_backend = BudgetScope("xero", scope.company)
        for other in (other_company, other_backend):
            grant = budgets.take(other, limits, holder="w")
            assert grant.slot is not None and grant.wait < 0.05
        budgets.hold(other_backend, 5)
        assert budgets.usage(scope).held_for == 0
