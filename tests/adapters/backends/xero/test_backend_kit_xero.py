"""The back-end conformance kit against the Xero adapter and the local Xero-like server."""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import attrs
import httpx
import pytest

from syncstate.adapters.backends.xero.client import XeroBackend
from syncstate.adapters.backends.xero.config import XeroConfig
from syncstate.adapters.backends.xero.payloads import XeroMapping
from syncstate.domain.records import RecordKey
from syncstate.ports import Document, DocumentLine
from syncstate.testing.backend_contract import (
    COMPANY,
    OTHER_COMPANY,
    BackendContract,
    sample_document,
)
from syncstate.testing.xero_server import XeroServer


class _Tokens:
    def access_token(self, company: str) -> str:
        return "kit-token"

    def refresh(self, company: str) -> str:
        return "kit-token"


@pytest.fixture(scope="module")
def server() -> Iterator[XeroServer]:
    with XeroServer() as running:
        yield running


def journal(company: str, n: int) -> Document:
    """A balanced two-line manual journal (sales credited, bank debited)."""
    return Document(
        kind="manual_journal",
        source=RecordKey(company, "manual_journal", f"kit-{n:04d}"),
        date=dt.date(2026, 3, 1),
        party="",
        lines=(
            DocumentLine(item="bank", amount=Decimal("100.00"), description="received"),
            DocumentLine(item="sales", amount=Decimal("-100.00"), description="sold"),
        ),
        memo=f"kit journal {n}",
    )


class TestXeroBackend(BackendContract):
    @pytest.fixture
    def backend(self, server: XeroServer) -> Iterator[XeroBackend]:
        # a fresh tenant per test: the back end starts with no documents
        tenant, other = f"kit-{uuid.uuid4().hex[:12]}", f"kit-{uuid.uuid4().hex[:12]}"
        contact = server.add(tenant, "Contacts", {"Name": "Client One"})
        server.add(tenant, "Items", {"Code": "CONSULT", "Name": "Consulting"})
        self.invoice = server.add(
            tenant,
            "Invoices",
            {
                "Type": "ACCREC",
                "Contact": {"ContactID": contact},
                "Status": "AUTHORISED",
                "InvoiceNumber": "SEED-1",
                "Total": Decimal(500),
                "AmountDue": Decimal(500),
                "AmountPaid": Decimal(0),
                "AmountCredited": Decimal(0),
            },
        )
        mapping = XeroMapping(
            contacts={"client-1": contact},
            items={"consulting": "CONSULT"},
            accounts={"sales": "200", "bank": "090"},
        )
        config = XeroConfig(
            base_url=server.base_url, tenants={COMPANY: tenant, OTHER_COMPANY: other}
        )
        self.server = server
        with httpx.Client(timeout=10.0) as client:
            yield XeroBackend(tokens=_Tokens(), mapping=mapping, config=config, client=client)

    def throttling(self, backend: Any) -> contextlib.AbstractContextManager[Any] | None:
        return _minute_limit_reached(self.server)

    def documents_of_every_kind(self, company: str, n: int) -> list[Document]:
        return [
            sample_document(company, n),
            sample_document(company, n + 1, kind="credit_note"),
            attrs.evolve(
                sample_document(company, n + 2, kind="payment"),
                fields={"applies_to": self.invoice, "amount": "100.00"},
            ),
            attrs.evolve(
                sample_document(company, n + 3, kind="customer", party=f"New client {n}"),
                lines=(),
            ),
            attrs.evolve(sample_document(company, n + 4, kind="item", party=f"SVC-{n}"), lines=()),
            journal(company, n + 5),
        ]


@contextlib.contextmanager
def _minute_limit_reached(server: XeroServer) -> Iterator[None]:
    server.faults.minute_limit = 0
    try:
        yield
    finally:
        server.faults.minute_limit = 60
