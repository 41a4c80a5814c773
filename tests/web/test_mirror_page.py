"""The Mirror page: loaded years, a clear confirmed by typing the company, reload from SIE."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from syncstate import MirrorService, SieSource, SQLiteMirrorStore
from syncstate.adapters.storage.sqlite.state import SQLiteStore
from syncstate.web import create_app
from web_panel import authorize, client_for, csrf_of, events, write_sie

Y2025 = "2025-01-01..2025-12-31"


@pytest.fixture
def mirror(tmp_path: Path) -> Iterator[SQLiteMirrorStore]:
    store = SQLiteMirrorStore(tmp_path / "books.db")
    service = MirrorService(store)
    for company in ("acme", "globex"):
        files = [write_sie(tmp_path / f"{company}-{y}.se", company, y, 3) for y in (2024, 2025)]
        service.load(company, SieSource(files))
    yield store
    store.close()


@pytest.fixture
def client(store: SQLiteStore, mirror: Any) -> TestClient:
    return client_for(create_app(store, authorize=authorize, mirror=mirror), "alice")


def form_of(page: str) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for name, value in re.findall(r'type="hidden" name="([a-z_]+)" value="([^"]*)"', page):
        fields.setdefault(name, []).append(html.unescape(value))
    return fields


def vouchers(mirror: Any, company: str) -> dict[str, int]:
    return {str(y.year.start.year): y.vouchers for y in mirror.loaded_years(company)}


def test_the_loaded_years_and_the_plan_of_a_clear(client: TestClient) -> None:
    page = client.get("/c/acme/mirror").text
    assert re.findall(r'<tr data-year="([^"]+)">', page) == [
        "2024-01-01..2024-12-31",
        Y2025,
    ]
    plan = client.get("/c/acme/mirror", params={"year": Y2025}).text
    assert "removes 3 vouchers and 6 transactions" in plan
    assert "swapped in at once" in plan and "never changed" in plan


def test_a_clear_needs_the_company_typed_again(
    client: TestClient, mirror: Any, tmp_path: Path
) -> None:
    plan = client.get("/c/acme/mirror", params={"year": Y2025}).text
    form = {**form_of(plan), "typed": "globex"}
    refused = client.post("/c/acme/mirror/clear", data=form)
    assert refused.status_code == 400 and "type the company id" in refused.text
    assert vouchers(mirror, "acme") == {"2024": 3, "2025": 3}


def test_clear_and_reload_from_an_uploaded_file(
    client: TestClient, mirror: Any, tmp_path: Path
) -> None:
    plan = client.get("/c/acme/mirror", params={"year": Y2025}).text
    fresh = write_sie(tmp_path / "fresh.se", "acme", 2025, 2)  # a voucher deleted at the source
    form = {**form_of(plan), "typed": "acme"}
    started = client.post(
        "/c/acme/mirror/clear",
        data=form,
        files=[("sie", ("acme-2025.se", fresh.read_bytes(), "application/octet-stream"))],
    )
    assert started.status_code == 303
    last = events(client, started.headers["location"] + "/events")[-1]
    assert last["error"] == "" and last["summary"]["ok"] is True
    assert last["summary"]["reloaded"] is True and last["summary"]["loaded_vouchers"] == 2
    assert vouchers(mirror, "acme") == {"2024": 3, "2025": 2}
    assert vouchers(mirror, "globex") == {"2024": 3, "2025": 3}  # the other company stays
    page = client.get(started.headers["location"]).text
    assert "Finished: cleared and reloaded (2 vouchers live)" in page


def test_a_stale_plan_clears_nothing(client: TestClient, mirror: Any, tmp_path: Path) -> None:
    plan = client.get("/c/acme/mirror", params={"year": Y2025}).text
    MirrorService(mirror).load("acme", SieSource([write_sie(tmp_path / "x.se", "acme", 2025, 1)]))
    started = client.post("/c/acme/mirror/clear", data={**form_of(plan), "typed": "acme"})
    last = events(client, started.headers["location"] + "/events")[-1]
    assert "plan may be stale" in last["error"]
    assert vouchers(mirror, "acme") == {"2024": 3, "2025": 1}


def test_another_companys_mirror_is_out_of_reach(client: TestClient, mirror: Any) -> None:
    assert client.get("/c/globex/mirror").status_code == 404
    plan = client.get("/c/acme/mirror", params={"year": Y2025}).text
    form = {**form_of(plan), "typed": "globex"}
    assert client.post("/c/globex/mirror/clear", data=form).status_code == 404
    assert vouchers(mirror, "globex") == {"2024": 3, "2025": 3}


def test_fiscal_years_are_parsed_strictly(client: TestClient) -> None:
    page = client.get("/c/acme/mirror", params={"year": "2025"})
    assert page.status_code == 400 and "YYYY-MM-DD..YYYY-MM-DD" in page.text


def test_the_drift_report_compares_uploaded_files_and_changes_nothing(
    store: SQLiteStore, mirror: Any, tmp_path: Path
) -> None:
    fresh = write_sie(tmp_path / "fresh.se", "acme", 2025, 2)
    reader = client_for(create_app(store, authorize=authorize, mirror=mirror), "reader")
    page = reader.get("/c/acme/mirror").text
    report = reader.post(
        "/c/acme/mirror/drift",
        data={"csrf": csrf_of(page)},
        files=[("sie", ("acme-2025.se", fresh.read_bytes(), "application/octet-stream"))],
    )
    assert report.status_code == 200
    assert f"{Y2025}: 0 added, 1 deleted, 0 changed at the source" in report.text
    assert "<td>5010</td>" in report.text and "-100.00" in report.text
    assert vouchers(mirror, "acme") == {"2024": 3, "2025": 3}
