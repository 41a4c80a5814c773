"""End to end: bundles exported to the local QuickBooks-like server over real HTTP."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from syncstate.adapters.backends.quickbooks.client import QuickBooksBackend, QuickBooksConfig
from syncstate.adapters.backends.quickbooks.payloads import QboMapping
from syncstate.adapters.storage.sqlite.bundles import SQLiteBundleStore
from syncstate.adapters.storage.sqlite.state import SQLiteStore
from syncstate.domain.bundling import BundleKind
from syncstate.domain.mapping import MappingKind
from syncstate.domain.transactions import Payment, UsageLog
from syncstate.errors import MappingError
from syncstate.services.bundle_export import (
    export_bundles,
    fetch_bundle_pdf,
    mapping_tables,
    unbundle_and_reverse,
)
from syncstate.services.bundling import BundleService
from syncstate.services.customer_sync import sync_customers
from syncstate.services.export import ExportOptions
from syncstate.services.retry import RetryPolicy
from syncstate.testing.qbo_server import QboServer

CO = "acme"
AT = dt.datetime(2024, 3, 10, 12, tzinfo=dt.UTC)
D1, D2 = dt.date(2024, 3, 1), dt.date(2024, 3, 4)
OPTIONS = ExportOptions(concurrency=2, sleep=lambda _s: None, seed=3, retry=RetryPolicy(attempts=4))


class Tokens:
    def access_token(self, company: str) -> str:
        return "test-token"

    def refresh(self, company: str) -> str:
        return "test-token"


@pytest.fixture(scope="module")
def server() -> Iterator[QboServer]:
    with QboServer() as running:
        yield running


@pytest.fixture
def setup(
    server: QboServer, tmp_path: Path
) -> Iterator[tuple[BundleService, QuickBooksBackend, str]]:
    server.faults = type(server.faults)()
    realm = f"bd-{uuid.uuid4().hex[:10]}"
    store = SQLiteStore(tmp_path / "state.db")
    bundles = SQLiteBundleStore.beside(store)
    service = BundleService(store, bundles)
    config = QuickBooksConfig(base_url=server.base_url, realms={CO: realm})
    with httpx.Client(timeout=5.0) as client:
        backend = QuickBooksBackend(
            tokens=Tokens(),
            mapping=lambda co: QboMapping.from_dict(mapping_tables(service.mappings(co))),
            config=config,
            client=client,
        )
        yield service, backend, realm
    bundles.close()
    store.close()


def test_bundles_reach_quickbooks_as_receipt_invoice_and_linked_payment(
    setup: tuple[BundleService, QuickBooksBackend, str], server: QboServer
) -> None:
    service, backend, realm = setup
    service.store.ingest(
        CO,
        [
            UsageLog(source_id="u1", client="ann", date=D1, resource="room", quantity="2",
                     unit_price="40.00", currency="USD").to_record(CO),
            Payment(source_id="p1", client="ann", date=D1, amount="80.00", currency="USD",
                    method="card").to_record(CO),
            UsageLog(source_id="u2", client="bob", date=D1, resource="room", quantity="1",
                     unit_price="55.00", currency="USD").to_record(CO),
            Payment(source_id="p2", client="bob", date=D2, amount="55.00", currency="USD",
                    method="cheque").to_record(CO),
        ],
        at=AT,
        actor="test",
    )  # fmt: skip
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
