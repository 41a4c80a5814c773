"""End to end: the export engine, the Xero adapter and the local Xero-like server, with faults."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import attrs
import pytest

from syncstate.adapters.storage.sqlite.state import SQLiteStore
from syncstate.domain.records import RecordKey, TimeEntry
from syncstate.domain.state import ExportState
from syncstate.ports import Document, DocumentLine, StoredRecord
from syncstate.services.export import ExportOptions, export_records, unexport
from syncstate.services.retry import RetryPolicy
from xero_helpers import Org

CO = "acme"
AT = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)


def bill_time(stored: StoredRecord) -> Document:
    """How a host bills a time entry in Xero: an invoice of its hours at 120.00."""
    entry = TimeEntry.from_record(stored.record)
    hours = Decimal(str(entry.hours))
    line = DocumentLine(
        item="consulting",
        description=entry.notes,
        quantity=hours,
        unit_price=Decimal("120.00"),
        amount=hours * Decimal("120.00"),
    )
    return Document(
        kind="invoice",
        source=stored.key,
        date=entry.date,
        party="client-1",
        lines=(line,),
        doc_number=f"T-{entry.source_id}",
    )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStore]:
    with SQLiteStore(tmp_path / "state.db") as opened:
        yield opened


def ingest(store: SQLiteStore, n: int) -> None:
    records = [
        TimeEntry(
            source_id=f"t{i:04d}",
            employee="emp-1",
            date=dt.date(2026, 2, 1 + i % 28),
            hours="1.5",
            notes=f"work {i}",
        ).to_record(CO)
        for i in range(n)
    ]
    store.ingest(CO, records, at=AT, actor="test")


def options(**kw: object) -> ExportOptions:
    kw.setdefault("retry", RetryPolicy(attempts=8, initial=0.01, maximum=0.05))
    kw.setdefault("renderers", {"time_entry": bill_time})
    kw.setdefault("concurrency", 5)  # Xero: 5 calls in progress per organisation
    return ExportOptions(**kw)  # type: ignore[arg-type]


def per_key(org: Org) -> Counter[str]:
    return Counter(str(d["Reference"]) for d in org.documents())


def test_commit_then_fail_drops_and_throttling_never_duplicate_an_invoice(
    org: Org, store: SQLiteStore
) -> None:
    ingest(store, 24)
    org.server.commit_then_fail(3)
    org.server.commit_then_fail(2, mode="drop")
    org.server.reset_next(3)
    org.server.faults.minute_limit, org.server.faults.minute_window = 10, 0.2
    report = export_records(store, org.backend, CO, options=options(use_batch=False))
    assert report.exported == 24 and report.ok, report.to_records()
    assert report.retries >= 5 and org.server.stats["throttled"] > 0
    assert len(org.documents()) == 24 and set(per_key(org).values()) == {1}
    assert store.counts(CO)[ExportState.EXPORTED] == 24


def test_an_ambiguous_batch_is_resolved_by_lookup_without_duplicates(
    org: Org, store: SQLiteStore
) -> None:
    ingest(store, 30)
    org.server.commit_then_fail(1, mode="drop")
    queries = org.server.stats["queries"]
    report = export_records(store, org.backend, CO, options=options())
    assert report.exported == 30 and report.ok, report.to_records()
    assert org.server.stats["queries"] - queries <= 2  # 20 keys per where filter
    assert len(org.documents()) == 30 and set(per_key(org).values()) == {1}


def test_unexport_voids_the_invoices_and_a_re_export_creates_new_ones_once(
    org: Org, store: SQLiteStore
) -> None:
    ingest(store, 3)
    export_records(store, org.backend, CO, options=options())
    keys = [RecordKey(CO, "time_entry", f"t{i:04d}") for i in range(3)]
    done = unexport(store, org.backend, CO, keys, renderers={"time_entry": bill_time})
    assert set(done.unexported) == set(keys)
    assert Counter(d["Status"] for d in org.documents()) == {"VOIDED": 3}
    # a new generation: new keys, new invoices; Xero numbers them (a voided number stays taken)
    renumbered = {"time_entry": lambda stored: attrs.evolve(bill_time(stored), doc_number=None)}
    again = export_records(store, org.backend, CO, options=options(renderers=renumbered))
    assert again.exported == 3 and again.ok, again.to_records()
    assert Counter(d["Status"] for d in org.documents()) == {"VOIDED": 3, "AUTHORISED": 3}
    assert set(per_key(org).values()) == {1} and len(per_key(org)) == 6
