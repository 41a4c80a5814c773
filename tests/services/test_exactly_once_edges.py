"""Exactly once on the edges: failed lookups, requests that never left, a back end that is down.

Every test runs the export engine with the QuickBooks adapter against the local
QuickBooks-like server (or a port where nothing listens), and checks both what the
report says and what the server holds.
"""

from __future__ import annotations

import datetime as dt
import socket
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import attrs
import httpx
import pytest

from syncstate import (
    BackendUnavailable,
    ExportOptions,
    ExportState,
    QboMapping,
    QuickBooksBackend,
    QuickBooksConfig,
    SQLiteStore,
    TimeEntry,
    export_records,
)
from syncstate.adapters.backends.quickbooks.payloads import find_tag
from syncstate.services.retry import RetryPolicy
from syncstate.testing.qbo_faults import QboFaultAnswer
from syncstate.testing.qbo_server import FaultRule, QboServer

CO = "acme"
AT = dt.datetime(2024, 3, 1, 12, tzinfo=dt.UTC)
NO_WAIT = RetryPolicy(attempts=4, initial=0.0, jitter=0.0)
PARSE_ERROR = QboFaultAnswer(
    "4000",
    "Error parsing query",
    'QueryParserError: Encountered " <EOF>"',
    fault_type="ValidationFault",
)


class Tokens:
    def access_token(self, company: str) -> str:
        return "test-token"

    def refresh(self, company: str) -> str:
        return "test-token"


@pytest.fixture(scope="module")
def server() -> Iterator[QboServer]:
    with QboServer() as running:
        yield running


@attrs.define
class Books:
    server: QboServer
    realm: str
    backend: QuickBooksBackend
    store: SQLiteStore

    def per_key(self) -> Counter[str | None]:
        docs = self.server.documents(self.realm, "TimeActivity")
        return Counter(find_tag(str(d.get("Description", ""))) for d in docs)


def _backend(base_url: str, realm: str, employee: str, client: httpx.Client) -> QuickBooksBackend:
    mapping = QboMapping(employees={"emp-1": employee})
    config = QuickBooksConfig(base_url=base_url, realms={CO: realm})
    return QuickBooksBackend(tokens=Tokens(), mapping=mapping, config=config, client=client)


@pytest.fixture
def books(server: QboServer, tmp_path: Path) -> Iterator[Books]:
    server.faults = type(server.faults)()
    realm = f"edge-{uuid.uuid4().hex[:10]}"
    employee = server.add(realm, "Employee", {"DisplayName": "Ann Employee"})
    with httpx.Client(timeout=5.0) as client, SQLiteStore(tmp_path / "state.db") as store:
        yield Books(server, realm, _backend(server.base_url, realm, employee, client), store)


def ingest(store: SQLiteStore, n: int) -> None:
    records = [
        TimeEntry(
            source_id=f"t{i:03d}",
            employee="emp-1",
            date=dt.date(2024, 2, 1) + dt.timedelta(days=i % 28),
            hours="1.5",
        ).to_record(CO)
        for i in range(n)
    ]
    store.ingest(CO, records, at=AT, actor="test")


def test_a_failed_lookup_after_an_ambiguous_create_keeps_the_record_pending_with_its_key(
    books: Books,
) -> None:
    ingest(books.store, 1)
    books.server.commit_then_fail(1)  # the create commits, then the answer is a 500
    # ... and the lookup query that must come before a resend fails with a parser fault
    books.server.inject(FaultRule(operation="query", answer=PARSE_ERROR, times=1))
    options = ExportOptions(use_batch=False, retry=NO_WAIT, sleep=lambda _s: None)
    report = export_records(books.store, books.backend, CO, options=options)
    (key, reason), *_ = report.pending
    assert not report.failed and not report.ok
    assert "looking up idempotency key" in reason and "4000" in reason
    record = books.store.get(key)
    assert record.status.state is ExportState.IN_FLIGHT
    first_key = record.status.key_for(key)
    # the next run (lease over) looks the document up with the SAME key and links it
    later = ExportOptions(use_batch=False, retry=NO_WAIT, sleep=lambda _s: None)
    books.store.apply(CO, [], at=AT, actor="test")
    report2 = export_records(books.store, books.backend, CO, options=later, clock=_Later(hours=1))
    assert report2.exported == 1 and report2.ok
    assert books.per_key() == Counter({first_key: 1})  # one document, never two
    assert books.store.get(key).status.state is ExportState.EXPORTED


@attrs.define
class _Later:
    hours: float

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + dt.timedelta(hours=self.hours)


@pytest.mark.parametrize("fault", ["500", "drop"])
def test_a_lookup_that_fails_transiently_keeps_the_record_pending_not_failed(
    books: Books, fault: str
) -> None:
    ingest(books.store, 1)
    books.server.commit_then_fail(1)
    # every lookup query fails too: a 5xx, or a dropped connection
    server_error = QboFaultAnswer("3100", "InternalServerError", status=500, fault_type="SERVICE")
    books.server.inject(FaultRule(operation="query", answer=server_error, drop=fault == "drop"))
    options = ExportOptions(use_batch=False, retry=NO_WAIT, sleep=lambda _s: None)
    report = export_records(books.store, books.backend, CO, options=options)
    assert report.exported == 0 and not report.failed
    assert len(report.pending) == 1
    assert books.server.count(books.realm, "TimeActivity") == 1  # committed once, not resent


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_run_against_an_unreachable_back_end_stops_within_its_budget_and_holds_nothing(
    tmp_path: Path,
) -> None:
    port = _closed_port()
    with httpx.Client(timeout=2.0) as client, SQLiteStore(tmp_path / "s.db") as store:
        ingest(store, 40)
        backend = _backend(f"http://127.0.0.1:{port}", "r1", "1", client)
        started = time.monotonic()
        with pytest.raises(BackendUnavailable) as caught:
            export_records(
                store,
                backend,
                CO,
                options=ExportOptions(unavailable_after=5.0, max_connection_failures=5),
            )
        elapsed = time.monotonic() - started
        assert elapsed < 5.0 + 2.0
        report = caught.value.report
        assert report.unavailable and not report.ok
        assert report.exported == 0 and not report.pending and not report.failed
        # nothing left claimed: every record is exportable again, with its key unchanged
        assert {s: n for s, n in store.counts(CO).items() if n} == {ExportState.NOT_EXPORTED: 40}
        assert "could not reach the back end" in str(caught.value)


def test_a_request_refused_at_connect_is_not_sent_and_is_released_without_a_lookup(
    books: Books, tmp_path: Path
) -> None:
    port = _closed_port()
    ingest(books.store, 3)
    with httpx.Client(timeout=2.0) as client:
        down = _backend(f"http://127.0.0.1:{port}", books.realm, "1", client)
        with pytest.raises(BackendUnavailable):
            export_records(
                books.store,
                down,
                CO,
                options=ExportOptions(retry=NO_WAIT, sleep=lambda _s: None, use_batch=False),
            )
    # released, not in flight: the next run sends at once (no lookup queries needed)
    assert {s: n for s, n in books.store.counts(CO).items() if n} == {ExportState.NOT_EXPORTED: 3}
    before = books.server.stats["queries"]
    report = export_records(books.store, books.backend, CO)
    assert report.exported == 3 and report.ok
    assert books.server.stats["queries"] == before
    assert sum(books.per_key().values()) == 3
