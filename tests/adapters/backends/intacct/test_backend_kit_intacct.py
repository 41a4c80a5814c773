"""The back-end conformance kit against the Intacct adapter and the local gateway."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import attrs
import httpx
import pytest
from intacct_support import backend, seed

from syncstate.adapters.backends.intacct import IntacctBackend
from syncstate.ports import Document, DocumentLine
from syncstate.testing.backend_contract import (
    COMPANY,
    OTHER_COMPANY,
    BackendContract,
    sample_document,
)
from syncstate.testing.intacct_server import IntacctServer


@pytest.fixture(scope="module")
def server() -> Iterator[IntacctServer]:
    with IntacctServer() as running:
        yield running


@contextlib.contextmanager
def _throttled(server: IntacctServer) -> Iterator[None]:
    server.faults.rate_limit = 0
    try:
        yield
    finally:
        server.faults.rate_limit = None


class TestIntacctBackend(BackendContract):
    @pytest.fixture
    def backend(self, server: IntacctServer) -> Iterator[IntacctBackend]:
        company = seed(server)
        self.invoice = company.invoice
        companies = {COMPANY: company.company_id, OTHER_COMPANY: company.other_id}
        with httpx.Client(timeout=10.0) as client:
            yield backend(server, client, companies, company.mapping)

    @pytest.fixture(autouse=True)
    def _server(self, server: IntacctServer) -> None:
        self.server = server

    def throttling(self, backend: Any) -> contextlib.AbstractContextManager[Any] | None:
        return _throttled(self.server)

    def documents_of_every_kind(self, company: str, n: int) -> list[Document]:
        journal_lines = (
            DocumentLine(item="cash", amount=Decimal("50.00")),
            DocumentLine(item="loan", amount=Decimal("-50.00")),
        )
        return [
            sample_document(company, n),
            attrs.evolve(
                sample_document(company, n + 1, kind="payment"),
                fields={"amount": "25.00", "invoice": self.invoice},
            ),
            attrs.evolve(
                sample_document(company, n + 2, kind="time_activity", party="ann"),
                fields={"hours": "1.5"},
            ),
            attrs.evolve(
                sample_document(company, n + 3, kind="customer", party=f"New client {n}"),
                lines=(),
            ),
            attrs.evolve(
                sample_document(company, n + 4, kind="journal_entry"), lines=journal_lines
            ),
        ]
