"""Bundle a client's open usage and payments and export them to QuickBooks.

A booking system records usage (rooms, equipment) and payments per client.
Bundling turns the open transactions into sales receipts (paid at use) and
invoices (on account), by the default "smart accounting" rules; exporting a
client sends its bundles once. Missing customer or item mappings are
reported, all at once, before anything is sent.

Runs against syncstate's local QuickBooks-like server (no network).
Run it: ``python examples/bundle_and_export_client.py`` (a few seconds).
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import httpx

from syncstate import (
    BundleService,
    MappingError,
    MappingKind,
    Payment,
    QboMapping,
    QuickBooksBackend,
    QuickBooksConfig,
    SQLiteBundleStore,
    SQLiteStore,
    UsageLog,
    export_bundles,
    fetch_bundle_pdf,
    mapping_tables,
    sync_customers,
)
from syncstate.testing.qbo_server import QboServer

COMPANY = "harbor-rooms"
REALM = "4620816365"
NOW = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)
DAY1, DAY2, DAY3 = dt.date(2026, 3, 2), dt.date(2026, 3, 3), dt.date(2026, 3, 9)


class HostTokens:
    """Your application's OAuth tokens (the local server accepts any)."""

    def access_token(self, company: str) -> str:
        return "token-from-your-secret-store"

    def refresh(self, company: str) -> str:
        return "token-from-your-secret-store"


def transactions() -> list[UsageLog | Payment]:
    """Ann pays at the desk; Bo books on account and pays a week later."""

    def use(sid: str, client: str, day: dt.date, qty: str) -> UsageLog:
        return UsageLog(
            source_id=sid,
            client=client,
            date=day,
            resource="meeting-room",
            quantity=qty,
            unit_price="40.00",
            currency="USD",
        )

    return [
        use("u1", "ann", DAY1, "2"),
        Payment(source_id="p1", client="ann", date=DAY1, amount="80.00", currency="USD",
                method="card"),
        use("u2", "bo", DAY1, "3"),
        use("u3", "bo", DAY2, "1"),
        Payment(source_id="p2", client="bo", date=DAY3, amount="160.00", currency="USD",
                method="cheque"),
    ]  # fmt: skip


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, QboServer() as qbo, httpx.Client() as http:
        store = SQLiteStore(Path(tmp) / "syncstate.db")
        bundle_store = SQLiteBundleStore.beside(store)
        service = BundleService(store, bundle_store)
        backend = QuickBooksBackend(
            tokens=HostTokens(),
            # the back end resolves names through the mappings kept by the bundle store
            mapping=lambda co: QboMapping.from_dict(mapping_tables(service.mappings(co))),
            client=http,
            config=QuickBooksConfig(base_url=qbo.base_url, realms={COMPANY: REALM}),
        )
        store.ingest(COMPANY, [t.to_record(COMPANY) for t in transactions()], at=NOW, actor="app")

        report = service.bundle(COMPANY)
        print(f"bundled {len(report.bundles)} bundles: {report.counts()}")
        for view in service.list_bundles(COMPANY):
            b = view.bundle
            print(
                f"  {b.client:<4} {b.kind.value:<13} {b.total} from {len(b.members)} transaction(s)"
            )

        try:
            export_bundles(service, backend, COMPANY, clients=["bo"])
        except MappingError as error:
            print(f"nothing sent: {error}")

        sync_customers(service, backend, COMPANY, clients={"ann": "Ann Lee", "bo": "Bo Berg"})
        room = qbo.add(REALM, "Item", {"Name": "Meeting room", "Type": "Service"})
        service.set_mapping(COMPANY, MappingKind.ITEM, "meeting-room", room)

        sent = export_bundles(service, backend, COMPANY, clients=["bo"])
        print(f"exported client bo: {sent.summary()}")
        print(
            f"QuickBooks holds {qbo.count(REALM, 'Invoice')} invoice(s), "
            f"{qbo.count(REALM, 'Payment')} payment(s), "
            f"{qbo.count(REALM, 'SalesReceipt')} sales receipt(s): ann is not exported yet"
        )
        again = export_bundles(service, backend, COMPANY, clients=["bo"])
        print(f"exporting bo again: {again.summary()}")

        invoice = next(v for v in service.reconciled(COMPANY) if v.bundle.kind.value == "invoice")
        pdf = fetch_bundle_pdf(service, backend, COMPANY, invoice.bundle.bundle_id)
        print(f"invoice {invoice.remote_id}: PDF of {len(pdf)} bytes from QuickBooks")
        bundle_store.close()
        store.close()


if __name__ == "__main__":
    main()
