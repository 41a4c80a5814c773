"""Existing QuickBooks customers matched by name, ambiguous names proposed, mapped ids
validated before sending: against the local QuickBooks-like server over real HTTP."""

from __future__ import annotations

import datetime as dt

import pytest

from syncstate.adapters.backends.quickbooks.client import QuickBooksBackend
from syncstate.adapters.backends.quickbooks.matching import match_names, quote
from syncstate.domain.mapping import MappingKind
from syncstate.domain.transactions import UsageLog
from syncstate.errors import MappingError
from syncstate.services.bundle_export import export_bundles
from syncstate.services.bundling import BundleService
from syncstate.services.customer_sync import sync_customers
from syncstate.testing.qbo_faults import QboFaultAnswer
from syncstate.testing.qbo_rules import FaultRule
from syncstate.testing.qbo_server import QboServer

CO = "acme"
AT = dt.datetime(2024, 3, 10, 12, tzinfo=dt.UTC)

Setup = tuple[BundleService, QuickBooksBackend, str]


def test_existing_customers_are_matched_as_quickbooks_compares_names(
    setup: tuple[BundleService, QuickBooksBackend, str], server: QboServer
) -> None:
    service, backend, realm = setup
    amy = server.add(realm, "Customer", {"DisplayName": "Amy's Bird Sanctuary", "Active": True})
    server.add(realm, "Vendor", {"DisplayName": "Bob Ray", "Active": True})
    cole = server.add(realm, "Customer", {"DisplayName": "Cole & Sons", "Active": True})
    dee = server.add(realm, "Customer", {"DisplayName": "Dee Fox", "Active": False})
    queries = server.stats["queries"]

    results = sync_customers(
        service,
        backend,
        CO,
        clients={
            "amy": "  AMY'S bird sanctuary ",
            "bob": "Bob Ray",
            "cole": "Cole and Sons",
            "dee": "Dee Fox",
            "eve": "Eve Stone",
        },
    )
    by_client = {r.client: r for r in results}
    # one paged query per list sharing the name space (customers, vendors, employees)
    assert server.stats["queries"] - queries == 3
    assert (by_client["amy"].action, by_client["amy"].remote_id) == ("matched", amy)
    assert by_client["bob"].action == "taken"
    assert [c.entity for c in by_client["bob"].candidates] == ["Vendor"]
    assert by_client["cole"].action == "ambiguous"
    assert [(c.remote_id, c.likeness) for c in by_client["cole"].candidates] == [(cole, "similar")]
    assert by_client["dee"].action == "ambiguous"
    assert [(c.remote_id, c.active) for c in by_client["dee"].candidates] == [(dee, False)]
    assert by_client["eve"].action == "created"
    # only the matched and the created are mapped; nothing was guessed
    mappings = service.mappings(CO)
    assert mappings.customer("amy") == amy
    assert mappings.customer("eve") == by_client["eve"].remote_id
    assert {c: mappings.customer(c) for c in ("bob", "cole", "dee")} == dict.fromkeys(
        ("bob", "cole", "dee")
    )
    names = sorted(c["DisplayName"] for c in server.documents(realm, "Customer"))
    assert names == ["Amy's Bird Sanctuary", "Cole & Sons", "Dee Fox", "Eve Stone"]
    # a second run keeps what it mapped and still proposes the rest
    again = {r.client: r.action for r in sync_customers(service, backend, CO, clients={
        "amy": "Amy's Bird Sanctuary", "eve": "Eve Stone", "cole": "Cole and Sons"})}  # fmt: skip
    assert again == {"amy": "kept", "eve": "kept", "cole": "ambiguous"}


def test_a_duplicate_name_refused_at_creation_is_reported_not_raised(
    setup: tuple[BundleService, QuickBooksBackend, str], server: QboServer
) -> None:
    service, backend, _realm = setup
    server.inject(
        FaultRule(
            operation="write",
            resource="customer",
            answer=QboFaultAnswer("6240", "Duplicate Name Exists Error", "Id=77"),
        )
    )
    (result,) = sync_customers(service, backend, CO, clients={"zed": "Zed Co"})
    assert result.action == "taken" and "6240" in result.reason
    assert service.mappings(CO).customer("zed") is None


def test_mapped_customer_ids_are_validated_in_one_query_before_anything_is_sent(
    setup: tuple[BundleService, QuickBooksBackend, str], server: QboServer
) -> None:
    service, backend, realm = setup
    good = server.add(realm, "Customer", {"DisplayName": "Good", "Active": True})
    gone = server.add(realm, "Customer", {"DisplayName": "Gone", "Active": False})
    item = server.add(realm, "Item", {"Name": "Room", "Type": "Service"})
    service.store.ingest(
        CO,
        [
            UsageLog(source_id=f"u{n}", client=client, date=dt.date(2024, 3, 1), resource="room",
                     quantity="1", unit_price="10.00", currency="USD").to_record(CO)
            for n, client in enumerate(("ann", "bob", "cy"))
        ],
        at=AT,
        actor="test",
    )  # fmt: skip
    service.bundle(CO)
    service.set_mapping(CO, MappingKind.ITEM, "room", item)
    service.set_mapping(CO, MappingKind.CUSTOMER, "ann", good)
    service.set_mapping(CO, MappingKind.CUSTOMER, "bob", gone)
    service.set_mapping(CO, MappingKind.CUSTOMER, "cy", "9999")
    queries, writes = server.stats["queries"], server.stats["writes"]
    with pytest.raises(MappingError) as caught:
        export_bundles(service, backend, CO)
    assert server.stats["queries"] - queries == 2  # one for the customers, one for the items
    assert server.stats["writes"] == writes and server.count(realm) == 0
    text = str(caught.value)
    assert "'bob'" in text and "'cy'" in text and "'ann'" not in text
    assert backend.check_remote_ids(CO, "customer", [good, gone, "9999"]) == {
        gone: "is inactive",
        "9999": "does not exist",
    }


def test_names_with_quotes_and_backslashes_reach_the_query_intact(
    setup: tuple[BundleService, QuickBooksBackend, str], server: QboServer
) -> None:
    _service, backend, realm = setup
    ident = server.add(realm, "Customer", {"DisplayName": "O'Brien \\ Sons, Ltd", "Active": True})
    found = backend.find_customer(CO, "o'brien \\ sons, ltd")
    assert found is not None and found.remote_id == ident
    assert backend.get_customer(CO, ident) is not None
    assert backend.get_customer(CO, "x' or Id != '0") is None


def test_quote_escapes_apostrophes_and_backslashes() -> None:
    assert quote("O'Brien") == "'O\\'Brien'"
    assert quote("a\\b") == "'a\\\\b'"


def test_matching_rules_without_a_server() -> None:
    rows = {
        "Customer": [
            {"Id": "1", "DisplayName": "Acme", "Active": True},
            {"Id": "2", "DisplayName": "Twin", "Active": True},
            {"Id": "3", "DisplayName": "twin ", "Active": False},
        ],
        "Employee": [{"Id": "9", "DisplayName": "Pat Kim"}],
    }
    got = match_names("Customer", [" acme", "TWIN", "pat kim", "Acme Inc", "New"], rows)
    assert {n: m.status for n, m in got.items()} == {
        " acme": "matched",
        "TWIN": "ambiguous",
        "pat kim": "taken",
        "Acme Inc": "none",
        "New": "none",
    }
    assert got[" acme"].remote_id == "1"
    assert {c.remote_id for c in got["TWIN"].candidates} == {"2", "3"}
