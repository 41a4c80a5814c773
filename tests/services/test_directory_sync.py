"""Vendor and item sync through a back end with no name directory: created as ordinary
documents under their idempotency keys, exactly once, and mapped; inputs checked."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from syncstate.adapters.backends.memory import MemoryBackend
from syncstate.adapters.storage.memory.budgets import MemoryBudgetStore
from syncstate.adapters.storage.sqlite.bundles import SQLiteBundleStore
from syncstate.adapters.storage.sqlite.state import SQLiteStore
from syncstate.domain.mapping import MappingKind, Mappings
from syncstate.domain.transactions import UsageLog
from syncstate.errors import AmbiguousOutcome, InputError, UnsupportedCapability
from syncstate.ports import Capability
from syncstate.ports.budget import BudgetLimits, BudgetScope
from syncstate.services.budgets import Budgets
from syncstate.services.bundling import BundleService
from syncstate.services.customer_sync import customer_key
from syncstate.services.directory_sync import (
    CUSTOMERS,
    ITEMS,
    VENDORS,
    sync_directory,
    sync_items,
    sync_vendors,
)

CO = "acme"
AT = dt.datetime(2024, 3, 10, 12, tzinfo=dt.UTC)


@pytest.fixture
def service(tmp_path: Path) -> Iterator[BundleService]:
    store = SQLiteStore(tmp_path / "s.db")
    bundles = SQLiteBundleStore.beside(store)
    yield BundleService(store, bundles)
    bundles.close()
    store.close()


def kinds(backend: MemoryBackend, kind: str) -> list[str]:
    return [d.document.fields.get(ITEMS.name_field if kind == "item" else "display_name", "")
            for d in backend.documents(CO) if d.document.kind == kind]  # fmt: skip


def test_vendors_and_items_are_created_once_and_mapped(service: BundleService) -> None:
    service.store.ingest(
        CO,
        [UsageLog(source_id=f"u{n}", client="ann", date=dt.date(2024, 3, 1), resource=res,
                  quantity="1", unit_price="5.00", currency="USD").to_record(CO)
         for n, res in enumerate(("room", "desk", "room"))],
        at=AT, actor="test",
    )  # fmt: skip
    backend = MemoryBackend()
    vendors = sync_vendors(service, backend, CO, {"paper": "Paper Co", "ink": "Ink Ltd"})
    assert [(r.local, r.action) for r in vendors] == [("ink", "created"), ("paper", "created")]
    items = sync_items(service, backend, CO)  # every resource of the usage logs
    assert [(r.local, r.name, r.action) for r in items] == [
        ("desk", "desk", "created"),
        ("room", "room", "created"),
    ]
    mappings = service.mappings(CO)
    assert mappings.get(MappingKind.VENDOR, "paper") == vendors[1].remote_id
    assert mappings.item("room") == items[1].remote_id
    again = sync_vendors(service, backend, CO, ["paper", "ink"]) + sync_items(service, backend, CO)
    assert {r.action for r in again} == {"kept"}
    assert sorted(kinds(backend, "vendor")) == ["Ink Ltd", "Paper Co"]
    assert sorted(kinds(backend, "item")) == ["desk", "room"]


def test_a_create_whose_answer_was_lost_is_found_by_its_key_not_made_twice(
    service: BundleService,
) -> None:
    backend = MemoryBackend()
    backend.fail_next("create", AmbiguousOutcome("timed out"), after_commit=True)
    backend.fail_next("create", AmbiguousOutcome("timed out"))
    backend.fail_next("create", AmbiguousOutcome("timed out"))
    (lost,) = sync_vendors(service, backend, CO, {"paper": "Paper Co"})
    assert lost.action == "failed" and service.mappings(CO).get(MappingKind.VENDOR, "paper") is None
    (found,) = sync_vendors(service, backend, CO, {"paper": "Paper Co"})
    assert found.action == "created"  # looked up by its key: the one committed before
    assert kinds(backend, "vendor") == ["Paper Co"]


def test_dry_run_creates_and_maps_nothing(service: BundleService) -> None:
    backend = MemoryBackend()
    (item,) = sync_items(service, backend, CO, {"room": "Rooms:Big"}, dry_run=True)
    assert (item.action, item.remote_id) == ("created", "")
    assert backend.documents(CO) == [] and service.mappings(CO).item("room") is None


def test_bad_input_is_refused_before_anything_is_sent(service: BundleService) -> None:
    backend = MemoryBackend()
    with pytest.raises(InputError, match="non-empty name"):
        sync_vendors(service, backend, CO, {"x": "  "})
    with pytest.raises(InputError, match="every level"):
        sync_items(service, backend, CO, {"x": "Rooms::Desk"})
    with pytest.raises(InputError, match="directory kind"):
        sync_directory(service, backend, CO, "employee", ["pat"])
    read_only = MemoryBackend(capabilities=set(Capability) - {Capability.CREATE})
    with pytest.raises(UnsupportedCapability, match="cannot create vendors"):
        sync_vendors(service, read_only, CO, ["paper"])
    assert backend.documents(CO) == []


def test_keys_are_stable_per_company_and_name_and_customer_keys_are_unchanged() -> None:
    assert customer_key(CO, "ann") == CUSTOMERS.key(CO, "ann")
    # the key customer sync has always used: a create in flight stays the same create
    old = uuid.uuid5(uuid.UUID("1c1e3b7a-8a4f-4d0e-9a55-637573746f6d"), f"{CO}\x1fann")
    assert customer_key(CO, "ann") == str(old)
    assert VENDORS.key(CO, "ann") != CUSTOMERS.key(CO, "ann") != ITEMS.key(CO, "ann")
    assert VENDORS.key(CO, "ann") != VENDORS.key("other", "ann")


def test_vendor_mappings_round_trip() -> None:
    mappings = Mappings().with_mapping(MappingKind.VENDOR, "paper", "56")
    assert mappings.vendors == (("paper", "56"),)
    assert Mappings.from_rows(mappings.as_rows()) == mappings
    assert MappingKind.VENDOR.label == "supplier"


def test_a_back_end_without_request_slots_is_paced_by_the_shared_budget(
    service: BundleService,
) -> None:
    store = MemoryBudgetStore()
    budgets = Budgets(store=store, limits={"memory": BudgetLimits(per_minute=600, concurrent=1)})
    backend = MemoryBackend()
    results = sync_items(service, backend, CO, {"room": "Room", "desk": "Desk"}, budget=budgets)
    assert [r.action for r in results] == ["created", "created"]
    # two lookups by key and two creates, each inside a slot; every slot given back
    assert store.usage(BudgetScope("memory", CO)).slots == 0
    assert sorted(kinds(backend, "item")) == ["Desk", "Room"]
