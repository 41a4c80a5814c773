"""The Bundles page: open transactions, bundles, export one / page / client, PDF, un-bundle."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from syncstate import MappingKind, SQLiteBundleStore
from syncstate.adapters.backends.memory import MemoryBackend
from syncstate.adapters.storage.sqlite.state import SQLiteStore
from syncstate.domain.records import RecordKey
from syncstate.services.bundling import BundleService
from syncstate.web import create_app
from web_panel import authorize, client_for, csrf_of, events, seed_bookings


@pytest.fixture
def bundle_store(store: SQLiteStore) -> Iterator[SQLiteBundleStore]:
    seed_bookings(store, "acme")
    seed_bookings(store, "globex")
    bundles = SQLiteBundleStore.beside(store)
    svc = BundleService(store, bundles)
    for company in ("acme", "globex"):
        for client in ("ann", "bo", "<b>eve</b>"):
            svc.set_mapping(company, MappingKind.CUSTOMER, client, f"C-{client}")
        svc.set_mapping(company, MappingKind.ITEM, "meeting-room", "I-1")
    yield bundles


@pytest.fixture
def client(store: SQLiteStore, bundle_store: Any, backend: MemoryBackend) -> TestClient:
    app = create_app(store, authorize=authorize, backends={"books": backend}, bundles=bundle_store)
    return client_for(app, "alice")


def rows(html: str) -> dict[str, str]:
    return dict(re.findall(r'<tr data-bundle="([^"]+)" data-state="([a-z_]+)"', html))


def make(client: TestClient) -> str:
    page = client.get("/c/acme/bundles").text
    done = client.post("/c/acme/bundles/make", data={"csrf": csrf_of(page), "client": ""})
    assert done.status_code == 200 and "bundles made" in done.text
    return csrf_of(done.text) if 'name="csrf"' in done.text else csrf_of(page)


def test_open_transactions_per_client_then_bundles_with_totals(client: TestClient) -> None:
    page = client.get("/c/acme/bundles").text
    opened = dict(
        re.findall(r'<tr data-client="([^"]+)"><td><a [^>]+>[^<]+</a></td><td>(\d+)', page)
    )
    assert opened == {"ann": "2", "bo": "2", "&lt;b&gt;eve&lt;/b&gt;": "1"}
    assert "<b>eve</b>" not in page
    make(client)
    page = client.get("/c/acme/bundles").text
    # ann paid at the desk: a sales receipt; bo and eve on account: an invoice per day
    assert set(rows(page).values()) == {"not_exported"} and len(rows(page)) == 4
    assert "80.00 USD" in page and "120.00 USD" in page
    assert "No open transactions." in page


def test_export_all_of_a_client_then_pdf_and_overwrite(
    client: TestClient, backend: MemoryBackend, store: SQLiteStore
) -> None:
    token = make(client)
    job = client.post(
        "/c/acme/bundles/export",
        data={"csrf": token, "backend": "books", "scope": "client", "client": "bo"},
    )
    assert job.status_code == 303
    last = events(client, job.headers["location"] + "/events")[-1]
    assert last["summary"]["exported"] == 2 and last["summary"]["ok"] is True
    page = client.get("/c/acme/bundles?client=bo").text
    assert set(rows(page).values()) == {"exported"} and len(rows(page)) == 2
    bundle_id = sorted(rows(page))[0]
    pdf = client.get(f"/c/acme/bundles/{bundle_id}/pdf?backend=books")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    again = client.post(
        "/c/acme/bundles/export",
        data={"csrf": token, "backend": "books", "scope": "selected", "bundle": bundle_id,
              "overwrite": "yes"},
    )  # fmt: skip
    last = events(client, again.headers["location"] + "/events")[-1]
    assert last["summary"]["updated"] == 1
    assert len(backend.documents("acme")) == 2  # overwritten, not duplicated
    assert store.journal(RecordKey("acme", "bundle.invoice", bundle_id))[-1].actor == "alice"


def test_export_this_page(client: TestClient, backend: MemoryBackend) -> None:
    token = make(client)
    job = client.post(
        "/c/acme/bundles/export",
        data={"csrf": token, "backend": "books", "scope": "page", "page": "0"},
    )
    last = events(client, job.headers["location"] + "/events")[-1]
    assert last["summary"]["selected"] == 4 and last["finished"] is True
    assert len(backend.documents("acme")) == 4


def test_unbundle_needs_confirmation_and_reopens_the_transactions(
    client: TestClient, store: SQLiteStore
) -> None:
    token = make(client)
    page = client.get("/c/acme/bundles?client=bo").text
    bundle_id, other = sorted(rows(page))
    form = {"csrf": token, "bundle": bundle_id}
    refused = client.post("/c/acme/bundles/unbundle", data=form)
    assert refused.status_code == 400 and "tick the box" in refused.text
    assert len(rows(client.get("/c/acme/bundles?client=bo").text)) == 2
    done = client.post("/c/acme/bundles/unbundle", data={**form, "confirm": "yes"})
    assert done.status_code == 200 and "1 bundles un-bundled" in done.text
    assert "is open again" in done.text
    assert rows(client.get("/c/acme/bundles?client=bo").text) == {other: "not_exported"}
    assert store.journal(RecordKey("acme", "bundle.invoice", bundle_id))[-1].actor == "alice"


def test_historical_cutoff_is_previewed_then_confirmed(client: TestClient, store: Any) -> None:
    token = csrf_of(client.get("/c/acme/bundles").text)
    form = {"csrf": token, "cutoff": "2026-03-02", "client": ""}
    preview = client.post("/c/acme/bundles/historical", data=form)
    assert "Cutoff 2026-03-02: 3 transactions" in preview.text
    assert store.get(RecordKey("acme", "usage_log", "u1")).state.value == "not_exported"
    done = client.post("/c/acme/bundles/historical", data={**form, "confirm": "yes"})
    assert "3 transactions marked historical" in done.text
    assert store.get(RecordKey("acme", "usage_log", "u1")).state.value == "historical"


def test_another_companys_bundles_stay_out_of_reach(client: TestClient) -> None:
    make(client)
    token = csrf_of(client.get("/c/acme/bundles").text)
    assert client.get("/c/globex/bundles").status_code == 404
    form = {"csrf": token, "bundle": "anything", "confirm": "yes"}
    assert client.post("/c/globex/bundles/unbundle", data=form).status_code == 404
