"""Shared by the QuickBooks name-list tests: the local server and a bundle service
whose mappings feed a QuickBooks back end over real HTTP (a module that defines its
own ``server`` or ``setup`` fixture uses that instead)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from qbo_bundles import bundle_service, mapped_backend
from syncstate.adapters.backends.quickbooks.client import QuickBooksBackend
from syncstate.services.bundling import BundleService
from syncstate.testing.qbo_server import QboServer

#: the company every directory test works in
DIRECTORY_COMPANY = "acme"


@pytest.fixture(scope="module")
def server() -> Iterator[QboServer]:
    """One local QuickBooks-like server per module (each test gets its own realm)."""
    with QboServer() as running:
        yield running


@pytest.fixture
def setup(
    server: QboServer, tmp_path: Path
) -> Iterator[tuple[BundleService, QuickBooksBackend, str]]:
    """A bundle service, a QuickBooks back end mapped through it, and a fresh realm."""
    server.faults = type(server.faults)()
    realm = f"dir-{uuid.uuid4().hex[:10]}"
    with (
        bundle_service(tmp_path) as service,
        mapped_backend(service, server, realm, DIRECTORY_COMPANY) as backend,
    ):
        yield service, backend, realm
