"""What Beancount says customers owe equals what the receivables repost says."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

pytest.importorskip("beancount", reason="needs the beancount extra")

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from beancount_helpers import backend, balance
from syncstate.adapters.storage.memory.state import MemoryStore
from syncstate.domain.records import RecordKey, TimeEntry
from syncstate.domain.repost.receivables import (
    Allocation,
    DocKind,
    ReceivableDocument,
    from_cents,
    open_receivables,
    repost_rows,
    to_rows,
)
from syncstate.domain.state import ExportState
from syncstate.ports import Document, DocumentLine
from syncstate.services.export import export_records

CLIENTS = ("client-1", "client-2", "client-3")
ACCOUNT = {c: f"Assets:Receivable:Client{c[-1]}" for c in CLIENTS}


@st.composite
def books(draw: st.DrawFn) -> list[ReceivableDocument]:
    """Invoices per client, and receipts applied to some of them (plus unapplied cash)."""
    docs: list[ReceivableDocument] = []
    for n in range(draw(st.integers(1, 8))):
        docs.append(
            ReceivableDocument(
                id=f"i{n}",
                kind=DocKind.INVOICE,
                client=draw(st.sampled_from(CLIENTS)),
                date=dt.date(2026, 3, 1 + n),
                amount=from_cents(draw(st.integers(1, 100_000))),
            )
        )
    invoices = list(docs)
    left = {doc.id: int(doc.amount * 100) for doc in invoices}
    for n in range(draw(st.integers(0, 6))):
        target = draw(st.sampled_from(invoices))
        if left[target.id] == 0:
            continue
        cents_applied = draw(st.integers(1, left[target.id]))
        left[target.id] -= cents_applied
        applied = from_cents(cents_applied)
        extra = from_cents(draw(st.sampled_from([0, 0, 500])))
        docs.append(
            ReceivableDocument(
                id=f"p{n}",
                kind=DocKind.CASH_RECEIPT,
                client=target.client,
                date=dt.date(2026, 3, 20),
                amount=applied + extra,
                allocations=(Allocation(target.id, applied, dt.date(2026, 3, 20)),),
            )
        )
    return docs


def _export(directory: Path, docs: list[ReceivableDocument]) -> Path:
    """Each invoice and cash receipt sent to the ledger as an invoice or payment document."""
    ledger = backend(directory)
    for doc in docs:
        assert doc.client is not None
        kind = "invoice" if doc.kind is DocKind.INVOICE else "payment"
        applies = doc.allocations[0].to if doc.allocations else ""
        document = Document(
            kind=kind,
            source=RecordKey("acme", kind, doc.id),
            date=doc.date,
            party=doc.client,
            lines=(DocumentLine(item="consulting", amount=doc.amount),)
            if kind == "invoice"
            else (),
            fields={"amount": str(doc.amount), "applies_to": applies} if kind == "payment" else {},
        )
        ledger.create("acme", document, idempotency_key=f"key-{doc.id}")
    return ledger.ledger_path("acme")


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(docs=books())
def test_beancount_receivables_equal_the_outstanding_total_of_the_repost(
    tmp_path_factory: pytest.TempPathFactory, docs: list[ReceivableDocument]
) -> None:
    path = _export(tmp_path_factory.mktemp("books"), docs)
    rows, allocs = to_rows(docs)
    balances, findings = repost_rows(rows, allocs, dt.date(2026, 1, 1).toordinal())
    assert findings == []
    expected = from_cents(open_receivables(rows, balances))
    assert balance(path, "Assets:Receivable").get("USD", Decimal(0)) == expected
    for client in CLIENTS:
        mine = [r for r in rows if r[2] == client]
        ids = {r[0] for r in mine}
        owed = from_cents(open_receivables(mine, [b for b in balances if b[0] in ids]))
        assert balance(path, ACCOUNT[client]).get("USD", Decimal(0)) == owed


def test_the_export_engine_writes_time_entries_into_a_ledger_exactly_once(tmp_path: Path) -> None:
    store = MemoryStore()
    at = dt.datetime(2026, 3, 31, tzinfo=dt.UTC)
    entries = [
        TimeEntry(source_id=f"t{n}", employee="emp-1", date=dt.date(2026, 3, 1 + n), hours="2.5")
        for n in range(6)
    ]
    store.ingest("acme", [e.to_record("acme") for e in entries], at=at, actor="test")
    ledger = backend(tmp_path)
    report = export_records(store, ledger, "acme")
    assert store.counts("acme").get(ExportState.EXPORTED) == 6, report
    again = export_records(store, ledger, "acme")
    assert store.counts("acme").get(ExportState.EXPORTED) == 6, again
    path = ledger.ledger_path("acme")
    assert balance(path, "Expenses:Labour:Emp1") == {"USD": Decimal("637.50")}  # 15h at 42.50
    for stored in store.find("acme"):
        assert stored.status.remote_id is not None
