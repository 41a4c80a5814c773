"""The back-end conformance kit against the QuickBooks adapter and the local QBO server."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import attrs
import httpx
import pytest

from syncstate.adapters.backends.quickbooks.client import QuickBooksBackend, QuickBooksConfig
from syncstate.adapters.backends.quickbooks.payloads import QboMapping
from syncstate.ports import Document, DocumentLine
from syncstate.testing.backend_contract import (
    COMPANY,
    OTHER_COMPANY,
    BackendContract,
    sample_document,
)
from syncstate.testing.qbo_server import QboServer


class _Tokens:
    def access_token(self, company: str) -> str:
        return "kit-token"

    def refresh(self, company: str) -> str:
        return "kit-token"


@pytest.fixture(scope="module")
def server() -> Iterator[QboServer]:
    with QboServer() as running:
        yield running


def _backend(server: QboServer, reverse: str) -> Iterator[QuickBooksBackend]:
    # a fresh realm per test: the back end starts with no documents
    realm, other = f"kit-{uuid.uuid4().hex[:12]}", f"kit-{uuid.uuid4().hex[:12]}"
    customer = server.add(realm, "Customer", {"DisplayName": "Client One"})
    item = server.add(realm, "Item", {"Name": "Consulting"})
    employee = server.add(realm, "Employee", {"DisplayName": "Ann Employee"})
    vendor = server.add(realm, "Vendor", {"DisplayName": "Supplier One"})
    accounts = {
        name: server.add(realm, "Account", {"Name": name.title(), "AccountType": kind})
        for name, kind in (("expenses", "Expense"), ("bank", "Bank"), ("sales", "Income"))
    }
    east = server.add(realm, "Class", {"Name": "East"})
    north = server.add(realm, "Department", {"Name": "North"})
    mapping = QboMapping(
        customers={"client-1": customer},
        items={"consulting": item},
        employees={"ann": employee},
        vendors={"supplier-1": vendor},
        accounts=accounts,
        classes={"east": east},
        departments={"north": north},
    )
    config = QuickBooksConfig(
        base_url=server.base_url, realms={COMPANY: realm, OTHER_COMPANY: other}, reverse=reverse
    )
    with httpx.Client(timeout=10.0) as client:
        yield QuickBooksBackend(tokens=_Tokens(), mapping=mapping, config=config, client=client)


@contextlib.contextmanager
def _throttled(server: QboServer) -> Iterator[None]:
    server.faults.rate_limit = 0
    try:
        yield
    finally:
        server.faults.rate_limit = None


def _payables_and_more(company: str, n: int) -> list[Document]:
    """One document of every kind of :mod:`syncstate.adapters.backends.quickbooks.entities`."""
    expense = (DocumentLine(item="expenses", amount=Decimal("25.00"), description="paper"),)
    tracked = {"class": "east", "department": "north"}
    journal = (
        DocumentLine(item="expenses", amount=Decimal("100.00")),
        DocumentLine(item="bank", amount=Decimal("-100.00")),
    )
    sale = sample_document(company, n)
    return [
        attrs.evolve(sample_document(company, n, kind="bill", party="supplier-1"), lines=expense,
                     fields={"due_date": "2024-05-01", "exchange_rate": "1.0850", **tracked},
                     currency="EUR"),
        attrs.evolve(sample_document(company, n + 1, kind="purchase", party="supplier-1"),
                     lines=expense, fields={"account": "bank", "payment_type": "Check"}),
        attrs.evolve(sample_document(company, n + 2, kind="journal_entry"), lines=journal,
                     fields=tracked),
        attrs.evolve(sale, kind="credit_memo", doc_number=f"CM-{n}"),
        attrs.evolve(sale, kind="refund_receipt", doc_number=f"RR-{n}",
                     fields={"refund_account": "bank"}),
        attrs.evolve(sale, kind="estimate", doc_number=f"E-{n}"),
        attrs.evolve(sample_document(company, n + 3, kind="deposit"),
                     lines=(DocumentLine(item="sales", amount=Decimal("50.00")),),
                     fields={"deposit_account": "bank"}),
        attrs.evolve(sample_document(company, n + 4, kind="vendor", party=f"Supplier {n}"),
                     lines=()),
        attrs.evolve(sample_document(company, n + 5, kind="employee", party=f"emp-{n}"), lines=(),
                     fields={"given_name": "Pat", "family_name": f"Kim {n}"}),
        attrs.evolve(sample_document(company, n + 6, kind="account", party=f"Rent {n}"),
                     lines=(), fields={"account_type": "Expense"}),
        attrs.evolve(sample_document(company, n + 7, kind="class", party=f"West {n}"), lines=()),
        attrs.evolve(sample_document(company, n + 8, kind="department", party=f"South {n}"),
                     lines=()),
    ]  # fmt: skip


class TestQuickBooksBackendVoiding(BackendContract):
    @pytest.fixture
    def backend(self, server: QboServer) -> Iterator[QuickBooksBackend]:
        yield from _backend(server, "void")

    @pytest.fixture(autouse=True)
    def _server(self, server: QboServer) -> None:
        self.server = server

    def throttling(self, backend: Any) -> contextlib.AbstractContextManager[Any] | None:
        return _throttled(self.server)

    def documents_of_every_kind(self, company: str, n: int) -> list[Document]:
        base = sample_document(company, n)
        return [
            base,
            sample_document(company, n + 1, kind="sales_receipt"),
            attrs.evolve(
                sample_document(company, n + 2, kind="payment"),
                fields={"amount": "100.00"},
            ),
            attrs.evolve(
                sample_document(company, n + 3, kind="time_activity", party="ann"),
                fields={"hours": "1.5"},
            ),
            attrs.evolve(
                sample_document(company, n + 4, kind="customer", party=f"New client {n}"),
                lines=(),
            ),
            attrs.evolve(
                sample_document(company, n + 5, kind="item", party=f"Service {n}"), lines=()
            ),
            *_payables_and_more(company, n + 6),
        ]


class TestQuickBooksBackendDeleting(TestQuickBooksBackendVoiding):
    @pytest.fixture
    def backend(self, server: QboServer) -> Iterator[QuickBooksBackend]:
        yield from _backend(server, "delete")
