"""Payables, expenses, journals, refunds, deposits, estimates and lists: rendered from
neutral documents and held to QuickBooks' rules by the local server, over real HTTP."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from decimal import Decimal

import attrs
import httpx
import pytest

from syncstate.adapters.backends.quickbooks.client import QuickBooksBackend, QuickBooksConfig
from syncstate.adapters.backends.quickbooks.payloads import QboMapping, dumps, render
from syncstate.domain.records import RecordKey
from syncstate.errors import RemoteNotFound, RemoteValidationError, UnmappedReference
from syncstate.ports import Document, DocumentLine, RemoteRef
from syncstate.testing.qbo_server import QboServer

CO = "acme"
DAY = dt.date(2024, 4, 2)


class Tokens:
    def access_token(self, company: str) -> str:
        return "t"

    def refresh(self, company: str) -> str:
        return "t"


@pytest.fixture(scope="module")
def server() -> Iterator[QboServer]:
    with QboServer() as running:
        yield running


@pytest.fixture
def books(server: QboServer) -> Iterator[tuple[QuickBooksBackend, str, QboMapping]]:
    realm = f"ent-{uuid.uuid4().hex[:10]}"
    vendor = server.add(realm, "Vendor", {"DisplayName": "Paper Co"})
    expenses = server.add(realm, "Account", {"Name": "Office", "AccountType": "Expense"})
    bank = server.add(realm, "Account", {"Name": "Checking", "AccountType": "Bank"})
    mapping = QboMapping(vendors={"paper": vendor}, accounts={"office": expenses, "bank": bank})
    config = QuickBooksConfig(base_url=server.base_url, realms={CO: realm})
    with httpx.Client(timeout=5.0) as client:
        yield QuickBooksBackend(tokens=Tokens(), mapping=mapping, config=config, client=client), \
            realm, mapping  # fmt: skip


def doc(kind: str, *lines: tuple[str, str], party: str = "", **fields: str) -> Document:
    return Document(
        kind=kind,
        source=RecordKey(CO, kind, uuid.uuid4().hex[:8]),
        date=DAY,
        party=party,
        fields=fields,
        lines=tuple(DocumentLine(item=i, amount=Decimal(a)) for i, a in lines),
    )


def test_a_foreign_currency_bill_reaches_quickbooks_with_its_rate_and_total(
    books: tuple[QuickBooksBackend, str, QboMapping], server: QboServer
) -> None:
    backend, realm, _mapping = books
    bill = attrs.evolve(
        doc("bill", ("office", "30.00"), ("office", "12.50"), party="paper",
            due_date="2024-05-02", exchange_rate="1.0850"),
        currency="EUR",
    )  # fmt: skip
    ref = backend.create(CO, bill, idempotency_key=str(uuid.uuid4()))
    (stored,) = server.documents(realm, "Bill")
    assert stored["Id"] == ref.remote_id
    assert stored["TotalAmt"] == Decimal("42.50") == stored["Balance"]
    assert stored["CurrencyRef"] == {"value": "EUR"}
    assert stored["ExchangeRate"] == Decimal("1.0850")
    assert stored["DueDate"] == "2024-05-02"
    # a bill is reversed by deleting it
    backend.delete(CO, ref)
    assert server.count(realm, "Bill") == 0
    with pytest.raises(RemoteNotFound):
        backend.fetch_ref(CO, "bill", ref.remote_id)


def test_an_unbalanced_journal_entry_is_refused_before_sending(
    books: tuple[QuickBooksBackend, str, QboMapping], server: QboServer
) -> None:
    backend, realm, mapping = books
    unbalanced = doc("journal_entry", ("office", "100.00"), ("bank", "-90.00"))
    writes = server.stats["writes"]
    with pytest.raises(RemoteValidationError, match="balance"):
        backend.create(CO, unbalanced, idempotency_key=str(uuid.uuid4()))
    assert server.stats["writes"] == writes
    # and the server refuses one sent anyway, as QuickBooks does (6000)
    body = render(doc("journal_entry", ("office", "100.00"), ("bank", "-100.00")), mapping, "k")
    body["Line"][1]["Amount"] = Decimal("90.00")
    answer = httpx.post(
        f"{server.base_url}/v3/company/{realm}/journalentry",
        content=dumps(body),
        headers={"Authorization": "Bearer t"},
    )
    assert answer.status_code == 400 and '"6000"' in answer.text


def test_journal_lines_post_debits_and_credits(
    books: tuple[QuickBooksBackend, str, QboMapping], server: QboServer
) -> None:
    backend, realm, mapping = books
    backend.create(CO, doc("journal_entry", ("office", "80.00"), ("bank", "-80.00")),
                   idempotency_key=str(uuid.uuid4()))  # fmt: skip
    (entry,) = server.documents(realm, "JournalEntry")
    postings = [
        (ln["JournalEntryLineDetail"]["PostingType"], ln["JournalEntryLineDetail"]["AccountRef"],
         ln["Amount"]) for ln in entry["Line"]
    ]  # fmt: skip
    assert postings == [
        ("Debit", {"value": mapping.accounts["office"]}, Decimal("80.00")),
        ("Credit", {"value": mapping.accounts["bank"]}, Decimal("80.00")),
    ]


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (doc("bill", ("office", "5.00"), party="nobody"), "vendor 'nobody'"),
        (doc("purchase", ("office", "5.00")), "'account'"),
        (doc("purchase", ("office", "5.00"), account="bank", payment_type="Barter"), "Barter"),
        (doc("deposit", ("office", "5.00")), "'deposit_account'"),
        (doc("account", party="Rent"), "'account_type'"),
        (doc("bill", party="paper"), "at least one line"),
        (doc("bill", ("office", "5.00"), party="paper", exchange_rate="-2"), "positive"),
    ],
)
def test_bad_documents_are_refused_naming_what_is_missing(
    books: tuple[QuickBooksBackend, str, QboMapping],
    server: QboServer,
    document: Document,
    message: str,
) -> None:
    backend, _realm, _mapping = books
    writes = server.stats["writes"]
    with pytest.raises(RemoteValidationError, match=message) as caught:
        backend.create(CO, document, idempotency_key=str(uuid.uuid4()))
    assert document.source.source_id in str(caught.value)
    assert server.stats["writes"] == writes
    if "vendor" in message:
        assert isinstance(caught.value, UnmappedReference)


def test_the_server_refuses_a_bill_to_a_vendor_that_does_not_exist(
    books: tuple[QuickBooksBackend, str, QboMapping], server: QboServer
) -> None:
    backend, realm, mapping = books
    broken = QuickBooksBackend(
        tokens=Tokens(),
        mapping=attrs.evolve(mapping, vendors={"paper": "4040"}),
        config=backend.config,
    )
    with broken, pytest.raises(RemoteValidationError) as caught:
        broken.create(CO, doc("bill", ("office", "5.00"), party="paper"),
                      idempotency_key=str(uuid.uuid4()))  # fmt: skip
    assert caught.value.code == "2500"
    assert server.count(realm, "Bill") == 0


def test_a_vendor_cannot_take_a_customers_name(
    books: tuple[QuickBooksBackend, str, QboMapping], server: QboServer
) -> None:
    backend, realm, _mapping = books
    server.add(realm, "Customer", {"DisplayName": "Shared Name"})
    with pytest.raises(Exception, match="6240"):
        backend.create(CO, doc("vendor", party=" shared NAME "), idempotency_key=str(uuid.uuid4()))
    assert [v["DisplayName"] for v in server.documents(realm, "Vendor")] == ["Paper Co"]


def test_a_receipt_is_uploaded_and_linked_to_its_bill_once(
    books: tuple[QuickBooksBackend, str, QboMapping], server: QboServer
) -> None:
    backend, realm, _mapping = books
    ref = backend.create(CO, doc("bill", ("office", "9.99"), party="paper"),
                         idempotency_key=str(uuid.uuid4()))  # fmt: skip
    receipt = b"%PDF-1.4 receipt\r\n\x00\xff ends with a line break\r\n"
    key = str(uuid.uuid4())
    pdf = {"file_name": 'receipt "march".pdf', "content_type": "application/pdf"}
    first = backend.attach(CO, ref, content=receipt, idempotency_key=key, note="paper", **pdf)
    again = backend.attach(CO, ref, content=receipt, idempotency_key=key, **pdf)
    assert again.remote_id == first.remote_id and first.size == len(receipt)
    (stored,) = server.documents(realm, "Attachable")
    assert stored["AttachableRef"] == [{"EntityRef": {"type": "Bill", "value": ref.remote_id}}]
    assert stored["Size"] == len(receipt) and stored["Note"] == "paper"


def test_an_attachment_to_nothing_or_of_an_unknown_type_is_refused(
    books: tuple[QuickBooksBackend, str, QboMapping], server: QboServer
) -> None:
    backend, realm, _mapping = books
    missing = RemoteRef(remote_id="4040", kind="bill")
    with pytest.raises(RemoteValidationError) as caught:
        backend.attach(CO, missing, file_name="r.pdf", content=b"%PDF",
                       content_type="application/pdf", idempotency_key="k2")  # fmt: skip
    assert caught.value.code == "2500"
    with pytest.raises(RemoteValidationError, match="x-msdownload"):
        backend.attach(CO, missing, file_name="r.exe", content=b"MZ",
                       content_type="application/x-msdownload", idempotency_key="k")  # fmt: skip
    assert server.count(realm, "Attachable") == 0
