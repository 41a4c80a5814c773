"""A local Xero-like server per module and a fresh organisation (tenant) per test."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest

from syncstate.adapters.backends.xero.client import XeroBackend
from syncstate.adapters.backends.xero.config import XeroConfig
from syncstate.adapters.backends.xero.payloads import XeroMapping
from syncstate.testing.xero_server import FaultPlan, XeroServer
from xero_helpers import Org, Tokens


@pytest.fixture(scope="module")
def server() -> Iterator[XeroServer]:
    with XeroServer() as running:
        yield running


@pytest.fixture
def org(server: XeroServer) -> Iterator[Org]:
    server.faults = FaultPlan()
    server.valid_tokens = None
    server.forget_keys()  # a fresh app: keys are kept per app, across tenants
    tenant = f"org-{uuid.uuid4().hex[:12]}"
    contact = server.add(tenant, "Contacts", {"Name": "Client One"})
    server.add(tenant, "Items", {"Code": "CONSULT", "Name": "Consulting"})
    mapping = XeroMapping(
        contacts={"client-1": contact},
        items={"consulting": "CONSULT", "ghost": "NO-SUCH-CODE"},
        accounts={"bank": "090", "sales": "200"},
    )
    tokens = Tokens()
    config = XeroConfig(base_url=server.base_url, tenants={"acme": tenant})
    with httpx.Client(timeout=5.0) as client:
        backend = XeroBackend(tokens=tokens, mapping=mapping, config=config, client=client)
        yield Org(server, tenant, contact, backend, tokens)
