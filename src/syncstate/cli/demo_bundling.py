"""The bundling part of ``syncstate demo``: usage logs and payments of a coworking space.

A second company (every operation is scoped to one) books meeting rooms and
desks. Usage paid on the day becomes a sales receipt, usage on account an
invoice, later payments are applied to the oldest open invoice; a backlog is
marked historical; missing mappings are reported before anything is sent; a
reconciled receipt is overwritten (not duplicated) and another is un-bundled
with reverse export.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx

from syncstate.adapters.backends.quickbooks.client import (
    QuickBooksBackend,
    QuickBooksConfig,
    TokenProvider,
)
from syncstate.adapters.backends.quickbooks.payloads import QboMapping
from syncstate.cli.demo_text import Say, named, table
from syncstate.domain.bundling import BundleKind
from syncstate.domain.mapping import MappingKind
from syncstate.domain.records import SourceRecord
from syncstate.domain.transactions import Payment, UsageLog
from syncstate.errors import MappingError
from syncstate.ports import BundleStore, StateStore
from syncstate.services.bundle_export import export_bundles, mapping_tables, unbundle_and_reverse
from syncstate.services.bundling import BundleService
from syncstate.services.customer_sync import sync_customers
from syncstate.services.export import ExportOptions
from syncstate.testing.qbo_server import QboServer

__all__ = ["COWORKING", "bundling_tour", "coworking_transactions"]

COWORKING = "harbor-desks"
CLIENTS = {"lee": "Ann Lee", "ray": "Bo Ray", "kim": "Cy Kim"}
RESOURCES = {"room": "Meeting room", "desk": "Hot desk"}


def coworking_transactions() -> list[SourceRecord]:
    """A January backlog and two weeks of March bookings and payments."""
    d = dt.date
    rows: list[UsageLog | Payment] = [
        # January: already in the books before syncstate was installed
        UsageLog(source_id="u-jan-1", client="lee", date=d(2026, 1, 12), resource="room",
                 quantity="3", unit_price="40.00", currency="USD"),
        Payment(source_id="p-jan-1", client="lee", date=d(2026, 1, 12), amount="120.00",
                currency="USD", method="card"),
        # lee books a room and pays on the spot: a sales receipt
        UsageLog(source_id="u-1", client="lee", date=d(2026, 3, 2), resource="room",
                 quantity="2", unit_price="40.00", currency="USD"),
        Payment(source_id="p-1", client="lee", date=d(2026, 3, 2), amount="80.00",
                currency="USD", method="card"),
        # ray works on account: invoices, then one payment applied to the oldest first
        UsageLog(source_id="u-2", client="ray", date=d(2026, 3, 2), resource="desk",
                 quantity="1", unit_price="25.00", currency="USD"),
        UsageLog(source_id="u-3", client="ray", date=d(2026, 3, 3), resource="desk",
                 quantity="1", unit_price="25.00", currency="USD"),
        UsageLog(source_id="u-4", client="ray", date=d(2026, 3, 3), resource="room",
                 quantity="1", unit_price="40.00", currency="USD"),
        Payment(source_id="p-2", client="ray", date=d(2026, 3, 10), amount="50.00",
                currency="USD", method="cheque", reference="chq 1041"),
        # kim pays on the spot too
        UsageLog(source_id="u-5", client="kim", date=d(2026, 3, 4), resource="desk",
                 quantity="2", unit_price="25.00", currency="USD"),
        Payment(source_id="p-5", client="kim", date=d(2026, 3, 4), amount="50.00",
                currency="USD", method="card"),
    ]  # fmt: skip
    return [row.to_record(COWORKING) for row in rows]


def bundling_tour(
    store: StateStore,
    bundles: BundleStore,
    server: QboServer,
    client: httpx.Client,
    tokens: TokenProvider,
    say: Say,
    now: dt.datetime,
) -> dict[str, Any]:
    """Run the bundling section against its own QuickBooks company; return its summary.

    ``bundles`` is the bundle store beside ``store`` (one transaction per un-bundle).
    """
    service = BundleService(store, bundles)
    realm = "4620816365"
    backend = QuickBooksBackend(
        tokens=tokens,
        mapping=lambda company: QboMapping.from_dict(mapping_tables(service.mappings(company))),
        config=QuickBooksConfig(base_url=server.base_url, realms={COWORKING: realm}),
        client=client,
    )
    # one request at a time: five bundles, and remote ids in the order of the table below
    options = ExportOptions(concurrency=1, use_batch=False)
    store.ingest(COWORKING, coworking_transactions(), at=now, actor="demo")
    say(
        f"\n9. Bundling for a second company, {COWORKING} (a coworking space): "
        "usage logs and payments become sales receipts, invoices and payments."
    )
    backlog = service.mark_historical(COWORKING, cutoff=dt.date(2026, 2, 28))
    say(f"  {backlog.total} January transactions marked historical: never exported.")
    made = service.bundle(COWORKING)
    counts = made.counts()
    say(
        f"  bundled: {counts['sales_receipt']} sales receipts (paid at use), "
        f"{counts['invoice']} invoices (on account), {counts['payment']} payment "
        "(applied to the oldest open invoice first)"
    )

    try:
        export_bundles(service, backend, COWORKING, options=options)
    except MappingError as exc:
        say(f"  export refused before sending anything: {len(exc.missing)} missing mappings")
        for missing in exc.missing:
            say(
                f"    {missing.kind.label} {missing.local!r}: {missing.kind.value} "
                f"{missing.reason} (needed by {named(missing.records)})"
            )
    sync_customers(service, backend, COWORKING, clients=CLIENTS)
    for resource, name in RESOURCES.items():
        item = server.add(realm, "Item", {"Name": name, "Type": "Service"})
        service.set_mapping(COWORKING, MappingKind.ITEM, resource, item)
    say("  customers created in QuickBooks and items mapped; exporting again:")
    report = export_bundles(service, backend, COWORKING, options=options)
    outcomes = ", ".join(f"{n} {outcome}" for outcome, n in report.summary().items())
    say(f"  {outcomes}:")
    views = service.reconciled(COWORKING)
    table(
        say,
        ["bundle", "kind", "client", "total", "remote_id", "members"],
        [[v.bundle.bundle_id[:12], v.bundle.kind.value, v.bundle.client, v.bundle.total,
          v.remote_id, len(v.bundle.members)] for v in views],
    )  # fmt: skip

    receipts = {v.bundle.client: v for v in views if v.bundle.kind is BundleKind.SALES_RECEIPT}
    again = export_bundles(
        service,
        backend,
        COWORKING,
        overwrite=True,
        options=options,
        bundle_ids=[receipts["lee"].bundle.bundle_id],
    )
    say(
        f"  exporting lee's reconciled receipt again: {again.outcomes[0].outcome}; "
        f"QuickBooks still holds {server.count(realm, 'SalesReceipt')} sales receipts."
    )
    undone = unbundle_and_reverse(
        service, COWORKING, [receipts["kim"].bundle.bundle_id], backend=backend, reverse=True
    )
    say(
        f"  un-bundled kim's receipt with reverse export: {len(undone.reversed)} document "
        f"voided, {len(undone.reopened)} transactions open to bundle again."
    )
    return {
        "historical": backlog.total,
        "bundles": counts,
        "exported": report.summary(),
        "overwrite": again.outcomes[0].outcome,
        "reopened": len(undone.reopened),
    }
