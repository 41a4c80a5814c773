"""The QuickBooks adapter end to end through real HTTP against the local QuickBooks-like server."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import attrs
import httpx
import pytest

from syncstate.adapters.backends.quickbooks.client import QuickBooksBackend, QuickBooksConfig
from syncstate.adapters.backends.quickbooks.payloads import QboMapping
from syncstate.domain.records import RecordKey
from syncstate.errors import (
    AmbiguousOutcome,
    AuthenticationError,
    DuplicateDocumentError,
    RemoteNotFound,
    RemoteValidationError,
    StaleVersionError,
    ThrottledError,
    UnmappedReference,
    UnsupportedCapability,
)
from syncstate.ports import Document, DocumentLine, RemoteRef
from syncstate.testing.qbo_server import QboServer

SECRET = "secret-access-token-0123456789"


class Tokens:
    """A host token provider: hands out the current token, rotates on refresh."""

    def __init__(self, current: str, fresh: str) -> None:
        self.current, self.fresh, self.refreshes = current, fresh, 0

    def access_token(self, company: str) -> str:
        return self.current

    def refresh(self, company: str) -> str:
        self.refreshes += 1
        self.current = self.fresh
        return self.current


@pytest.fixture(scope="module")
def server() -> Iterator[QboServer]:
    with QboServer() as running:
        yield running


@attrs.define
class Books:
    server: QboServer
    realm: str
    backend: QuickBooksBackend
    tokens: Tokens
    customer: str


@pytest.fixture
def books(server: QboServer) -> Iterator[Books]:
    server.faults = type(server.faults)()
    server.valid_tokens = None
    realm = f"r{uuid.uuid4().hex[:10]}"
    customer = server.add(realm, "Customer", {"DisplayName": "Amy's Bird Sanctuary"})
    other = server.add(realm, "Customer", {"DisplayName": "Bill's Windsurf Shop"})
    item = server.add(realm, "Item", {"Name": "Services"})
    employee = server.add(realm, "Employee", {"DisplayName": "Emily Platt"})
    mapping = QboMapping(
        customers={"amy": customer, "bill": other},
        items={"svc": item},
        employees={"emily": employee},
    )
    tokens = Tokens(SECRET, SECRET + "-fresh")
    config = QuickBooksConfig(base_url=server.base_url, realms={"acme": realm})
    with httpx.Client(timeout=httpx.Timeout(2.0)) as client:
        backend = QuickBooksBackend(tokens=tokens, mapping=mapping, config=config, client=client)
        yield Books(server, realm, backend, tokens, customer)


def invoice(n: int = 1, *, amount: str = "100.00", party: str = "amy", **kw: object) -> Document:
    return Document(
        kind="invoice",
        source=RecordKey("acme", "bundle", f"b{n}"),
        date=dt.date(2026, 3, 2),
        party=party,
        lines=(DocumentLine(item="svc", quantity=Decimal(1), unit_price=Decimal(amount)),),
        memo=f"bundle {n}",
        **kw,  # type: ignore[arg-type]
    )


def key(n: int) -> str:
    return str(uuid.UUID(int=n))


# ------------------------------------------------------------------ create


def test_create_with_the_same_requestid_replays_instead_of_duplicating(books: Books) -> None:
    first = books.backend.create("acme", invoice(), idempotency_key=key(1))
    again = books.backend.create("acme", invoice(), idempotency_key=key(1))
    assert again == first and first.version == "0" and first.doc_number
    assert books.server.count(books.realm, "Invoice") == 1
    assert books.server.stats["replays"] >= 1


def test_server_answers_have_the_shape_of_real_quickbooks_answers(
    books: Books, shared_dir: Path
) -> None:
    folder = shared_dir / "fixtures" / "qbo"
    real = json.loads(
        (folder / "exquickbooks__sales_receipt_create_sales_receipt.json").read_text()
    )
    books.backend.create(
        "acme", attrs.evolve(invoice(), kind="sales_receipt"), idempotency_key=key(1)
    )
    (ours,) = books.server.documents(books.realm, "SalesReceipt")
    for field in ("Id", "SyncToken", "TxnDate", "TotalAmt", "DocNumber", "Line", "MetaData"):
        assert field in real["SalesReceipt"] and field in ours
    assert isinstance(ours["SyncToken"], str) and isinstance(ours["Id"], str)
    assert [line["DetailType"] for line in ours["Line"]] == [
        line["DetailType"] for line in real["SalesReceipt"]["Line"]
    ]
    response = httpx.get(
        f"{books.server.base_url}/v3/company/{books.realm}/item/999",
        headers={"Authorization": "Bearer x"},
    )
    error = json.loads((folder / "exquickbooks__item_update_item_error.json").read_text())
    assert response.status_code == 400
    assert set(response.json()) == set(error)
    assert set(response.json()["Fault"]["Error"][0]) == set(error["Fault"]["Error"][0])


def test_an_unmapped_customer_fails_before_any_request(books: Books) -> None:
    before = books.server.stats["requests"]
    with pytest.raises(UnmappedReference, match="nobody"):
        books.backend.create("acme", invoice(party="nobody"), idempotency_key=key(1))
    assert books.server.stats["requests"] == before


def test_a_duplicate_document_number_names_the_existing_document(books: Books) -> None:
    ref = books.backend.create("acme", invoice(1, doc_number="INV-1"), idempotency_key=key(1))
    with pytest.raises(DuplicateDocumentError) as caught:
        books.backend.create("acme", invoice(2, doc_number="INV-1"), idempotency_key=key(2))
    assert caught.value.existing_id == ref.remote_id and caught.value.code == "6140"


# ------------------------------------------------------------------ update


def test_update_sends_the_sync_token_and_keeps_the_lookup_tag(books: Books) -> None:
    ref = books.backend.create("acme", invoice(), idempotency_key=key(1))
    updated = books.backend.update("acme", ref, invoice(amount="250.00"), idempotency_key=key(2))
    assert (updated.remote_id, updated.version) == (ref.remote_id, "1")
    (stored,) = books.server.documents(books.realm, "Invoice")
    assert stored["TotalAmt"] == Decimal("250.00")
    assert books.backend.lookup("acme", "invoice", key(1)) == updated


def test_a_stale_sync_token_raises_and_a_none_version_overwrites_current(books: Books) -> None:
    ref = books.backend.create("acme", invoice(), idempotency_key=key(1))
    books.backend.update("acme", ref, invoice(amount="200.00"), idempotency_key=key(2))
    with pytest.raises(StaleVersionError) as caught:
        books.backend.update("acme", ref, invoice(amount="300.00"), idempotency_key=key(3))
    assert caught.value.code == "5010"
    fresh = attrs.evolve(ref, version=None)
    done = books.backend.update("acme", fresh, invoice(amount="300.00"), idempotency_key=key(4))
    assert done.version == "2"


def test_updating_a_deleted_document_is_remote_not_found(books: Books) -> None:
    with pytest.raises(RemoteNotFound):
        books.backend.update(
            "acme", RemoteRef(remote_id="4040", kind="invoice"), invoice(), idempotency_key=key(9)
        )


# --------------------------------------------------------- ambiguous outcomes


@pytest.mark.parametrize("mode", ["500", "drop"])
def test_commit_then_fail_is_ambiguous_and_lookup_finds_the_document(
    books: Books, mode: str
) -> None:
    books.server.commit_then_fail(1, mode=mode)
    with pytest.raises(AmbiguousOutcome):
        books.backend.create("acme", invoice(), idempotency_key=key(1))
    found = books.backend.lookup("acme", "invoice", key(1))
    assert found is not None and books.server.count(books.realm, "Invoice") == 1
    assert books.backend.create("acme", invoice(), idempotency_key=key(1)) == found
    assert books.server.count(books.realm, "Invoice") == 1


def test_a_connection_reset_is_ambiguous_and_nothing_was_written(books: Books) -> None:
    books.server.reset_next(1)
    with pytest.raises(AmbiguousOutcome) as caught:
        books.backend.create("acme", invoice(), idempotency_key=key(1))
    assert not isinstance(caught.value.__cause__, AmbiguousOutcome)
    assert books.backend.lookup("acme", "invoice", key(1)) is None


def test_a_timeout_is_ambiguous(books: Books) -> None:
    books.server.faults.latency = 2.5
    with pytest.raises(AmbiguousOutcome, match="in time"):
        books.backend.create("acme", invoice(), idempotency_key=key(1))
    books.server.faults.latency = 0.0


# ------------------------------------------------------------------- tokens


def test_an_expired_token_is_refreshed_once_and_the_call_succeeds(books: Books) -> None:
    books.server.valid_tokens = {SECRET + "-fresh"}
    ref = books.backend.create("acme", invoice(), idempotency_key=key(1))
    assert ref.remote_id and books.tokens.refreshes == 1


def test_a_refused_refreshed_token_is_an_authentication_error_without_the_token(
    books: Books,
) -> None:
    books.server.valid_tokens = {"something-else"}
    with pytest.raises(AuthenticationError) as caught:
        books.backend.create("acme", invoice(), idempotency_key=key(1))
    assert caught.value.code == "3200" and books.tokens.refreshes == 1
    for text in (str(caught.value), repr(caught.value), repr(books.backend)):
        assert SECRET not in text
    assert SECRET not in repr(caught.value.__cause__) if caught.value.__cause__ else True


# --------------------------------------------------------------- throttling


@pytest.mark.parametrize("as_xml", [False, True])
def test_throttling_raises_throttled_error_with_retry_after(books: Books, as_xml: bool) -> None:
    books.server.faults.rate_limit = 2
    books.server.faults.throttle_as_xml = as_xml
    books.backend.create("acme", invoice(1), idempotency_key=key(1))
    books.backend.create("acme", invoice(2), idempotency_key=key(2))
    with pytest.raises(ThrottledError) as caught:
        books.backend.create("acme", invoice(3), idempotency_key=key(3))
    assert caught.value.retry_after is not None and 0 < caught.value.retry_after <= 60
    assert caught.value.code == "3001"
    assert books.server.count(books.realm, "Invoice") == 2


def test_the_concurrency_limit_answers_429(books: Books) -> None:
    import concurrent.futures

    books.server.faults.concurrency_limit = 2
    books.server.faults.latency = 0.3
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        futures = [
            pool.submit(books.backend.create, "acme", invoice(n), idempotency_key=key(n))
            for n in range(4)
        ]
        errors = [f.exception() for f in futures]
    assert sum(isinstance(e, ThrottledError) for e in errors) >= 1
    assert books.server.count(books.realm, "Invoice") == sum(e is None for e in errors)


# -------------------------------------------------------------------- batch


def test_batch_results_are_matched_by_bid_with_faults_in_place(books: Books) -> None:
    books.server.faults.reverse_batch = True
    items = [(invoice(n), key(n)) for n in range(3)]
    items.insert(1, (invoice(9, party="bill", doc_number="X"), key(9)))
    books.server.close_books(books.realm, dt.date(2026, 1, 1))
    items.append((attrs.evolve(invoice(10), date=dt.date(2025, 12, 1)), key(10)))
    items.append((invoice(11, party="ghost"), key(11)))
    results = books.backend.create_batch("acme", items)
    assert [type(r).__name__ for r in results] == [
        "RemoteRef", "RemoteRef", "RemoteRef", "RemoteRef", "RemoteValidationError",
        "UnmappedReference",
    ]  # fmt: skip
    assert results[4].code == "6210"  # type: ignore[union-attr]
    for (_doc, k), result in zip(items[:4], results[:4], strict=True):
        assert books.backend.lookup("acme", "invoice", k) == result
    again = books.backend.create_batch("acme", items)  # the same batch: replayed
    assert again[:4] == results[:4] and books.server.count(books.realm, "Invoice") == 4


def test_a_batch_larger_than_max_batch_is_refused_before_sending(books: Books) -> None:
    with pytest.raises(UnsupportedCapability):
        books.backend.create_batch("acme", [(invoice(n), key(n)) for n in range(31)])


# ------------------------------------------------------------ void / delete


def test_void_keeps_the_invoice_with_zero_amount(books: Books) -> None:
    ref = books.backend.create("acme", invoice(), idempotency_key=key(1))
    books.backend.delete("acme", ref)
    (stored,) = books.server.documents(books.realm, "Invoice")
    assert stored["TotalAmt"] == 0 and stored["PrivateNote"] == "Voided"
    assert stored["SyncToken"] == "1"


def test_delete_mode_removes_the_document(books: Books) -> None:
    config = attrs.evolve(books.backend.config, reverse="delete")
    with QuickBooksBackend(
        tokens=books.tokens, mapping=books.backend._mapping, config=config
    ) as qb:
        ref = qb.create("acme", invoice(), idempotency_key=key(1))
        qb.delete("acme", attrs.evolve(ref, version=None))
        assert books.server.count(books.realm, "Invoice") == 0
        with pytest.raises(RemoteNotFound):
            qb.delete("acme", ref)


def test_a_deposited_sales_receipt_cannot_be_voided(books: Books) -> None:
    ref = books.backend.create(
        "acme", attrs.evolve(invoice(), kind="sales_receipt"), idempotency_key=key(1)
    )
    books.server.mark_deposited(books.realm, "SalesReceipt", ref.remote_id)
    with pytest.raises(RemoteValidationError) as caught:
        books.backend.delete("acme", ref)
    assert caught.value.code == "6540"


def test_time_activity_round_trip_and_delete(books: Books) -> None:
    doc = Document(
        kind="time_activity",
        source=RecordKey("acme", "time_entry", "t1"),
        date=dt.date(2026, 3, 2),
        party="emily",
        fields={"hours": "7.5", "customer": "amy"},
    )
    ref = books.backend.create("acme", doc, idempotency_key=key(1))
    (stored,) = books.server.documents(books.realm, "TimeActivity")
    assert (stored["Hours"], stored["Minutes"]) == (7, 30)
    assert books.backend.lookup("acme", "time_activity", key(1)) == ref
    books.backend.delete("acme", ref)
    assert books.server.count(books.realm, "TimeActivity") == 0


def test_a_payment_linked_to_another_customers_invoice_is_refused(books: Books) -> None:
    ref = books.backend.create("acme", invoice(), idempotency_key=key(1))
    payment = Document(
        kind="payment",
        source=RecordKey("acme", "payment", "p1"),
        date=dt.date(2026, 3, 3),
        party="bill",
        fields={"amount": "100.00", "applies_to": ref.remote_id},
    )
    with pytest.raises(RemoteValidationError) as caught:
        books.backend.create("acme", payment, idempotency_key=key(2))
    assert caught.value.code == "620"


def test_an_ended_subscription_stops_writes_as_an_authentication_problem(books: Books) -> None:
    books.server.end_subscription(books.realm)
    with pytest.raises(AuthenticationError) as caught:
        books.backend.create("acme", invoice(), idempotency_key=key(1))
    assert caught.value.code == "6190"


# ---------------------------------------------------------------------- pdf


def test_fetch_pdf_returns_the_rendered_invoice(books: Books) -> None:
    ref = books.backend.create("acme", invoice(), idempotency_key=key(1))
    pdf = books.backend.fetch_pdf("acme", ref)
    assert pdf.startswith(b"%PDF") and (ref.doc_number or "").encode() in pdf
    with pytest.raises(UnsupportedCapability):
        books.backend.fetch_pdf("acme", RemoteRef(remote_id="1", kind="payment"))
