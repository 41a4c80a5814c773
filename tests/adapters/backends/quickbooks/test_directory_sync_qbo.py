"""Existing QuickBooks vendors and items matched by name (sub-items by their path),
ambiguous names proposed, missing ones created exactly once, mapped item ids validated
before sending, and every request inside the company's shared budget: against the
local QuickBooks-like server over real HTTP."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from decimal import Decimal

import pytest

from syncstate.adapters.backends.quickbooks.client import QuickBooksBackend
from syncstate.adapters.storage.memory.budgets import MemoryBudgetStore
from syncstate.domain.mapping import MappingKind
from syncstate.domain.records import RecordKey, SourceRecord
from syncstate.domain.transactions import UsageLog
from syncstate.errors import MappingError
from syncstate.ports import Document, DocumentLine, StoredRecord
from syncstate.ports.budget import BudgetLimits, BudgetScope
from syncstate.services.budgets import Budgets
from syncstate.services.bundle_export import export_bundles, mapping_tables
from syncstate.services.bundling import BundleService
from syncstate.services.customer_sync import sync_customers
from syncstate.services.directory_sync import SENDS, sync_items, sync_vendors
from syncstate.services.export import ExportOptions, export_records
from syncstate.services.outcomes import Outcome
from syncstate.services.reference_check import checked_renderers
from syncstate.testing.qbo_rules import FaultRule
from syncstate.testing.qbo_server import QboServer

CO = "acme"
AT = dt.datetime(2024, 3, 10, 12, tzinfo=dt.UTC)

Setup = tuple[BundleService, QuickBooksBackend, str]


def test_existing_vendors_are_matched_not_duplicated(setup: Setup, server: QboServer) -> None:
    service, backend, realm = setup
    acme = server.add(realm, "Vendor", {"DisplayName": "Acme Supplies", "Active": True})
    server.add(realm, "Customer", {"DisplayName": "Bee Hive", "Active": True})
    server.add(realm, "Vendor", {"DisplayName": "Cole & Sons", "Active": True})
    queries = server.stats["queries"]

    results = sync_vendors(
        service,
        backend,
        CO,
        {"acme": "  ACME supplies ", "bee": "Bee Hive", "cole": "Cole and Sons", "dot": "Dot Ltd"},
    )
    got = {r.local: r for r in results}
    # the name space is read once: vendors, customers, employees
    assert server.stats["queries"] - queries == 3
    assert (got["acme"].action, got["acme"].remote_id) == ("matched", acme)
    assert got["bee"].action == "taken"  # a customer holds the name: 6240 if created
    assert [c.entity for c in got["bee"].candidates] == ["Customer"]
    assert got["cole"].action == "ambiguous"  # only similar: proposed, not guessed
    assert got["dot"].action == "created"
    names = sorted(v["DisplayName"] for v in server.documents(realm, "Vendor"))
    assert names == ["Acme Supplies", "Cole & Sons", "Dot Ltd"]
    mappings = service.mappings(CO)
    assert mappings.get(MappingKind.VENDOR, "acme") == acme
    assert mappings.get(MappingKind.VENDOR, "dot") == got["dot"].remote_id
    assert mappings.get(MappingKind.VENDOR, "cole") is None
    assert mapping_tables(mappings)["vendors"] == {"acme": acme, "dot": got["dot"].remote_id}
    again = sync_vendors(service, backend, CO, {"acme": "Acme Supplies", "dot": "Dot Ltd"})
    assert [r.action for r in again] == ["kept", "kept"]


def test_items_are_matched_by_their_path_and_sub_items_created_under_their_parent(
    setup: Setup, server: QboServer
) -> None:
    service, backend, realm = setup
    rooms = server.add(realm, "Item", {"Name": "Rooms", "Type": "Category"})
    desk = server.add(
        realm,
        "Item",
        {"Name": "Desk", "Type": "Service", "SubItem": True, "ParentRef": {"value": rooms}},
    )
    chair = server.add(realm, "Item", {"Name": "Chair", "Type": "Service"})
    assert server.documents(realm, "Item")[1]["FullyQualifiedName"] == "Rooms:Desk"

    results = sync_items(
        service,
        backend,
        CO,
        {
            "desk": " rooms : DESK ",  # the same path, as QuickBooks compares names
            "desk2": "Desk",  # the same Name at the top: only similar, proposed
            "chair": "Hall:Chair",  # a Chair elsewhere: QuickBooks would refuse a second
            "locker": "Rooms:Locker",  # a new sub-item under an existing parent
            "lamp": "Lighting:Lamps:Desk Lamp",  # new parents, created once, then the item
            "lamp2": "Lighting:Lamps:Floor Lamp",
        },
        income_account="79",
    )
    got = {r.local: r for r in results}
    assert (got["desk"].action, got["desk"].remote_id) == ("matched", desk)
    assert got["desk2"].action == "ambiguous"
    assert [(c.remote_id, c.name) for c in got["desk2"].candidates] == [(desk, "Rooms:Desk")]
    assert got["chair"].action == "ambiguous"
    assert [c.remote_id for c in got["chair"].candidates] == [chair]
    for local in ("locker", "lamp", "lamp2"):
        assert got[local].action == "created"
    items = {i["FullyQualifiedName"]: i for i in server.documents(realm, "Item")}
    assert sorted(items) == [
        "Chair", "Lighting", "Lighting:Lamps", "Lighting:Lamps:Desk Lamp",
        "Lighting:Lamps:Floor Lamp", "Rooms", "Rooms:Desk", "Rooms:Locker",
    ]  # fmt: skip
    assert items["Rooms:Locker"]["ParentRef"]["value"] == rooms
    assert items["Lighting"]["Type"] == "Category"
    assert items["Lighting:Lamps"]["Level"] == 1
    assert items["Lighting:Lamps:Desk Lamp"]["IncomeAccountRef"] == {"value": "79"}
    assert service.mappings(CO).item("lamp") == items["Lighting:Lamps:Desk Lamp"]["Id"]
    assert service.mappings(CO).item("desk2") is None


def test_the_server_refuses_item_names_as_quickbooks_does(setup: Setup, server: QboServer) -> None:
    _service, backend, realm = setup
    server.add(realm, "Item", {"Name": "Desk", "Type": "Service"})
    with pytest.raises(Exception, match="6240"):
        backend.create_named(CO, "item", "desk ", idempotency_key=str(uuid.uuid4()))
    with pytest.raises(Exception, match="2500"):
        backend.create_named(
            CO, "item", "Orphan", idempotency_key=str(uuid.uuid4()), fields={"parent_id": "999"}
        )
    with pytest.raises(Exception, match="6000"):
        server.books.create(realm, "Item", {"Name": "A:B", "Type": "Service"})


def test_a_create_whose_answer_is_lost_is_created_exactly_once(
    setup: Setup, server: QboServer
) -> None:
    service, backend, realm = setup
    server.commit_then_fail(1)  # the vendor is written, the answer is a 500
    (vendor,) = sync_vendors(service, backend, CO, {"v1": "Lost Answer Co"})
    assert vendor.action == "created"
    assert server.stats["replays"] >= 1  # resent with the same requestid: replayed
    server.commit_then_fail(1, mode="drop")  # the item is written, the connection drops
    (item,) = sync_items(service, backend, CO, {"room": "Meeting Room"})
    assert item.action == "created"
    assert [v["DisplayName"] for v in server.documents(realm, "Vendor")] == ["Lost Answer Co"]
    assert [i["Name"] for i in server.documents(realm, "Item")] == ["Meeting Room"]
    assert service.mappings(CO).item("room") == item.remote_id
    # every send dropped: reported (not raised), nothing mapped; the next run creates it once
    server.inject(FaultRule(operation="write", resource="item", drop=True, times=SENDS))
    (lost,) = sync_items(service, backend, CO, {"desk": "Hot Desk"})
    assert lost.action == "failed" and "resend" in lost.reason
    assert service.mappings(CO).item("desk") is None
    (again,) = sync_items(service, backend, CO, {"desk": "Hot Desk"})
    assert again.action == "created"
    assert sorted(i["Name"] for i in server.documents(realm, "Item")) == [
        "Hot Desk",
        "Meeting Room",
    ]


def test_mapped_item_ids_are_validated_in_one_query_before_anything_is_sent(
    setup: Setup, server: QboServer
) -> None:
    service, backend, realm = setup
    ann = server.add(realm, "Customer", {"DisplayName": "Ann", "Active": True})
    room = server.add(realm, "Item", {"Name": "Room", "Type": "Service"})
    old = server.add(realm, "Item", {"Name": "Old", "Type": "Service", "Active": False})
    service.store.ingest(
        CO,
        [
            UsageLog(source_id=f"u{n}", client="ann", date=dt.date(2024, 3, 1), resource=res,
                     quantity="1", unit_price="10.00", currency="USD").to_record(CO)
            for n, res in enumerate(("room", "desk", "hall"))
        ],
        at=AT,
        actor="test",
    )  # fmt: skip
    service.bundle(CO)
    service.set_mapping(CO, MappingKind.CUSTOMER, "ann", ann)
    service.set_mapping(CO, MappingKind.ITEM, "room", room)
    service.set_mapping(CO, MappingKind.ITEM, "desk", "4040")
    service.set_mapping(CO, MappingKind.ITEM, "hall", old)
    queries, writes = server.stats["queries"], server.stats["writes"]
    with pytest.raises(MappingError) as caught:
        export_bundles(service, backend, CO)
    # one query for the customer, one for every item id; nothing written
    assert server.stats["queries"] - queries == 2
    assert server.stats["writes"] == writes and server.count(realm) == 0
    text = str(caught.value)
    assert "bookable resource 'desk': item '4040' does not exist" in text
    assert "bookable resource 'hall'" in text and "is inactive" in text
    assert "'room'" not in text
    # fixed by an item sync: the broken mapping is re-matched or re-created
    fixed = {r.local: r.action for r in sync_items(service, backend, CO, {"desk": "Desk"})}
    assert fixed == {"desk": "created"}


def test_sync_takes_a_slot_of_the_shared_budget_for_every_request(
    setup: Setup, server: QboServer
) -> None:
    service, backend, realm = setup
    server.add(realm, "Customer", {"DisplayName": "Ann", "Active": True})

    class Counting(MemoryBudgetStore):
        takes = 0

        def take(self, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
            Counting.takes += 1
            return super().take(*args, **kwargs)  # type: ignore[arg-type]

    store = Counting()
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        time.sleep(seconds)

    budgets = Budgets(
        store=store,
        limits={"quickbooks": BudgetLimits(per_minute=500, concurrent=2)},
        sleep=sleep,
    )
    scope = BudgetScope("quickbooks", CO)
    store.hold(scope, 0.2)  # another worker was throttled: this company waits first
    requests = server.stats["requests"]
    customers = sync_customers(service, backend, CO, clients={"ann": "Ann"}, budget=budgets)
    vendors = sync_vendors(service, backend, CO, {"bo": "Bo Co"}, budget=budgets)
    items = sync_items(service, backend, CO, {"room": "Rooms:Big Room"}, budget=budgets)
    assert [r.action for r in (*customers, *vendors, *items)] == ["matched", "created", "created"]
    sent = server.stats["requests"] - requests
    # 3 + 3 name-space queries, 1 item query, 3 creates (a vendor, a category, the item)
    assert sent == 10
    assert Counting.takes >= sent  # every request took a slot (waiting takes ask again)
    assert waits  # the hold was respected: the first request waited for it
    assert store.usage(scope).slots == 0  # every slot went back


def test_a_bill_to_a_mapped_vendor_that_does_not_exist_fails_before_it_is_sent(
    setup: Setup, server: QboServer
) -> None:
    service, backend, realm = setup
    paper = server.add(realm, "Vendor", {"DisplayName": "Paper Co", "Active": True})
    office = server.add(realm, "Account", {"Name": "Office", "AccountType": "Expense"})
    service.set_mapping(CO, MappingKind.VENDOR, "paper", paper)
    service.set_mapping(CO, MappingKind.VENDOR, "gone", "4040")
    service.set_mapping(CO, MappingKind.DEPOSIT_ACCOUNT, "office", office)  # the accounts table
    service.store.ingest(
        CO,
        [
            SourceRecord(key=RecordKey(CO, "bill", f"b-{vendor}"), on=dt.date(2024, 3, 1),
                         subject=vendor, fields={"amount": "12.50"})
            for vendor in ("paper", "gone")
        ],
        at=AT,
        actor="test",
    )  # fmt: skip

    def render_bill(stored: StoredRecord) -> Document:
        amount = Decimal(stored.record.data["amount"])
        return Document(kind="bill", source=stored.key, date=stored.record.on,
                        party=stored.record.subject, memo="bill",
                        lines=(DocumentLine(item="office", amount=amount),))  # fmt: skip

    queries = server.stats["queries"]
    options = ExportOptions(
        renderers=checked_renderers(backend, CO, {"bill": render_bill}),
        concurrency=1,
        sleep=lambda _s: None,
    )
    report = export_records(service.store, backend, CO, kinds=["bill"], options=options)
    outcomes = {o.key.source_id: o for o in report.outcomes}
    assert outcomes["b-paper"].outcome is Outcome.EXPORTED
    assert outcomes["b-gone"].outcome is Outcome.FAILED
    assert "vendor 'gone' is mapped to quickbooks id '4040', which does not exist" in (
        outcomes["b-gone"].message
    )
    assert server.stats["queries"] - queries == 1  # every mapped vendor id in one query
    assert [b["VendorRef"]["value"] for b in server.documents(realm, "Bill")] == [paper]
