"""The slot-lease heartbeat across real processes: SQLite (one machine) and PostgreSQL.

A worker whose request runs several times longer than the lease keeps its slot
(its heartbeat thread renews the lease), while two other processes try to take
it all along; a worker killed mid-request renews no more, and its slot comes back.

Nothing here depends on how fast the machine is: the lease is 2 s and the
heartbeat 0.25 s, so only a pause of over 1.7 s of a live holder could lose its
slot; the checks compare the order of events on the machine's clock (no grant
inside the holder's request) and wait as long as it takes for a lease to run out.
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

SCOPE = BudgetScope("quickbooks", "slow-realm")
LIMITS = BudgetLimits(concurrent=1)
LEASE, HEARTBEAT = 2.0, 0.25
FORK = multiprocessing.get_context("fork")


def _slow_request(target: dict[str, str], holding: Any, finish: Any, out: str) -> None:
    """One request that lasts until the parent says so, inside a slot with a heartbeat."""
    store = open_budget_store(target)
    budget = SharedBudget(store, SCOPE, LIMITS, lease=LEASE, heartbeat=HEARTBEAT)
    with budget.slot():
        start = time.time()
        holding.set()
        finish.wait(120)
        end = time.time()
    budget.flush()
    store.close()
    Path(out).write_text(json.dumps({"start": start, "end": end, **budget.stats}))


def _compete(target: dict[str, str], name: str, finish: Any, stop: Any, out: str) -> None:
    """Take the company's one slot as often as possible; note when each was granted.

    Ends once granted the slot after the holder was told to finish (or on ``stop``).
    """
    store = open_budget_store(target)
    granted = []
    while not stop.is_set():
        late = finish.is_set()
        grant = store.take(SCOPE, LIMITS, holder=name, lease=LEASE)
        if grant.slot is None:
            time.sleep(min(grant.wait, 0.05))
            continue
        granted.append(time.time())
        store.release(SCOPE, [grant.slot])
        if late:
            break
        time.sleep(0.01)
    store.close()
    Path(out).write_text(json.dumps(granted))


def _hang(target: dict[str, str], holding: Any) -> None:
    """A request that never ends: the process is killed in the middle of it."""
    store = open_budget_store(target)
    budget = SharedBudget(store, SCOPE, LIMITS, lease=LEASE, heartbeat=HEARTBEAT)
    with budget.slot():
        holding.set()
        time.sleep(600)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    return budget_target(request, tmp_path)


def test_a_request_longer_than_the_lease_keeps_its_slot_from_other_processes(
    target: dict[str, str], tmp_path: Path
) -> None:
    holding, finish, stop = FORK.Event(), FORK.Event(), FORK.Event()
    out = str(tmp_path / "holder.json")
    holder = FORK.Process(target=_slow_request, args=(target, holding, finish, out))
    holder.start()
    try:
        assert holding.wait(30), "the holder never got its slot"
        outs = [str(tmp_path / f"rival{i}.json") for i in range(2)]
        rivals = [
            FORK.Process(target=_compete, args=(target, f"rival{i}", finish, stop, o))
            for i, o in enumerate(outs)
        ]
        for rival in rivals:
            rival.start()
        # the request runs on for two and a half leases while the rivals keep asking
        time.sleep(2.5 * LEASE)
        finish.set()
        holder.join(30)
        assert holder.exitcode == 0
        held = json.loads(Path(out).read_text())
        for rival in rivals:  # each ends once it has had the slot after the request
            rival.join(60)
            assert rival.exitcode == 0
    finally:
        finish.set()
        stop.set()
    grants = sorted(t for o in outs for t in json.loads(Path(o).read_text()))
    assert held["end"] - held["start"] > LEASE  # longer than one lease, really
    assert held["renewals"] >= 2 and held["lost"] == 0
    inside = [t for t in grants if held["start"] <= t <= held["end"]]
    assert inside == [], "another process was given the slot of a request still running"
    assert len([t for t in grants if t > held["end"]]) >= 2  # they asked, and got it after


def test_a_killed_worker_renews_no_more_and_its_slot_comes_back(
    target: dict[str, str],
) -> None:
    holding = FORK.Event()
    doomed = FORK.Process(target=_hang, args=(target, holding))
    doomed.start()
    store = open_budget_store(target)
    try:
        assert holding.wait(30), "the doomed worker never got its slot"
        started = time.monotonic()
        # alive and renewing: the slot stays taken well past its first lease
        while time.monotonic() - started < 1.5 * LEASE:
            assert store.take(SCOPE, LIMITS, holder="alive").reason == "busy"
            time.sleep(0.2)
        os.kill(doomed.pid or 0, signal.SIGKILL)
        doomed.join(10)
        deadline = time.monotonic() + 60
        while (grant := store.take(SCOPE, LIMITS, holder="alive")).slot is None:
            assert time.monotonic() < deadline, "the killed worker's slot never came back"
            time.sleep(min(grant.wait, 0.1))
        assert store.usage(SCOPE).holders == ("alive",)
    finally:
        if doomed.is_alive():
            os.kill(doomed.pid or 0, signal.SIGKILL)
        store.close()
