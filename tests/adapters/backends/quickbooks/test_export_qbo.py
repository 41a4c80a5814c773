"""End to end: the export engine, the QuickBooks adapter and the local QBO-like server."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import attrs
import httpx
import pytest

from qbo_bundles import Tokens
from syncstate.adapters.backends.quickbooks.client import QuickBooksBackend, QuickBooksConfig
from syncstate.adapters.backends.quickbooks.payloads import QboMapping, find_tag
from syncstate.adapters.storage.sqlite.state import SQLiteStore
from syncstate.domain.records import RecordKey, TimeEntry
from syncstate.domain.state import ExportState
from syncstate.errors import UnsupportedCapability
from syncstate.ports import Capability
from syncstate.services.export import ExportOptions, export_records, unexport
from syncstate.services.rendering import default_renderers
from syncstate.services.retry import RetryPolicy
from syncstate.testing.qbo_faults import QboFaultAnswer
from syncstate.testing.qbo_server import FaultRule, QboServer

CO = "acme"
AT = dt.datetime(2024, 3, 1, 12, tzinfo=dt.UTC)
SERVER_ERROR = QboFaultAnswer("3100", "InternalServerError", status=500, fault_type="SERVICE")
PARSE_ERROR = QboFaultAnswer("4000", "Error parsing query", "QueryParserError")


@attrs.define
class Later:
    """A clock ``hours`` ahead of now."""

    hours: float

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + dt.timedelta(hours=self.hours)


@attrs.define
class Books:
    server: QboServer
    realm: str
    backend: QuickBooksBackend
    store: SQLiteStore

    def activities(self) -> list[dict[str, object]]:
        return self.server.documents(self.realm, "TimeActivity")

    def backend_at(self, clock: Later) -> QuickBooksBackend:
        """The same back end with its clock elsewhere (for the lookup window)."""
        b = self.backend
        return QuickBooksBackend(
            tokens=Tokens(), mapping=b._mapping, config=b.config, client=b._client, clock=clock
        )

    def per_key(self) -> Counter[str | None]:
        return Counter(find_tag(str(a.get("Description", ""))) for a in self.activities())


@pytest.fixture
def books(server: QboServer, tmp_path: Path) -> Iterator[Books]:
    server.faults = type(server.faults)()
    realm = f"it-{uuid.uuid4().hex[:10]}"
    employee = server.add(realm, "Employee", {"DisplayName": "Ann Employee"})
    mapping = QboMapping(employees={"emp-1": employee})
    config = QuickBooksConfig(base_url=server.base_url, realms={CO: realm}, reverse="delete")
    with httpx.Client(timeout=5.0) as client, SQLiteStore(tmp_path / "state.db") as store:
        backend = QuickBooksBackend(tokens=Tokens(), mapping=mapping, config=config, client=client)
        yield Books(server, realm, backend, store)


def ingest(store: SQLiteStore, n: int, *, employee: str = "emp-1", hours: str = "1.5") -> None:
    records = [
        TimeEntry(
            source_id=f"t{i:04d}",
            employee=employee if i != 999 else "emp-unknown",
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


def test_batched_export_creates_each_time_activity_once(books: Books) -> None:
    ingest(books.store, 75)
    before = books.server.stats["requests"]
    report = export_records(books.store, books.backend, CO, options=fast())
    assert report.exported == 75 and report.ok
    assert books.server.stats["requests"] - before == 3  # 30 + 30 + 15
    assert len(books.activities()) == 75 and set(books.per_key().values()) == {1}
    assert books.store.counts(CO)[ExportState.EXPORTED] == 75


def test_dropped_connections_and_commit_then_fail_never_duplicate(books: Books) -> None:
    ingest(books.store, 30)
    books.server.commit_then_fail(3)
    books.server.commit_then_fail(2, mode="drop")
    books.server.reset_next(3)
    report = export_records(books.store, books.backend, CO, options=fast(use_batch=False))
    assert report.exported == 30 and report.retries >= 5
    assert len(books.activities()) == 30 and set(books.per_key().values()) == {1}


def test_an_ambiguous_batch_is_resolved_with_one_lookup_query(books: Books) -> None:
    ingest(books.store, 20)
    books.server.commit_then_fail(1)
    before = books.server.stats["queries"]
    report = export_records(books.store, books.backend, CO, options=fast())
    assert report.exported == 20 and report.ok
    assert books.server.stats["queries"] - before == 1  # not one per document
    assert len(books.activities()) == 20 and set(books.per_key().values()) == {1}


def test_a_batch_that_failed_before_commit_is_looked_up_once_and_sent_again(
    books: Books,
) -> None:
    ingest(books.store, 10)
    books.server.inject(FaultRule(operation="batch", answer=SERVER_ERROR, times=1))
    report = export_records(books.store, books.backend, CO, options=fast())
    assert report.exported == 10 and report.ok
    assert len(books.activities()) == 10 and set(books.per_key().values()) == {1}


def test_a_failed_batch_lookup_leaves_every_item_in_flight_with_its_key(books: Books) -> None:
    ingest(books.store, 5)
    books.server.commit_then_fail(1)
    books.server.inject(FaultRule(operation="query", answer=PARSE_ERROR, times=1))
    report = export_records(books.store, books.backend, CO, options=fast())
    assert len(report.pending) == 5 and not report.failed
    assert all("looking up its keys failed" in reason for _key, reason in report.pending)
    keys = {k: books.store.get(k).status.key_for(k) for k, _reason in report.pending}
    assert books.store.counts(CO)[ExportState.IN_FLIGHT] == 5
    # after the lease, the next run finds all five by the same keys: no duplicates
    later = fast(lease=dt.timedelta(seconds=1))
    again = export_records(books.store, books.backend, CO, options=later, clock=Later(1))
    assert again.exported == 5 and again.ok
    assert Counter(books.per_key()) == Counter(dict.fromkeys(keys.values(), 1))


def test_a_stale_overwrite_of_a_month_old_document_is_refetched_by_id(
    books: Books, server: QboServer
) -> None:
    ingest(books.store, 1)
    export_records(books.store, books.backend, CO, options=fast())
    key = RecordKey(CO, "time_entry", "t0000")
    someone_edits_it_in_quickbooks(books, key)
    ingest(books.store, 1, hours="4.5")
    # a month later: the tag lookup (7 days) could not find it; a read by Id can
    month_later = attrs.evolve(books, backend=books.backend_at(Later(24 * 30)))
    report = export_records(month_later.store, month_later.backend, CO, options=fast())
    assert report.updated == 1 and report.ok, report.to_records()
    assert [(a["Hours"], a["Minutes"]) for a in books.activities()] == [(4, 30)]


def test_a_stale_void_refetches_the_sync_token_and_succeeds(books: Books) -> None:
    ingest(books.store, 1)
    export_records(books.store, books.backend, CO, options=fast())
    key = RecordKey(CO, "time_entry", "t0000")
    someone_edits_it_in_quickbooks(books, key)
    report = unexport(books.store, books.backend, CO, [key])
    assert report.unexported == (key,) and not report.failed
    assert books.activities() == []


def someone_edits_it_in_quickbooks(books: Books, key: RecordKey) -> None:
    """A QuickBooks user changes the document: its SyncToken moves on."""
    status = books.store.get(key).status
    assert status.remote_id is not None
    current = books.backend.fetch_ref(CO, "time_activity", status.remote_id)
    stored = books.store.get(key)
    document = default_renderers()["time_entry"](stored)
    books.backend.update(CO, attrs.evolve(current, version=None), document, idempotency_key="x")
    assert books.backend.fetch_ref(CO, "time_activity", status.remote_id).version != (
        status.remote_version
    )


def test_throttling_is_waited_out_and_everything_arrives(books: Books) -> None:
    ingest(books.store, 20)
    books.server.faults.rate_limit = 8
    books.server.faults.rate_window = 0.5
    # enough attempts to outlast the window however slowly a loaded machine runs
    patient = RetryPolicy(attempts=30, initial=0.01, maximum=0.5)
    report = export_records(
        books.store, books.backend, CO, options=fast(use_batch=False, retry=patient)
    )
    assert report.exported == 20 and report.retries > 0
    assert books.server.stats["throttled"] > 0 and len(books.activities()) == 20


def test_an_unmapped_employee_fails_only_that_record_with_a_clear_message(books: Books) -> None:
    ingest(books.store, 3)
    ingest(books.store, 1000)  # record t0999 has an unmapped employee
    report = export_records(books.store, books.backend, CO, options=fast())
    assert report.exported == 999 and len(report.failed) == 1
    key, message = report.failed[0]
    assert key.source_id == "t0999" and "emp-unknown" in message
    status = books.store.get(RecordKey(CO, "time_entry", "t0999")).status
    assert status.state is ExportState.FAILED and "emp-unknown" in (status.message or "")


def test_a_changed_entry_overwrites_its_time_activity(books: Books) -> None:
    ingest(books.store, 2)
    export_records(books.store, books.backend, CO, options=fast())
    ingest(books.store, 2, hours="3.25")
    assert books.store.counts(CO)[ExportState.OUTDATED] == 2
    report = export_records(books.store, books.backend, CO, options=fast())
    assert report.updated == 2 and len(books.activities()) == 2
    assert {(a["Hours"], a["Minutes"]) for a in books.activities()} == {(3, 15)}
    assert books.store.counts(CO)[ExportState.EXPORTED] == 2


def test_unexport_deletes_the_time_activity_and_a_new_export_recreates_it(books: Books) -> None:
    ingest(books.store, 2)
    export_records(books.store, books.backend, CO, options=fast())
    key = RecordKey(CO, "time_entry", "t0000")
    report = unexport(books.store, books.backend, CO, [key])
    assert report.unexported == (key,) and len(books.activities()) == 1
    assert books.store.get(key).state is ExportState.NOT_EXPORTED
    export_records(books.store, books.backend, CO, options=fast())
    assert len(books.activities()) == 2


def test_unexport_refuses_when_the_back_end_cannot_delete(books: Books) -> None:
    ingest(books.store, 1)
    export_records(books.store, books.backend, CO, options=fast())

    class NoReverse:
        def __init__(self, inner: QuickBooksBackend) -> None:
            self.inner, self.name, self.max_batch = inner, "no-reverse", 0
            self.capabilities = inner.capabilities - {Capability.DELETE, Capability.VOID}

        def __getattr__(self, name: str) -> object:
            return getattr(self.inner, name)

    with pytest.raises(UnsupportedCapability, match="reset"):
        unexport(books.store, NoReverse(books.backend), CO, [RecordKey(CO, "time_entry", "t0000")])


def test_a_failed_record_succeeds_once_the_cause_is_fixed(books: Books) -> None:
    ingest(books.store, 1)
    books.server.close_books(books.realm, dt.date(2024, 12, 31))
    first = export_records(books.store, books.backend, CO, options=fast())
    assert first.failed and "6210" in first.failed[0][1]
    books.server.books.realm(books.realm).closed_through = None
    again = export_records(books.store, books.backend, CO, options=fast())
    assert again.exported == 1
