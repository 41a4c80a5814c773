"""Shared budgets in the export engine: every worker of a company keeps to its limits.

The limits are counted where they apply: at the local QuickBooks-like server,
which enforces a per-realm rate and concurrency and answers 429 beyond them.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from syncstate.adapters.backends.quickbooks.client import QuickBooksBackend, QuickBooksConfig
from syncstate.adapters.backends.quickbooks.payloads import QboMapping, find_tag
from syncstate.adapters.storage.memory.budgets import MemoryBudgetStore
from syncstate.adapters.storage.sqlite.budgets import SQLiteBudgetStore
from syncstate.adapters.storage.sqlite.state import SQLiteStore
from syncstate.domain.records import TimeEntry
from syncstate.domain.state import ExportState
from syncstate.errors import ThrottledError
from syncstate.ports.budget import BudgetLimits, BudgetScope
from syncstate.services.budgeted import BudgetedBackend
from syncstate.services.budgets import (
    LINGER,
    QUICKBOOKS_LIMITS,
    Budgets,
    SharedBudget,
    declared_limits,
)
from syncstate.services.export import ExportOptions, export_records
from syncstate.services.retry import RetryPolicy
from syncstate.testing.qbo_meter import MeteredQboServer

FORK = multiprocessing.get_context("fork")


class Tokens:
    def access_token(self, company: str) -> str:
        return "budget-token"

    def refresh(self, company: str) -> str:
        return "budget-token"


def qbo(server: MeteredQboServer, client: httpx.Client, **config: object) -> QuickBooksBackend:
    return QuickBooksBackend(
        tokens=Tokens(),
        mapping=QboMapping(employees={"emp": "1"}),
        config=QuickBooksConfig(base_url=server.base_url, **config),  # type: ignore[arg-type]
        client=client,
    )


def entries(company: str, n: int) -> list:  # type: ignore[type-arg]
    return [
        TimeEntry(
            source_id=f"t{i:04d}", employee="emp", date=dt.date(2024, 3, 1), hours="1"
        ).to_record(company)
        for i in range(n)
    ]


@pytest.fixture
def server() -> Iterator[MeteredQboServer]:
    with MeteredQboServer() as running:
        yield running


def test_quickbooks_declares_its_documented_limits_and_a_host_can_only_lower_them() -> None:
    backend = QuickBooksBackend(tokens=Tokens(), mapping=QboMapping(), config=QuickBooksConfig())
    assert declared_limits(backend) == QUICKBOOKS_LIMITS
    assert declared_limits(backend) == BudgetLimits(
        per_minute=500, concurrent=10, batch_per_minute=40
    )
    budgets = Budgets(
        store=MemoryBudgetStore(),
        limits={"quickbooks": BudgetLimits(per_minute=100, concurrent=50)},
        headroom=1.0,
    )
    assert budgets.limits_for(backend) == BudgetLimits(
        per_minute=100, concurrent=10, batch_per_minute=40
    )


def test_a_retry_after_seen_by_one_worker_holds_back_the_others(
    server: MeteredQboServer,
) -> None:
    realm = f"r-{uuid.uuid4().hex[:6]}"
    server.add(realm, "Employee", {"DisplayName": "Ann"})
    server.faults.rate_limit, server.faults.rate_window = 1, 60.0
    server.faults.retry_after = 0.6
    store = MemoryBudgetStore()
    scope = BudgetScope("quickbooks", realm)
    records = entries(realm, 3)
    from syncstate.services.rendering import render_time_entry

    docs = [render_time_entry(_stored(r)) for r in records]
    with httpx.Client() as client:
        first = BudgetedBackend(qbo(server, client), SharedBudget(store, scope, BudgetLimits()))
        other_budget = SharedBudget(store, scope, BudgetLimits())
        other = BudgetedBackend(qbo(server, client), other_budget)
        first.create(realm, docs[0], idempotency_key="k0")
        with pytest.raises(ThrottledError):
            first.create(realm, docs[1], idempotency_key="k1")
        assert store.usage(scope).held_for == pytest.approx(0.6, abs=0.15)
        server.faults.rate_limit = None
        started = time.monotonic()
        other.create(realm, docs[2], idempotency_key="k2")
        assert time.monotonic() - started >= 0.45  # the other worker waited for the hold
        assert other_budget.stats["waits"] >= 1
    assert server.report(realm, window=60).throttled == 1


def _stored(record):  # type: ignore[no-untyped-def]
    from syncstate.domain.state import Status
    from syncstate.ports import StoredRecord

    return StoredRecord(record, Status())


def _export(path: str, url: str, realm: str, shared: bool) -> None:
    with SQLiteStore(path) as store, httpx.Client(timeout=30) as client:
        budgets = Budgets(store=SQLiteBudgetStore(path), headroom=0.9, lease=30)
        options = ExportOptions(
            concurrency=4,
            use_batch=False,
            retry=RetryPolicy(attempts=30, initial=0.05, maximum=0.5),
            budget=budgets if shared else None,
            requests_per_minute=None if shared else 20 * 60,
        )
        backend = qbo_at(url, client)
        backend.budget_limits = BudgetLimits(per_minute=20 * 60, concurrent=2)
        export_records(store, backend, realm, options=options)


class _LocalQuickBooks(QuickBooksBackend):
    budget_limits: BudgetLimits | None = None


def qbo_at(url: str, client: httpx.Client) -> _LocalQuickBooks:
    return _LocalQuickBooks(
        tokens=Tokens(),
        mapping=QboMapping(employees={"emp": "1"}),
        config=QuickBooksConfig(base_url=url),
        client=client,
    )


def _four_processes(server: MeteredQboServer, tmp_path: Path, *, shared: bool, n: int) -> str:
    realm = f"r-{uuid.uuid4().hex[:6]}"
    path = str(tmp_path / f"{realm}.db")
    server.add(realm, "Employee", {"DisplayName": "Ann"})
    with SQLiteStore(path) as store:
        store.ingest(realm, entries(realm, n), at=dt.datetime.now(dt.UTC), actor="t")
    SQLiteBudgetStore(path).close()
    procs = [
        FORK.Process(target=_export, args=(path, server.base_url, realm, shared)) for _ in range(4)
    ]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(60)
        assert proc.exitcode == 0
    with SQLiteStore(path) as store:
        assert store.counts(realm).get(ExportState.EXPORTED, 0) == n
    tags = [find_tag(str(d["Description"])) for d in server.documents(realm, "TimeActivity")]
    assert len(tags) == len(set(tags)) == n  # exactly once
    return realm


def test_four_processes_exporting_one_company_keep_to_its_limits_together(
    server: MeteredQboServer, tmp_path: Path
) -> None:
    server.faults.latency = 0.02
    server.faults.rate_limit, server.faults.rate_window = 40, 2.0
    server.faults.concurrency_limit = 2
    realm = _four_processes(server, tmp_path, shared=True, n=60)
    figures = server.report(realm, window=2.0)
    assert figures.throttled == 0
    assert figures.peak_concurrent <= 2 and figures.most_in_window <= 40
    # each pacing alone (the engine without a shared budget) goes over: the test can fail
    alone = _four_processes(server, tmp_path, shared=False, n=80)
    assert server.report(alone, window=2.0).throttled > 0


def test_a_slot_costs_one_round_trip_while_the_run_keeps_sending() -> None:
    store = MemoryBudgetStore()
    scope = BudgetScope("quickbooks", "acme")
    budget = SharedBudget(store, scope, BudgetLimits(concurrent=10))

    def work() -> None:
        for _ in range(50):
            with budget.slot():
                time.sleep(0.001)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    budget.flush()
    assert budget.stats["slots"] == 200
    # each take carries the slots finished before it back: no round trip of their own
    assert budget.stats["round_trips"] <= 200 * 1.05
    assert store.usage(scope).slots == 0


def test_a_finished_slot_goes_back_by_itself_when_nothing_else_runs() -> None:
    store = MemoryBudgetStore()
    scope = BudgetScope("quickbooks", "acme")
    budget = SharedBudget(store, scope, BudgetLimits(concurrent=1))
    with budget.slot():
        pass
    assert store.usage(scope).slots == 1  # waiting a moment for the run's next take
    time.sleep(LINGER * 4)
    assert store.usage(scope).slots == 0
    assert budget.stats["round_trips"] == 2


def test_an_update_counts_as_two_requests_of_the_rate() -> None:
    store = MemoryBudgetStore()
    scope = BudgetScope("quickbooks", "acme")
    budget = SharedBudget(store, scope, BudgetLimits(per_minute=600), sleep=lambda s: None)
    calls: list[str] = []

    class Fake:
        name = "quickbooks"
        capabilities = frozenset()
        max_batch = 0

        def update(self, *args: object, **kwargs: object) -> None:
            calls.append("update")

    backend = BudgetedBackend(Fake(), budget)  # type: ignore[arg-type]
    backend.update("acme", None, None, idempotency_key="k")  # type: ignore[arg-type]
    grant = store.take(scope, BudgetLimits(per_minute=600), holder="other")
    assert calls == ["update"]
    assert grant.wait == pytest.approx(0.2, abs=0.05)  # two slots of 0.1 s were taken


def test_when_the_budget_store_is_down_nothing_is_sent_and_nothing_fails(
    server: MeteredQboServer, tmp_path: Path
) -> None:
    realm = f"r-{uuid.uuid4().hex[:6]}"
    server.add(realm, "Employee", {"DisplayName": "Ann"})
    budgets = SQLiteBudgetStore(tmp_path / "budgets.db")
    budgets.close()  # the shared store is unreachable
    options = ExportOptions(
        budget=Budgets(store=budgets), retry=RetryPolicy(attempts=2, initial=0.01, maximum=0.02)
    )
    with SQLiteStore(tmp_path / "s.db") as store, httpx.Client() as client:
        store.ingest(realm, entries(realm, 3), at=dt.datetime.now(dt.UTC), actor="t")
        report = export_records(store, qbo(server, client), realm, options=options)
        assert report.released == 3 and not report.failed
        assert "shared budget" in report.outcomes[0].message
        assert store.counts(realm)[ExportState.NOT_EXPORTED] == 3  # exportable next time
    assert server.stats["requests"] == 0
