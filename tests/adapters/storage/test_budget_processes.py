"""Shared budgets across worker processes: SQLite (one machine) and PostgreSQL.

Four forked processes take slots of one company as fast as they can and note
when each "request" ran; the union of their notes never breaks the limits.
A process killed with SIGKILL while holding every slot gives them back when
their leases run out (it renews them while alive, so the check that they are
taken does not race their lease on a busy machine).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from budget_targets import budget_target, open_budget_store
from postgres_server import pg_dsn, pg_schema  # noqa: F401
from syncstate.ports.budget import BudgetLimits, BudgetScope
from syncstate.services.budgets import SharedBudget

SCOPE = BudgetScope("quickbooks", "acme")
FORK = multiprocessing.get_context("fork")


def _hammer(target: dict[str, str], limits: BudgetLimits, busy: float, until: float, out: str):  # type: ignore[no-untyped-def]
    store = open_budget_store(target)
    budget = SharedBudget(store, SCOPE, limits, lease=30)
    spans = []
    while time.time() < until:
        with budget.slot():
            start = time.time()
            time.sleep(busy)
            spans.append((start, time.time()))
    budget.flush()
    store.close()
    Path(out).write_text(json.dumps(spans))


def _hold_all(target: dict[str, str], limits: BudgetLimits, ready: Any) -> None:
    store = open_budget_store(target)
    assert limits.concurrent is not None
    slots = []
    for _ in range(limits.concurrent):
        slot = store.take(SCOPE, limits, holder="doomed", lease=3.0).slot
        assert slot is not None
        slots.append(slot)
    ready.set()
    while True:  # a heartbeat, until killed
        store.renew(SCOPE, slots, lease=3.0)
        time.sleep(0.2)


@pytest.fixture(params=["sqlite", "postgres"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    return budget_target(request, tmp_path)


def _run(target: dict[str, str], limits: BudgetLimits, busy: float, tmp_path: Path) -> list:  # type: ignore[type-arg]
    until = time.time() + 1.5
    outs = [str(tmp_path / f"spans{i}.json") for i in range(4)]
    procs = [FORK.Process(target=_hammer, args=(target, limits, busy, until, o)) for o in outs]
    for p in procs:
        p.start()
    for p in procs:
        p.join(30)
        assert p.exitcode == 0
    return sorted(span for o in outs for span in json.loads(Path(o).read_text()))


def _peak_overlap(spans: list) -> int:  # type: ignore[type-arg]
    edges = sorted([(s, 1) for s, _ in spans] + [(e, -1) for _, e in spans])
    peak = now = 0
    for _, step in edges:
        now += step
        peak = max(peak, now)
    return peak


def test_four_processes_never_hold_more_slots_than_allowed(
    target: dict[str, str], tmp_path: Path
) -> None:
    spans = _run(target, BudgetLimits(concurrent=2), 0.05, tmp_path)
    assert _peak_overlap(spans) == 2
    # concurrency is the limit here, and it is used: about 2 / 0.05 s = 40 a second
    assert len(spans) >= 0.6 * 40 * 1.5


def test_four_processes_together_keep_to_the_request_rate(
    target: dict[str, str], tmp_path: Path
) -> None:
    spans = _run(target, BudgetLimits(per_minute=1200, concurrent=10), 0.005, tmp_path)
    starts = [s for s, _ in spans]
    # 20 a second in all (each process alone would take 20): over the run, and in its
    # busiest second, allowing two for a process that the machine paused
    busiest = max(sum(1 for t in starts if s <= t < s + 1.0) for s in starts)
    assert busiest <= 20 + 2
    span = starts[-1] - starts[0]
    assert 0.7 * 20 * span <= len(spans) <= 20 * span + 2


def test_the_slots_of_a_killed_process_come_back_after_their_lease(
    target: dict[str, str],
) -> None:
    limits = BudgetLimits(concurrent=3)
    ready = FORK.Event()
    doomed = FORK.Process(target=_hold_all, args=(target, limits, ready))
    doomed.start()
    assert ready.wait(20)
    store = open_budget_store(target)
    try:
        assert store.take(SCOPE, limits, holder="alive").reason == "busy"  # renewed: held
        os.kill(doomed.pid or 0, signal.SIGKILL)
        doomed.join(10)
        deadline = time.monotonic() + 60
        taken = 0
        while taken < 3:  # every slot of the dead process comes back
            grant = store.take(SCOPE, limits, holder="alive")
            if grant.slot is not None:
                taken += 1
                continue
            assert time.monotonic() < deadline, "the dead process's slots never came back"
            time.sleep(grant.wait)
        assert store.usage(SCOPE).holders == ("alive",)
    finally:
        if doomed.is_alive():
            os.kill(doomed.pid or 0, signal.SIGKILL)
        store.close()
