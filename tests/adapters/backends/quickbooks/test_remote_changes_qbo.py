"""End to end: documents edited, voided and deleted in QuickBooks are noticed through
change data capture and signed webhooks from the local QuickBooks-like server."""

from __future__ import annotations

import datetime as dt
import uuid

import httpx
import pytest

from qbo_bundles import Tokens, ingest_ann_and_bob, map_customers_and_room
from syncstate.adapters.backends.quickbooks.client import QuickBooksBackend, QuickBooksConfig
from syncstate.adapters.backends.quickbooks.payloads import QboMapping
from syncstate.adapters.backends.quickbooks.webhooks import WebhookReceiver
from syncstate.domain.bundling import BundleKind
from syncstate.domain.records import RecordKey
from syncstate.domain.state import ExportState
from syncstate.errors import InputError
from syncstate.ports.changes import RemoteChange
from syncstate.services.bundle_export import export_bundles
from syncstate.services.bundling import BundleService
from syncstate.services.export import ExportOptions
from syncstate.services.remote_changes import apply_remote_changes, resolve_remote_change
from syncstate.services.results import sync_results
from syncstate.testing.qbo_changes import WebhookOutbox, edit_in_quickbooks, void_in_quickbooks
from syncstate.testing.qbo_server import QboServer

CO = "acme"
OPTIONS = ExportOptions(concurrency=1, sleep=lambda _s: None, seed=3)
KINDS = ["invoice", "sales_receipt", "payment"]


@pytest.fixture
def exported(
    setup: tuple[BundleService, QuickBooksBackend, str], server: QboServer
) -> tuple[BundleService, QuickBooksBackend, str]:
    """Ann's sales receipt, Bob's invoice and Bob's payment, exported to QuickBooks."""
    service, backend, realm = setup
    ingest_ann_and_bob(service, CO, at=dt.datetime.now(dt.UTC))
    service.bundle(CO)
    map_customers_and_room(service, server, realm, CO, {"ann": "Ann", "bob": "Bob"}, Active=True)
    assert export_bundles(service, backend, CO, options=OPTIONS).summary() == {"exported": 3}
    return setup


def _views(service: BundleService) -> dict[BundleKind, tuple[RecordKey, str, str]]:
    return {
        v.bundle.kind: (v.key, v.remote_id or "", v.remote_version or "")
        for v in service.reconciled(CO)
    }


def test_cdc_marks_edited_voided_and_deleted_documents_and_ignores_our_own_writes(
    exported: tuple[BundleService, QuickBooksBackend, str], server: QboServer
) -> None:
    service, backend, realm = exported
    since = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    views = _views(service)
    # right after the export, CDC only reports syncstate's own documents: nothing to mark
    quiet = apply_remote_changes(service.store, backend.changes_since(CO, KINDS, since).changes)
    assert set(quiet.summary()) <= {"ignored", "own"}

    invoice_key, invoice_id, _v = views[BundleKind.INVOICE]
    receipt_key, receipt_id, _v = views[BundleKind.SALES_RECEIPT]
    payment_key, payment_id, _v = views[BundleKind.PAYMENT]
    edit_in_quickbooks(server.books, realm, "Invoice", invoice_id,
                       lambda inv: inv.update(DueDate="2024-04-30"))  # fmt: skip
    void_in_quickbooks(server.books, realm, "SalesReceipt", receipt_id)
    payment = server.books.get(realm, "Payment", payment_id)
    server.books.delete(realm, "Payment", payment)

    feed = backend.changes_since(CO, KINDS, since)
    assert feed.truncated == ()
    report = apply_remote_changes(service.store, feed.changes)
    marks = {str(o.key): o.mark for o in report.outcomes if o.key is not None}
    assert marks == {
        str(invoice_key): "remote_changed",
        str(receipt_key): "remote_deleted",
        str(payment_key): "remote_deleted",
    }
    # held, nothing overwritten; the Sync Results say what changed
    results = {str(r.key): r for r in sync_results(service.store, CO, filter="unlinked").items}
    assert set(results) == {str(invoice_key), str(receipt_key), str(payment_key)}
    assert "edited (version 0 -> 1)" in (results[str(invoice_key)].unlink_reason or "")
    assert "void" in (results[str(receipt_key)].unlink_reason or "")
    assert server.books.get(realm, "Invoice", invoice_id)["DueDate"] == "2024-04-30"

    # the host accepts QuickBooks' invoice: exported at the new version, not resent
    state = resolve_remote_change(service.store, invoice_key, "accept", version="1")
    assert state is ExportState.EXPORTED
    assert service.store.get(invoice_key).status.remote_version == "1"


def test_cdc_refuses_a_moment_older_than_its_30_days(
    exported: tuple[BundleService, QuickBooksBackend, str],
) -> None:
    _service, backend, _realm = exported
    with pytest.raises(InputError, match="30 days"):
        backend.changes_since(CO, KINDS, dt.datetime.now(dt.UTC) - dt.timedelta(days=31))


def test_a_full_cdc_answer_is_completed_with_queries(server: QboServer) -> None:
    realm = f"big-{uuid.uuid4().hex[:8]}"
    for n in range(1001):
        server.add(realm, "Customer", {"DisplayName": f"C{n}", "Active": True})
    config = QuickBooksConfig(base_url=server.base_url, realms={CO: realm})
    with httpx.Client(timeout=5.0) as client:
        backend = QuickBooksBackend(tokens=Tokens(), mapping=QboMapping(), config=config,
                                    client=client)  # fmt: skip
        feed = backend.changes_since(
            CO, ["customer"], dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
        )
    assert feed.truncated == ("Customer",)
    assert len({c.remote_id for c in feed.changes}) == 1001


def test_signed_webhooks_are_verified_queued_resolved_and_applied(
    exported: tuple[BundleService, QuickBooksBackend, str], server: QboServer
) -> None:
    service, backend, realm = exported
    views = _views(service)
    outbox = WebhookOutbox(server.books, "verifier-secret")
    outbox.drain()  # the export's own notifications
    queue: list[RemoteChange] = []
    receiver = WebhookReceiver(
        verifier_token="verifier-secret", enqueue=queue.extend, companies={realm: CO}
    )
    invoice_key, invoice_id, _v = views[BundleKind.INVOICE]
    edit_in_quickbooks(server.books, realm, "Invoice", invoice_id,
                       lambda inv: inv.update(CustomerMemo={"value": "thanks"}))  # fmt: skip
    (notification,) = outbox.drain(realm)
    # a forged or altered notification is refused and nothing is queued
    assert receiver.receive(notification.body + b" ", notification.headers) == 401
    assert receiver.receive(notification.body, {"intuit-signature": "AAAA"}) == 401
    assert receiver.receive(notification.body, {}) == 401
    assert queue == []
    assert "verifier-secret" not in repr(receiver)
    assert receiver.receive(notification.body, notification.headers) == 200
    assert [(c.company, c.kind, c.remote_id, c.version) for c in queue] == [
        (CO, "invoice", invoice_id, None)
    ]
    # without its version a webhook change proves nothing; resolved, it does
    unverified = apply_remote_changes(service.store, queue)
    assert unverified.summary() == {"unverified": 1}
    resolved = backend.resolve_versions(CO, queue)
    report = apply_remote_changes(service.store, resolved, policy="overwrite")
    assert report.summary() == {"remote_changed": 1}
    assert service.store.get(invoice_key).state is ExportState.OUTDATED
