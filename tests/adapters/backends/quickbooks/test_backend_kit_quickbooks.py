"""The back-end conformance kit against the QuickBooks adapter and the local QBO server."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from typing import Any

import attrs
import httpx
import pytest

from syncstate.adapters.backends.quickbooks.client import QuickBooksBackend, QuickBooksConfig
from syncstate.adapters.backends.quickbooks.payloads import QboMapping
from syncstate.ports import Document
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
    mapping = QboMapping(
        customers={"client-1": customer}, items={"consulting": item}, employees={"ann": employee}
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
        ]


class TestQuickBooksBackendDeleting(TestQuickBooksBackendVoiding):
    @pytest.fixture
    def backend(self, server: QboServer) -> Iterator[QuickBooksBackend]:
        yield from _backend(server, "delete")
