"""End to end: bundles exported to the local QuickBooks-like server over real HTTP."""

from __future__ import annotations

import datetime as dt

import pytest

from qbo_bundles import USED, ingest_ann_and_bob
from syncstate.adapters.backends.quickbooks.client import QuickBooksBackend
from syncstate.domain.bundling import BundleKind
from syncstate.domain.mapping import MappingKind
from syncstate.domain.transactions import UsageLog
from syncstate.errors import MappingError
from syncstate.services.bundle_export import (
    export_bundles,
    fetch_bundle_pdf,
    unbundle_and_reverse,
)
from syncstate.services.bundling import BundleService
from syncstate.services.customer_sync import sync_customers
from syncstate.services.export import ExportOptions
from syncstate.services.retry import RetryPolicy
from syncstate.testing.qbo_server import QboServer

CO = "acme"
AT = dt.datetime(2024, 3, 10, 12, tzinfo=dt.UTC)
OPTIONS = ExportOptions(concurrency=2, sleep=lambda _s: None, seed=3, retry=RetryPolicy(attempts=4))


def test_bundles_reach_quickbooks_as_receipt_invoice_and_linked_payment(
    setup: tuple[BundleService, QuickBooksBackend, str], server: QboServer
) -> None:
    service, backend, realm = setup
    ingest_ann_and_bob(service, CO, at=AT)
    service.bundle(CO)
    # nothing mapped yet: every gap is named, and nothing reaches the server
    with pytest.raises(MappingError) as caught:
        export_bundles(service, backend, CO, options=OPTIONS)
    assert "'ann'" in str(caught.value) and "'room'" in str(caught.value)
    assert server.count(realm) == 0

    created = sync_customers(service, backend, CO, clients={"ann": "Ann Lee", "bob": "Bob Ray"})
    assert [c.action for c in created] == ["created", "created"]
    assert sync_customers(service, backend, CO)[0].action == "kept"
    assert server.count(realm, "Customer") == 2
    item = server.add(realm, "Item", {"Name": "Room", "Type": "Service"})
    service.set_mapping(CO, MappingKind.ITEM, "room", item)

    report = export_bundles(service, backend, CO, options=OPTIONS)
    assert report.summary() == {"exported": 3}
    assert server.count(realm, "SalesReceipt") == 1
    assert server.count(realm, "Invoice") == 1
    (payment,) = server.documents(realm, "Payment")
    invoice_view = next(v for v in service.reconciled(CO) if v.bundle.kind is BundleKind.INVOICE)
    linked = payment["Line"][0]["LinkedTxn"][0]
    assert linked == {"TxnId": invoice_view.remote_id, "TxnType": "Invoice"}

    # the PDF of a reconciled document comes from QuickBooks
    assert fetch_bundle_pdf(service, backend, CO, invoice_view.bundle.bundle_id).startswith(b"%PDF")

    # overwrite: exporting the reconciled receipt again updates it, no duplicate
    receipt = next(v for v in service.reconciled(CO) if v.bundle.kind is BundleKind.SALES_RECEIPT)
    again = export_bundles(
        service, backend, CO, bundle_ids=[receipt.bundle.bundle_id], overwrite=True,
        options=OPTIONS,
    )  # fmt: skip
    assert [o.outcome for o in again.outcomes] == ["updated"]
    assert server.count(realm, "SalesReceipt") == 1
    (doc,) = server.documents(realm, "SalesReceipt")
    assert str(doc["SyncToken"]) == "1"

    # un-bundle with reverse export: the receipt is voided remotely, its usage is open again
    done = unbundle_and_reverse(
        service, CO, [receipt.bundle.bundle_id], backend=backend, reverse=True
    )
    assert done.reversed == (receipt.key,) and done.warning == ""
    assert {s.key.source_id for s in service.open_records(CO)} == {"u1", "p1"}


def test_the_doc_number_quickbooks_assigned_is_stored_with_the_link_and_searchable(
    setup: tuple[BundleService, QuickBooksBackend, str], server: QboServer
) -> None:
    from syncstate.services.results import sync_results

    service, backend, realm = setup
    service.store.ingest(
        CO,
        [
            UsageLog(source_id=f"u{i}", client="ann", date=USED + dt.timedelta(days=i),
                     resource="room", quantity="1", unit_price="40.00",
                     currency="USD").to_record(CO)
            for i in range(3)
        ],
        at=AT,
        actor="test",
    )  # fmt: skip
    service.bundle(CO)  # unpaid usage: one invoice
    sync_customers(service, backend, CO, clients={"ann": "Ann Lee"})
    item = server.add(realm, "Item", {"Name": "Room", "Type": "Service"})
    service.set_mapping(CO, MappingKind.ITEM, "room", item)
    assert export_bundles(service, backend, CO, options=OPTIONS).summary() == {"exported": 3}

    # QuickBooks numbered each invoice (the host sent no number)
    numbers = {str(doc["Id"]): str(doc["DocNumber"]) for doc in server.documents(realm, "Invoice")}
    assert len(set(numbers.values())) == 3
    for view in service.reconciled(CO):
        status = service.store.get(view.key).status
        assert status.remote_number == numbers[str(status.remote_id)]
        page = sync_results(service.store, CO, search=status.remote_number)
        assert [(r.key, r.doc_number) for r in page.items] == [(view.key, status.remote_number)]
    assert sync_results(service.store, CO, search="no-such-number").items == ()
