"""Worked examples of the Chronos export seed, end to end on real stores."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from syncstate.adapters.backends.memory import MemoryBackend
from syncstate.adapters.storage.memory.bundles import MemoryBundleStore
from syncstate.adapters.storage.memory.state import MemoryStore
from syncstate.adapters.storage.sqlite.bundles import SQLiteBundleStore
from syncstate.adapters.storage.sqlite.state import SQLiteStore
from syncstate.domain.bundling import BundleKind
from syncstate.domain.mapping import MappingKind
from syncstate.domain.records import RecordKey
from syncstate.domain.state import ExportState
from syncstate.domain.transactions import Payment, UsageLog
from syncstate.errors import InputError, MappingError
from syncstate.ports import Capability
from syncstate.services.bundle_export import (
    export_bundles,
    fetch_bundle_pdf,
    unbundle_and_reverse,
)
from syncstate.services.bundling import BundleService
from syncstate.services.customer_sync import sync_customers
from syncstate.services.export import ExportOptions

CO = "acme"
NOW = dt.datetime(2024, 4, 1, 9, 0, tzinfo=dt.UTC)
D1, D2, D3 = dt.date(2024, 3, 1), dt.date(2024, 3, 2), dt.date(2024, 3, 9)
FAST = ExportOptions(concurrency=2, sleep=lambda _s: None, seed=1)


class FixedClock:
    def now(self) -> dt.datetime:
        return NOW


@pytest.fixture(params=["memory", "sqlite"])
def service(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BundleService]:
    if request.param == "memory":
        yield BundleService(MemoryStore(), MemoryBundleStore(), clock=FixedClock())
        return
    store = SQLiteStore(tmp_path / "s.db")
    bundles = SQLiteBundleStore.beside(store)
    yield BundleService(store, bundles, clock=FixedClock())
    bundles.close()
    store.close()


def use(sid: str, client: str, day: dt.date, qty: str, price: str, res: str = "room") -> UsageLog:
    return UsageLog(
        source_id=sid,
        client=client,
        date=day,
        resource=res,
        quantity=qty,
        unit_price=price,
        currency="USD",
    )


def pay(sid: str, client: str, day: dt.date, amount: str) -> Payment:
    return Payment(
        source_id=sid, client=client, date=day, amount=amount, currency="USD", method="card"
    )


def ingest(service: BundleService, *txs: UsageLog | Payment) -> None:
    service.store.ingest(CO, [t.to_record(CO) for t in txs], at=NOW, actor="test")


def map_all(service: BundleService, clients: list[str], items: list[str]) -> None:
    for c in clients:
        service.set_mapping(CO, MappingKind.CUSTOMER, c, f"C-{c}")
    for i in items:
        service.set_mapping(CO, MappingKind.ITEM, i, f"I-{i}")


def test_paid_at_use_is_exported_as_one_sales_receipt(service: BundleService) -> None:
    ingest(service, use("u1", "ann", D1, "2", "40.00"), pay("p1", "ann", D1, "80.00"))
    map_all(service, ["ann"], ["room"])
    report = service.bundle(CO)
    (receipt,) = report.bundles
    assert receipt.kind is BundleKind.SALES_RECEIPT
    backend = MemoryBackend()
    result = export_bundles(service, backend, CO, options=FAST)
    assert result.summary() == {"exported": 1}
    (doc,) = backend.documents(CO)
    assert doc.document.kind == "sales_receipt" and doc.document.party == "ann"
    assert [(ln.item, ln.amount) for ln in doc.document.lines] == [("room", Decimal("80.00"))]
    (view,) = service.reconciled(CO)
    assert view.remote_id == doc.remote_id
    assert service.open_records(CO) == []


def test_on_account_becomes_invoice_then_payment_applied_to_it(service: BundleService) -> None:
    ingest(service, use("u1", "ann", D1, "1", "50.00"), use("u2", "ann", D2, "1", "30.00"))
    map_all(service, ["ann"], ["room"])
    service.bundle(CO)
    backend = MemoryBackend()
    export_bundles(service, backend, CO, options=FAST)
    # a payment arrives later: bundled on its own, applied to the oldest invoice first
    ingest(service, pay("p1", "ann", D3, "60.00"))
    (payment,) = service.bundle(CO).bundles
    inv1, inv2 = (v for v in service.list_bundles(CO) if v.bundle.kind is BundleKind.INVOICE)
    assert [(a.invoice, a.amount) for a in payment.applied] == [
        (inv1.bundle.bundle_id, Decimal("50.00")),
        (inv2.bundle.bundle_id, Decimal("10.00")),
    ]
    result = export_bundles(service, backend, CO, options=FAST)
    assert result.count("exported") == 1 and result.count("unchanged") == 2
    sent = next(d for d in backend.documents(CO) if d.document.kind == "payment").document
    assert sent.fields["applications"] == f"{inv1.remote_id}=50.00;{inv2.remote_id}=10.00"


def test_a_payment_waits_until_its_invoice_is_at_the_back_end(service: BundleService) -> None:
    ingest(service, use("u1", "ann", D1, "1", "50.00"), pay("p1", "ann", D3, "50.00"))
    map_all(service, ["ann"], ["room"])
    service.bundle(CO)
    payment = next(v for v in service.list_bundles(CO) if v.bundle.kind is BundleKind.PAYMENT)
    result = export_bundles(service, MemoryBackend(), CO, bundle_ids=[payment.bundle.bundle_id])
    assert [o.outcome for o in result.outcomes] == ["waiting"]
    # exporting everything sends the invoice first, then the payment
    result = export_bundles(service, MemoryBackend(), CO, options=FAST)
    assert result.summary() == {"exported": 2}
    sent = result.outcomes
    assert {o.kind for o in sent} == {"invoice", "payment"}


def test_overwrite_updates_the_remote_document_never_duplicates(service: BundleService) -> None:
    ingest(service, use("u1", "ann", D1, "1", "50.00"))
    map_all(service, ["ann"], ["room"])
    (invoice,) = service.bundle(CO).bundles
    backend = MemoryBackend()
    export_bundles(service, backend, CO, options=FAST)
    # exporting the reconciled bundle again overwrites it
    again = export_bundles(
        service, backend, CO, bundle_ids=[invoice.bundle_id], overwrite=True, options=FAST
    )
    (outcome,) = again.outcomes
    assert outcome.updated and outcome.outcome == "updated"
    # a changed usage log outdates the bundle: the next export updates with new content
    ingest(service, use("u1", "ann", D1, "2", "50.00"))
    third = export_bundles(service, backend, CO, options=FAST)
    assert [o.outcome for o in third.outcomes] == ["updated"]
    (doc,) = backend.documents(CO)
    assert doc.document.fields["total"] == "100.00"
    assert backend.calls.get("create", 0) + backend.calls.get("create_batch", 0) == 1


def test_unbundle_then_rebundle_sends_a_new_document(service: BundleService) -> None:
    ingest(service, use("u1", "ann", D1, "1", "50.00"))
    map_all(service, ["ann"], ["room"])
    (invoice,) = service.bundle(CO).bundles
    backend = MemoryBackend()
    export_bundles(service, backend, CO, options=FAST)
    report = service.unbundle(CO, [invoice.bundle_id])
    assert report.removed == (invoice.key,)
    assert report.reopened == (RecordKey(CO, "usage_log", "u1"),)
    assert "NOT removed" in report.warning
    assert service.store.get(invoice.key).state is ExportState.UNLINKED
    assert [s.key for s in service.open_records(CO)] == [RecordKey(CO, "usage_log", "u1")]
    # the same transactions bundle again into the same bundle id, exportable anew
    (again,) = service.bundle(CO).bundles
    assert again.bundle_id == invoice.bundle_id
    assert service.store.get(invoice.key).state is ExportState.NOT_EXPORTED
    result = export_bundles(service, backend, CO, options=FAST)
    assert result.summary() == {"exported": 1}
    assert len(backend.documents(CO)) == 2  # the old remote document was left alone


def test_unbundle_with_reverse_export_voids_the_remote_document(service: BundleService) -> None:
    ingest(service, use("u1", "ann", D1, "1", "50.00"), pay("p1", "ann", D3, "50.00"))
    map_all(service, ["ann"], ["room"])
    service.bundle(CO)
    backend = MemoryBackend()
    export_bundles(service, backend, CO, options=FAST)
    invoice = next(v for v in service.list_bundles(CO) if v.bundle.kind is BundleKind.INVOICE)
    with pytest.raises(InputError, match="cascade"):
        service.unbundle(CO, [invoice.bundle.bundle_id])
    report = unbundle_and_reverse(
        service, CO, [invoice.bundle.bundle_id], backend=backend, reverse=True, cascade=True
    )
    assert len(report.removed) == 2 and len(report.reversed) == 2
    assert report.warning == ""
    assert all(d.voided for d in backend.documents(CO))
    assert len(service.open_records(CO)) == 2


def test_historical_backlog_is_never_bundled_or_sent(service: BundleService) -> None:
    ingest(
        service,
        use("old1", "ann", dt.date(2023, 12, 30), "1", "10.00"),
        pay("old2", "bob", dt.date(2023, 11, 2), "99.00"),
        use("new1", "ann", D1, "1", "10.00"),
    )
    plan = service.mark_historical(CO, cutoff=dt.date(2023, 12, 31))
    assert plan.per_client == (("ann", 1), ("bob", 1))
    assert service.store.get(RecordKey(CO, "usage_log", "old1")).state is ExportState.HISTORICAL
    (invoice,) = service.bundle(CO).bundles
    assert invoice.members == (RecordKey(CO, "usage_log", "new1"),)


def test_missing_mappings_are_all_reported_before_anything_is_sent(
    service: BundleService,
) -> None:
    ingest(
        service,
        use("u1", "ann", D1, "1", "10.00", res="room"),
        use("u2", "bob", D1, "1", "10.00", res="laser"),
        use("u3", "cyd", D2, "1", "10.00", res="room"),
    )
    service.set_mapping(CO, "customer", "ann", "C1")
    service.set_mapping(CO, "item", "room", "I1")
    service.bundle(CO)
    backend = MemoryBackend()
    with pytest.raises(MappingError) as caught:
        export_bundles(service, backend, CO, options=FAST)
    text = str(caught.value)
    assert "'bob'" in text and "'cyd'" in text and "'laser'" in text
    assert "acme/usage_log/u2" in text and "acme/usage_log/u3" in text
    assert backend.documents(CO) == [] and backend.calls == {}


def test_pages_of_bundles_come_in_a_stable_order(service: BundleService) -> None:
    ingest(
        service,
        *[use(f"u{i}", f"client{i % 3}", D1 + dt.timedelta(days=i), "1", "5.00") for i in range(7)],
    )
    map_all(service, [f"client{i}" for i in range(3)], ["room"])
    service.bundle(CO)
    everything = [v.key for v in service.list_bundles(CO)]
    pages = [v.key for off in range(0, 7, 3) for v in service.list_bundles(CO, offset=off, limit=3)]
    assert pages == everything and len(everything) == 7
    backend = MemoryBackend()
    first_page = export_bundles(service, backend, CO, offset=0, limit=3, options=FAST)
    assert [o.bundle for o in first_page.outcomes] == everything[:3]
    one_client = export_bundles(service, backend, CO, clients=["client2"], options=FAST)
    assert {o.client for o in one_client.outcomes} == {"client2"}


def test_trace_a_transaction_to_its_document_and_back(service: BundleService) -> None:
    ingest(service, use("u1", "ann", D1, "1", "50.00"))
    map_all(service, ["ann"], ["room"])
    (invoice,) = service.bundle(CO).bundles
    export_bundles(service, MemoryBackend(), CO, options=FAST)
    trace = service.trace(CO, RecordKey(CO, "usage_log", "u1"))
    assert trace.bundle is not None and trace.bundle.key == invoice.key
    assert trace.bundle.remote_id is not None
    back = service.trace(CO, invoice.key)
    assert back.members == (RecordKey(CO, "usage_log", "u1"),)


def test_pdf_comes_from_the_back_end_when_it_can(service: BundleService) -> None:
    ingest(service, use("u1", "ann", D1, "1", "50.00"))
    map_all(service, ["ann"], ["room"])
    (invoice,) = service.bundle(CO).bundles
    with pytest.raises(InputError, match="export it first"):
        fetch_bundle_pdf(service, MemoryBackend(), CO, invoice.bundle_id)
    backend = MemoryBackend()
    export_bundles(service, backend, CO, options=FAST)
    assert fetch_bundle_pdf(service, backend, CO, invoice.bundle_id).startswith(b"%PDF")
    no_pdf = MemoryBackend(capabilities=set(Capability) - {Capability.PDF})
    with pytest.raises(Exception, match="PDF"):
        fetch_bundle_pdf(service, no_pdf, CO, invoice.bundle_id)


def test_customer_sync_creates_once_and_maps_every_client(service: BundleService) -> None:
    ingest(service, use("u1", "ann", D1, "1", "5.00"), pay("p1", "bob", D1, "5.00"))
    backend = MemoryBackend()
    first = sync_customers(service, backend, CO, clients={"ann": "Ann Lee", "bob": "Bob Ray"})
    assert [r.action for r in first] == ["created", "created"]
    second = sync_customers(service, backend, CO)
    assert [r.action for r in second] == ["kept", "kept"]
    assert service.mappings(CO).customer("ann") == first[0].remote_id
    assert len([d for d in backend.documents(CO) if d.document.kind == "customer"]) == 2
