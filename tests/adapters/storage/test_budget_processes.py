"""Shared budgets across worker processes: SQLite (one machine) and PostgreSQL.

Four forked processes take slots of one company as fast as they can and note
when each "request" ran; the union of their notes never breaks the limits.
A process killed with SIGKILL while holding every slot gives them back when
their leases run out.
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

from postgres_server import pg_dsn, pg_schema, require_postgres_driver  # noqa: F401
from syncstate.ports.budget import BudgetLimits, BudgetScope, BudgetStore
from syncstate.services.budgets import SharedBudget

SCOPE = BudgetScope("quickbooks", "acme")
FORK = multiprocessing.get_context("fork")


def _open(target: dict[str, str]) -> BudgetStore:
    if target["kind"] == "sqlite":
        from syncstate.adapters.storage.sqlite.budgets import SQLiteBudgetStore

        return SQLiteBudgetStore(target["path"])
    from syncstate.adapters.storage.postgres.budgets import PostgresBudgetStore

    return PostgresBudgetStore(target["dsn"], schema=target["schema"], max_size=2)


def _hammer(target: dict[str, str], limits: BudgetLimits, busy: float, until: float, out: str):  # type: ignore[no-untyped-def]
    store = _open(target)
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
    store = _open(target)
    assert limits.concurrent is not None
    for _ in range(limits.concurrent):
        assert store.take(SCOPE, limits, holder="doomed", lease=3.0).slot is not None
    ready.set()
    time.sleep(60)


@pytest.fixture(params=["sqlite", "postgres"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    if request.param == "sqlite":
        path = tmp_path / "budgets.db"
        _open({"kind": "sqlite", "path": str(path)}).close()  # migrate once, up front
        return {"kind": "sqlite", "path": str(path)}
    require_postgres_driver()
    dsn = request.getfixturevalue("pg_dsn")
    schema = request.getfixturevalue("pg_schema")
    _open({"kind": "postgres", "dsn": dsn, "schema": schema}).close()
    return {"kind": "postgres", "dsn": dsn, "schema": schema}


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
    os.kill(doomed.pid or 0, signal.SIGKILL)
    doomed.join(10)
    store = _open(target)
    try:
        assert store.take(SCOPE, limits, holder="alive").reason == "busy"
        deadline = time.monotonic() + 10
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
        store.close()
