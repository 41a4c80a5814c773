"""The engine-agnostic fan-out services: a page of one company, and who has work."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from syncstate.adapters.backends.quickbooks.client import QuickBooksBackend, QuickBooksConfig
from syncstate.adapters.backends.quickbooks.payloads import QboMapping, find_tag
from syncstate.adapters.storage.memory.budgets import MemoryBudgetStore
from syncstate.adapters.storage.sqlite.state import SQLiteStore
from syncstate.domain.records import TimeEntry
from syncstate.domain.state import ExportState
from syncstate.ports.budget import BudgetScope
from syncstate.services.budgets import Budgets
from syncstate.services.export import ExportOptions
from syncstate.services.fanout import MemoryTickets, companies_with_work, export_page
from syncstate.services.leases import release_worker
from syncstate.testing.qbo_server import QboServer

NOW = dt.datetime.now(dt.UTC)


class Tokens:
    def access_token(self, company: str) -> str:
        return "fanout-token"

    def refresh(self, company: str) -> str:
        return "fanout-token"


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[tuple[SQLiteStore, QboServer, QuickBooksBackend, str]]:
    realm = f"f-{uuid.uuid4().hex[:6]}"
    with SQLiteStore(tmp_path / "s.db") as store, QboServer() as server, httpx.Client() as c:
        server.add(realm, "Employee", {"DisplayName": "Ann"})
        backend = QuickBooksBackend(
            tokens=Tokens(),
            mapping=QboMapping(employees={"emp": "1", "gone": "999"}),
            config=QuickBooksConfig(base_url=server.base_url, max_batch=5),
            client=c,
        )
        store.ingest(
            realm,
            [
                TimeEntry(
                    source_id=f"t{i:03d}", employee="emp", date=dt.date(2024, 5, 1), hours="1"
                ).to_record(realm)
                for i in range(23)
            ],
            at=NOW,
            actor="t",
        )
        yield store, server, backend, realm


def test_pages_go_through_a_company_until_nothing_is_left(rig) -> None:  # type: ignore[no-untyped-def]
    store, server, backend, realm = rig
    sizes = []
    while True:
        outcome = export_page(store, backend, realm, page_size=10)
        sizes.append(0 if outcome.report is None else outcome.report.exported)
        if not outcome.more:
            break
        assert outcome.retry_in == 0
    assert sizes == [10, 10, 3]
    tags = [find_tag(str(d["Description"])) for d in server.documents(realm, "TimeActivity")]
    assert len(tags) == len(set(tags)) == 23
    assert companies_with_work(store) == []


def test_a_record_that_keeps_failing_is_retried_by_the_first_page_of_a_round_only(  # type: ignore[no-untyped-def]
    rig,
) -> None:
    store, _server, backend, realm = rig
    bad = TimeEntry(source_id="zz", employee="gone", date=dt.date(2024, 5, 1), hours="1")
    store.ingest(realm, [bad.to_record(realm)], at=NOW, actor="t")
    pages = 0
    while export_page(store, backend, realm, page_size=30).more:
        pages += 1
        assert pages < 5, "a failing record must not loop the chain"
    assert store.counts(realm)[ExportState.FAILED] == 1
    assert companies_with_work(store) == [realm]  # the next round retries it
    again = export_page(store, backend, realm, page_size=30, retry_failed=True)
    assert again.report is not None and len(again.report.failed) == 1 and not again.more
    assert export_page(store, backend, realm, page_size=30).report is None


def test_records_a_dead_worker_holds_come_back_after_their_lease(rig) -> None:  # type: ignore[no-untyped-def]
    store, _server, backend, realm = rig
    now = dt.datetime.now(dt.UTC)
    store.claim(
        realm, worker="dead:1", lease_until=now + dt.timedelta(seconds=30), at=now, actor="t",
        limit=23,
    )  # fmt: skip
    outcome = export_page(store, backend, realm, page_size=10)
    assert outcome.report is None and outcome.more
    assert 20 < outcome.retry_in <= 30  # the chain comes back when the leases run out
    release_worker(store, realm, "dead:1", actor="ops")  # an operator knows it is dead
    report = export_page(store, backend, realm, page_size=30).report
    assert report is not None and report.exported == 23


def test_a_company_held_back_by_its_back_end_yields_without_claiming(rig) -> None:  # type: ignore[no-untyped-def]
    store, server, backend, realm = rig
    budgets = Budgets(store=MemoryBudgetStore(), yield_after=1.0)
    budgets.store.hold(BudgetScope("quickbooks", realm), 5.0)
    outcome = export_page(store, backend, realm, options=ExportOptions(budget=budgets))
    assert outcome.report is None and outcome.more and 4 < outcome.retry_in <= 5
    assert store.counts(realm)[ExportState.NOT_EXPORTED] == 23
    assert server.stats["requests"] == 0
    assert outcome.to_dict()["retry_in"] == pytest.approx(outcome.retry_in, abs=0.01)


def test_a_run_that_meets_a_long_hold_stops_and_releases_what_it_claimed(rig) -> None:  # type: ignore[no-untyped-def]
    store, server, backend, realm = rig
    store_budgets = MemoryBudgetStore()
    budgets = Budgets(store=store_budgets, yield_after=1.0, headroom=1.0)
    server.faults.rate_limit, server.faults.rate_window = 2, 60.0
    server.faults.retry_after = 30.0
    outcome = export_page(
        store, backend, realm, page_size=23, options=ExportOptions(budget=budgets, use_batch=False)
    )
    assert outcome.report is not None and outcome.report.cancelled
    assert outcome.more and outcome.retry_in > 25
    counts = store.counts(realm)
    assert counts.get(ExportState.IN_FLIGHT, 0) == 0  # nothing left claimed
    assert counts[ExportState.EXPORTED] == server.count(realm, "TimeActivity")
    assert store_budgets.usage(BudgetScope("quickbooks", realm)).slots == 0


def test_memory_tickets_keep_one_chain_per_company() -> None:
    tickets = MemoryTickets()
    assert tickets.take("a", 60) and not tickets.take("a", 60)
    assert tickets.take("b", 60)
    tickets.drop("a")
    assert tickets.take("a", 0.0001)
    import time

    time.sleep(0.01)
    assert tickets.take("a", 60)  # an expired ticket is taken again
