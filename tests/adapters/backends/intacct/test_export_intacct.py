"""End to end: the export engine, the Intacct adapter and the local Intacct-like gateway.

Intacct refuses a repeated control id instead of replaying it, so every ambiguous
outcome must be resolved by a query on the key before anything is resent. These runs
inject the faults that make outcomes ambiguous and count the timesheets per key.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import attrs
import httpx
import pytest
from intacct_support import Company, backend, seed

from syncstate.adapters.backends.intacct import IntacctBackend
from syncstate.adapters.storage.sqlite.state import SQLiteStore
from syncstate.domain.records import RecordKey, TimeEntry
from syncstate.domain.state import ExportState
from syncstate.ports import Capability
from syncstate.services.export import ExportOptions, export_records, unexport
from syncstate.services.rendering import default_renderers
from syncstate.services.retry import RetryPolicy
from syncstate.testing.intacct_server import IntacctServer

CO = "acme"
AT = dt.datetime(2024, 3, 1, 12, tzinfo=dt.UTC)


@attrs.define
class Later:
    """A clock ``hours`` ahead of now (past the engine's lease)."""

    hours: float

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + dt.timedelta(hours=self.hours)


@pytest.fixture(scope="module")
def server() -> Iterator[IntacctServer]:
    with IntacctServer() as running:
        yield running


@attrs.define
class Books:
    server: IntacctServer
    company: Company
    backend: IntacctBackend
    store: SQLiteStore

    def per_key(self) -> Counter[str]:
        """Timesheets per idempotency key (the reference field)."""
        sheets = self.server.records(self.company.company_id, "TIMESHEET")
        return Counter(str(s.get("DESCRIPTION", "")) for s in sheets)

    def linked_ids(self) -> set[str]:
        """The remote ids the store links its exported records to."""
        exported = self.store.find(CO, states=[ExportState.EXPORTED])
        return {str(r.status.remote_id) for r in exported}

    def sheet_ids(self) -> set[str]:
        sheets = self.server.records(self.company.company_id, "TIMESHEET")
        return {str(s["RECORDNO"]) for s in sheets}


@pytest.fixture
def books(server: IntacctServer, tmp_path: Path) -> Iterator[Books]:
    server.faults = type(server.faults)()
    company = seed(server)
    with httpx.Client(timeout=5.0) as client, SQLiteStore(tmp_path / "state.db") as store:
        yield Books(
            server,
            company,
            backend(server, client, {CO: company.company_id}, company.mapping),
            store,
        )


def ingest(store: SQLiteStore, n: int, *, hours: str = "1.5") -> None:
    records = [
        TimeEntry(
            source_id=f"t{i:04d}",
            employee="emp-1",
            date=dt.date(2024, 2, 1) + dt.timedelta(days=i % 28),
            hours=hours,
            notes=f"work {i}",
        ).to_record(CO)
        for i in range(n)
    ]
    store.ingest(CO, records, at=AT, actor="test")


def fast(**kw: object) -> ExportOptions:
    kw.setdefault("retry", RetryPolicy(attempts=6, initial=0.01, maximum=0.05))
    return ExportOptions(**kw)  # type: ignore[arg-type]


def assert_exactly_once(books: Books, n: int) -> None:
    per_key = books.per_key()
    assert sum(per_key.values()) == n, "a timesheet was lost or duplicated"
    assert set(per_key.values()) == {1}, f"duplicates: {[k for k, c in per_key.items() if c > 1]}"
    assert books.store.counts(CO)[ExportState.EXPORTED] == n
    assert books.linked_ids() == books.sheet_ids()


def test_the_back_end_does_not_claim_to_replay_keys(books: Books) -> None:
    caps = books.backend.capabilities
    assert Capability.REPLAYS_KEY not in caps
    assert {Capability.LOOKUP_BY_KEY, Capability.LOOKUP_MANY} <= caps


def test_a_batched_export_creates_each_timesheet_once_in_few_requests(books: Books) -> None:
    ingest(books.store, 120)
    before = books.server.stats["writes"]
    report = export_records(books.store, books.backend, CO, options=fast())
    assert report.exported == 120 and report.ok
    assert books.server.stats["writes"] - before == 3  # 50 + 50 + 20 functions
    assert_exactly_once(books, 120)


def test_commit_then_fail_and_dropped_connections_never_duplicate(books: Books) -> None:
    ingest(books.store, 30)
    books.server.commit_then_fail(3)
    books.server.commit_then_fail(2, mode="drop")
    books.server.reset_next(3)
    report = export_records(books.store, books.backend, CO, options=fast(use_batch=False))
    assert report.exported == 30 and report.retries >= 5
    assert_exactly_once(books, 30)


def test_an_ambiguous_batch_is_resolved_by_one_query_not_resent(books: Books) -> None:
    ingest(books.store, 20)
    books.server.commit_then_fail(1)
    before_queries = books.server.stats["queries"]
    before_writes = books.server.stats["writes"]
    report = export_records(books.store, books.backend, CO, options=fast())
    assert report.exported == 20 and report.ok
    assert books.server.stats["queries"] - before_queries == 1
    assert books.server.stats["writes"] - before_writes == 1  # found, not written again
    assert_exactly_once(books, 20)


def test_a_resend_after_commit_is_refused_by_control_id_and_linked(books: Books) -> None:
    """A create sent again with a key Intacct already processed reaches the gateway,
    whose uniqueid check refuses it; the back end resolves that by the same query."""
    ingest(books.store, 1)
    books.server.commit_then_fail(1)
    report = export_records(books.store, books.backend, CO, options=fast(use_batch=False))
    assert report.exported == 1
    (doc_key,) = books.per_key()
    # the same create sent again by hand: refused, resolved, no second timesheet
    (stored,) = books.store.find(CO)
    ref = books.backend.lookup(CO, "time_activity", doc_key)
    assert ref is not None
    refused = books.server.stats["duplicate_control_ids"]
    document = default_renderers()[TimeEntry.KIND](stored)
    again = books.backend.create(CO, document, idempotency_key=doc_key)
    assert again.remote_id == ref.remote_id
    assert books.server.stats["duplicate_control_ids"] == refused + 1
    assert_exactly_once(books, 1)


def test_a_failing_query_during_resolution_leaves_records_in_flight(books: Books) -> None:
    ingest(books.store, 5)
    books.server.commit_then_fail(1)
    books.server.fail_queries(1)
    report = export_records(books.store, books.backend, CO, options=fast())
    assert len(report.pending) == 5 and not report.failed
    assert books.store.counts(CO)[ExportState.IN_FLIGHT] == 5
    # the next run (after the lease) finds all five by their keys: nothing is resent
    writes = books.server.stats["writes"]
    later = fast(lease=dt.timedelta(seconds=1))
    again = export_records(books.store, books.backend, CO, options=later, clock=Later(1))
    assert again.exported == 5 and again.ok
    assert books.server.stats["writes"] == writes
    assert_exactly_once(books, 5)


@pytest.mark.parametrize("mode", ["500", "drop"])
def test_a_query_that_dies_mid_resolution_is_retried_with_the_same_key(
    books: Books, mode: str
) -> None:
    ingest(books.store, 8)
    books.server.commit_then_fail(2)
    books.server.fail_queries(2, mode=mode)
    first = export_records(books.store, books.backend, CO, options=fast(use_batch=False))
    later = fast(lease=dt.timedelta(seconds=1), use_batch=False)
    second = export_records(books.store, books.backend, CO, options=later, clock=Later(1))
    assert first.exported + second.exported == 8
    assert_exactly_once(books, 8)


def test_an_expired_session_signs_in_again_mid_export(books: Books) -> None:
    ingest(books.store, 10)
    logins = books.server.stats["logins"]
    books.server.commit_then_fail(1)
    books.server.expire_sessions()
    report = export_records(books.store, books.backend, CO, options=fast(use_batch=False))
    assert report.exported == 10
    assert books.server.stats["logins"] - logins >= 1
    assert_exactly_once(books, 10)


def test_throttling_is_waited_out_and_everything_arrives(books: Books) -> None:
    ingest(books.store, 6)
    books.server.faults.rate_limit = 4
    books.server.faults.rate_window = 0.2
    books.server.faults.retry_after = 0.2
    report = export_records(books.store, books.backend, CO, options=fast(use_batch=False))
    assert report.exported == 6
    assert books.server.stats["throttled"] >= 1
    assert_exactly_once(books, 6)


def test_a_batch_dropped_before_processing_is_looked_up_once_and_sent_again(
    books: Books,
) -> None:
    ingest(books.store, 12)
    refused = books.server.stats["duplicate_control_ids"]
    books.server.reset_next(1)
    report = export_records(books.store, books.backend, CO, options=fast())
    assert report.exported == 12 and report.ok
    assert books.server.stats["duplicate_control_ids"] == refused
    assert_exactly_once(books, 12)


def test_a_changed_entry_overwrites_its_timesheet_and_keeps_its_key(books: Books) -> None:
    ingest(books.store, 2)
    export_records(books.store, books.backend, CO, options=fast())
    keys = set(books.per_key())
    ingest(books.store, 2, hours="3.25")
    assert books.store.counts(CO)[ExportState.OUTDATED] == 2
    report = export_records(books.store, books.backend, CO, options=fast())
    assert report.updated == 2
    sheets = books.server.records(books.company.company_id, "TIMESHEET")
    assert {s["HOURS"] for s in sheets} == {"3.25"} and set(books.per_key()) == keys
    assert_exactly_once(books, 2)


def test_unexport_deletes_the_timesheet_and_a_new_export_recreates_it(books: Books) -> None:
    ingest(books.store, 2)
    export_records(books.store, books.backend, CO, options=fast())
    key = RecordKey(CO, "time_entry", "t0000")
    report = unexport(books.store, books.backend, CO, [key])
    assert report.unexported == (key,) and sum(books.per_key().values()) == 1
    export_records(books.store, books.backend, CO, options=fast())
    assert_exactly_once(books, 2)
