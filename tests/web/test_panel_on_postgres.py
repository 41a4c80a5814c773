"""The panel over the PostgreSQL store (a real server): the same pages, the same rules."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from postgres_server import pg_dsn, pg_schema, require_postgres_driver  # noqa: F401
from syncstate.domain.records import RecordKey
from syncstate.web import create_app
from web_books import EXPECTED, TOTALS, Y2023, BooksSource, seed_history
from web_panel import authorize, client_for, csrf_of, seed, state_of

require_postgres_driver()

from syncstate.adapters.storage.postgres.mirror import PostgresMirrorStore  # noqa: E402
from syncstate.adapters.storage.postgres.state import PostgresStore  # noqa: E402
from syncstate.services.mirror import MirrorService  # noqa: E402

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_store(pg_dsn: str, pg_schema: str) -> Iterator[PostgresStore]:  # noqa: F811
    store = PostgresStore(pg_dsn, schema=pg_schema, max_size=4)
    seed(store, "acme", "A")
    seed(store, "globex", "G")
    yield store
    store.close()


@pytest.fixture
def client(pg_store: PostgresStore) -> TestClient:
    return client_for(create_app(pg_store, authorize=authorize, secret=b"p" * 32), "alice")


def test_results_filter_search_and_unlink_on_postgres(client: TestClient, pg_store: Any) -> None:
    failed = client.get("/c/acme/results?filter=failed").text
    assert re.findall(r'data-id="(A-\d)"', failed) == ["A-5", "A-6"]
    assert re.findall(r'data-id="(A-\d)"', client.get("/c/acme/results?q=D3").text) == ["A-3"]
    form = {"csrf": csrf_of(failed), "key": "time_entry:A-5", "reason": "on postgres"}
    assert client.post("/c/acme/results/unlink", data=form).status_code == 200
    assert state_of(pg_store, "acme", "A-5") == "unlinked"
    assert pg_store.journal(RecordKey("acme", "time_entry", "A-5"))[-1].actor == "alice"
    assert client.get("/c/globex/results").status_code == 404


def test_an_acknowledged_reset_on_postgres(client: TestClient, pg_store: Any) -> None:
    plan = client.get("/c/acme/reset?start=2026-03-01&end=2026-03-04&employee=emp-a").text
    assert "Plan: 2 records" in plan
    hidden = re.findall(r'type="hidden" name="([a-z]+)" value="([^"]*)"', plan)
    form: dict[str, Any] = {}
    for name, value in hidden:
        form.setdefault(name, []).append(value)
    assert client.post("/c/acme/reset/apply", data=form).status_code == 400  # no acknowledgement
    assert state_of(pg_store, "acme", "A-1") == "exported"
    done = client.post("/c/acme/reset/apply", data={**form, "acknowledge": "yes"})
    assert done.status_code == 200
    assert state_of(pg_store, "acme", "A-1") == state_of(pg_store, "acme", "A-3") == "not_exported"
    assert state_of(pg_store, "globex", "G-1") == "exported"


def test_mirror_balances_and_state_history_on_postgres(pg_store: Any) -> None:
    mirror = PostgresMirrorStore.beside(pg_store)
    for company in ("acme", "globex"):
        MirrorService(mirror).load(company, BooksSource())
    seed_history(pg_store, "acme")
    client = client_for(create_app(pg_store, authorize=authorize, mirror=mirror), "alice")
    page = client.get(f"/c/acme/mirror/{Y2023}/balances").text
    assert re.findall(r'<tr data-account="(\d+)"', page) == sorted(EXPECTED)
    amounts = re.findall(r'data-total="[a-z]+">([^<]*)<', page)
    assert tuple(amounts) == TOTALS
    assert client.get(f"/c/globex/mirror/{Y2023}/balances").status_code == 404
    history = client.get("/c/acme/history?start=2026-03-01&end=2026-03-12").text
    totals = re.findall(r'<g class="column" data-label="[^"]+" data-total="(\d+)"', history)
    assert totals[0] == "2" and totals[-1] == "12"
    assert client.get("/c/globex/history").status_code == 404
