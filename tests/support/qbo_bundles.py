"""Shared by the QuickBooks bundle tests: tokens the local server accepts, a bundle
service on SQLite, a QuickBooks back end mapped through it, and the ann/bob sample
(ann's usage and card payment, bob's usage and his cheque three days later)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import httpx

from syncstate.adapters.backends.quickbooks.client import QuickBooksBackend, QuickBooksConfig
from syncstate.adapters.backends.quickbooks.payloads import QboMapping
from syncstate.adapters.storage.sqlite.bundles import SQLiteBundleStore
from syncstate.adapters.storage.sqlite.state import SQLiteStore
from syncstate.domain.mapping import MappingKind
from syncstate.domain.transactions import Payment, UsageLog
from syncstate.services.bundle_export import mapping_tables
from syncstate.services.bundling import BundleService
from syncstate.testing.qbo_server import QboServer

#: the day of ann's and bob's usage (and ann's payment); bob pays on BOB_PAYS
USED = dt.date(2024, 3, 1)
BOB_PAYS = dt.date(2024, 3, 4)

B = TypeVar("B", bound=QuickBooksBackend)


class Tokens:
    """The local server accepts any bearer token."""

    def access_token(self, company: str) -> str:
        return "test-token"

    def refresh(self, company: str) -> str:
        return "test-token"


def ingest_ann_and_bob(service: BundleService, company: str, *, at: dt.datetime) -> None:
    """Ann: 2 room-hours at 40.00 paid by card that day; bob: 1 at 55.00, a cheque later."""
    service.store.ingest(
        company,
        [
            UsageLog(source_id="u1", client="ann", date=USED, resource="room", quantity="2",
                     unit_price="40.00", currency="USD").to_record(company),
            Payment(source_id="p1", client="ann", date=USED, amount="80.00", currency="USD",
                    method="card").to_record(company),
            UsageLog(source_id="u2", client="bob", date=USED, resource="room", quantity="1",
                     unit_price="55.00", currency="USD").to_record(company),
            Payment(source_id="p2", client="bob", date=BOB_PAYS, amount="55.00",
                    currency="USD", method="cheque").to_record(company),
        ],
        at=at,
        actor="test",
    )  # fmt: skip


def map_customers_and_room(
    service: BundleService,
    server: QboServer,
    realm: str,
    company: str,
    customers: Mapping[str, str],
    **fields: object,
) -> None:
    """Add each client's customer (``DisplayName``) and the Room item at the server, with
    ``fields`` on every entity, and map them."""
    for client, name in customers.items():
        remote = server.add(realm, "Customer", {"DisplayName": name, **fields})
        service.set_mapping(company, MappingKind.CUSTOMER, client, remote)
    item = server.add(realm, "Item", {"Name": "Room", "Type": "Service", **fields})
    service.set_mapping(company, MappingKind.ITEM, "room", item)


@contextmanager
def bundle_service(folder: Path) -> Iterator[BundleService]:
    """A bundle service on a SQLite state store in ``folder`` (closed at the end)."""
    store = SQLiteStore(folder / "state.db")
    bundles = SQLiteBundleStore.beside(store)
    try:
        yield BundleService(store, bundles)
    finally:
        bundles.close()
        store.close()


@contextmanager
def mapped_backend(
    service: BundleService,
    server: QboServer,
    realm: str,
    company: str,
    *,
    kind: type[B] = QuickBooksBackend,  # type: ignore[assignment]
    timeout: float = 5.0,
) -> Iterator[B]:
    """A QuickBooks back end (``kind``) for ``company`` at ``realm`` of the local server,
    its mapping read from ``service`` at each use."""
    config = QuickBooksConfig(base_url=server.base_url, realms={company: realm})
    with httpx.Client(timeout=timeout) as client:
        yield kind(
            tokens=Tokens(),
            mapping=lambda co: QboMapping.from_dict(mapping_tables(service.mappings(co))),
            config=config,
            client=client,
        )
