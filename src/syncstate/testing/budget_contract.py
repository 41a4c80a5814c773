"""The conformance kit every :class:`~syncstate.ports.BudgetStore` must pass.

Subclass :class:`BudgetStoreContract` and provide a ``budgets`` fixture (a fresh,
empty store). The checks run on real time (a PostgreSQL store reads the
server's clock), with margins that hold on a busy machine: a rate of one request
in 10 s (a take answers how long to wait, it does not wait), holds of 30 s, and
leases that are renewed often, leave a pause of over a second before one could
run out, and are waited for as long as it takes::

    class TestMyBudgets(BudgetStoreContract):
        @pytest.fixture
        def budgets(self) -> Iterator[BudgetStore]:
            store = MyBudgetStore(...)
            yield store
            store.close()
"""

from __future__ import annotations

import time
import uuid

import pytest

from syncstate.ports.budget import BudgetLimits, BudgetScope, BudgetStore

__all__ = ["BudgetStoreContract"]


#: seconds a store's answer may be off (float rounding, clocks read a moment apart)
TOLERANCE = 0.05


def _scope() -> BudgetScope:
    return BudgetScope("quickbooks", f"co-{uuid.uuid4().hex[:8]}")


def _assert_due(wait: float, due: float, started: float) -> None:
    """``wait`` is right for a request due ``due`` s after the first take (after ``started``).

    However slow the machine: the takes ran between ``started`` and now, so the wait
    lies between ``due`` minus the time they took and ``due``.
    """
    took = time.monotonic() - started
    assert due - took - TOLERANCE <= wait <= due + TOLERANCE, (wait, due, took)


class BudgetStoreContract:
    """Behaviour shared by every budget store."""

    def test_unlimited_scope_grants_at_once(self, budgets: BudgetStore) -> None:
        grant = budgets.take(_scope(), BudgetLimits(), holder="w1")
        assert grant.slot is not None
        assert grant.wait == pytest.approx(0.0, abs=0.01)

    def test_requests_are_spaced_by_the_rate(self, budgets: BudgetStore) -> None:
        scope = _scope()
        limits = BudgetLimits(per_minute=6)  # one every 10 s: the takes do not wait for them
        started = time.monotonic()
        waits = [budgets.take(scope, limits, holder="w1").wait for _ in range(5)]
        for i, wait in enumerate(waits):  # the i-th is due 10 i s after the first
            _assert_due(wait, 10.0 * i, started)

    def test_cost_moves_the_rate_on_by_that_many_requests(self, budgets: BudgetStore) -> None:
        scope = _scope()
        limits = BudgetLimits(per_minute=6)
        started = time.monotonic()
        budgets.take(scope, limits, holder="w1", cost=3)
        _assert_due(budgets.take(scope, limits, holder="w1").wait, 30.0, started)

    def test_batch_requests_also_keep_to_the_batch_rate(self, budgets: BudgetStore) -> None:
        scope = _scope()
        limits = BudgetLimits(per_minute=600, batch_per_minute=3)  # batch: one per 20 s
        started = time.monotonic()
        budgets.take(scope, limits, holder="w1", batch=True)
        single = budgets.take(scope, limits, holder="w1")
        batch = budgets.take(scope, limits, holder="w1", batch=True)
        assert single.wait <= 0.1 + TOLERANCE
        _assert_due(batch.wait, 20.0, started)

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
        dead = budgets.take(scope, limits, holder="dead", lease=1.5)
        assert dead.slot is not None
        assert budgets.take(scope, limits, holder="alive").slot is None
        assert budgets.usage(scope).holders == ("dead",)
        deadline = time.monotonic() + 30  # as long as it takes: no race with the lease
        while (grant := budgets.take(scope, limits, holder="alive")).slot is None:
            assert time.monotonic() < deadline, "the dead worker's slot never came back"
            time.sleep(min(grant.wait, 0.1))

    def test_a_hold_stops_every_taker_and_is_never_shortened(self, budgets: BudgetStore) -> None:
        scope = _scope()
        started = time.monotonic()
        budgets.hold(scope, 30.0)
        budgets.hold(scope, 0.1)
        grant = budgets.take(scope, BudgetLimits(), holder="w2")
        assert grant.slot is None and grant.reason == "held"
        _assert_due(grant.wait, 30.0, started)
        _assert_due(budgets.usage(scope).held_for, 30.0, started)
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

    def test_a_renewed_slot_outlives_its_first_lease_and_is_not_given_away(
        self, budgets: BudgetStore
    ) -> None:
        scope = _scope()
        limits = BudgetLimits(concurrent=1)
        lease = 1.5
        slow = budgets.take(scope, limits, holder="slow", lease=lease).slot
        assert slow is not None
        started = time.monotonic()
        # renew every 0.1 s until well past the first lease: only a pause of over 1.4 s
        # between two renewals could let the lease run out
        while time.monotonic() - started < lease + 0.5:
            assert budgets.renew(scope, [slow], lease=lease) == (slow,)
            assert budgets.take(scope, limits, holder="other", lease=lease).reason == "busy"
            time.sleep(0.1)
        assert budgets.usage(scope).holders == ("slow",)
        budgets.release(scope, [slow])
        assert budgets.take(scope, limits, holder="other").slot is not None

    def test_a_holder_that_stops_renewing_loses_its_slot_after_the_lease(
        self, budgets: BudgetStore
    ) -> None:
        scope = _scope()
        limits = BudgetLimits(concurrent=1)
        killed = budgets.take(scope, limits, holder="killed", lease=1.0).slot
        assert killed is not None
        assert budgets.renew(scope, [killed], lease=1.0) == (killed,)
        assert budgets.take(scope, limits, holder="alive").reason == "busy"
        # the holder renews no more: its slot comes back (however slow the machine)
        deadline = time.monotonic() + 30
        while (grant := budgets.take(scope, limits, holder="alive")).slot is None:
            assert time.monotonic() < deadline, "the slot of a holder that died never came back"
            time.sleep(min(grant.wait, 0.1))
        assert budgets.usage(scope).holders == ("alive",)
        # too late: an expired slot is not brought back (the other holder has it now)
        assert budgets.renew(scope, [killed], lease=30) == ()
        assert budgets.usage(scope).slots == 1

    def test_a_renewal_never_shortens_a_lease(self, budgets: BudgetStore) -> None:
        scope = _scope()
        limits = BudgetLimits(concurrent=1)
        slot = budgets.take(scope, limits, holder="w1", lease=60).slot
        assert slot is not None
        assert budgets.renew(scope, [slot], lease=0.05) == (slot,)
        time.sleep(0.2)
        assert budgets.take(scope, limits, holder="w2").reason == "busy"

    def test_only_live_slots_of_the_scope_are_renewed(self, budgets: BudgetStore) -> None:
        scope = _scope()
        limits = BudgetLimits(concurrent=3)
        kept, released = (budgets.take(scope, limits, holder="w").slot for _ in range(2))
        assert kept is not None and released is not None
        budgets.release(scope, [released])
        unknown = str(uuid.uuid4())
        assert budgets.renew(scope, [released, kept, unknown, "no-slot", kept]) == (kept,)
        assert budgets.renew(BudgetScope("xero", scope.company), [kept]) == ()
        assert budgets.renew(scope, []) == ()
        assert budgets.usage(scope).slots == 1
