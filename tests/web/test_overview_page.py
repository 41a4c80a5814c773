"""A company's overview: records per export state now, and by month of the record."""

from __future__ import annotations

import datetime as dt
import re

import attrs
from starlette.testclient import TestClient

from syncstate.adapters.storage.sqlite.state import SQLiteStore
from syncstate.web import create_app
from syncstate.web.pages_home import months_by_state
from web_panel import AT, authorize, client_for, record


class FixedClock:
    def now(self) -> dt.datetime:
        return dt.datetime(2026, 3, 20, 12, 0, tzinfo=dt.UTC)


def test_the_overview_charts_records_per_state(alice: TestClient) -> None:
    page = alice.get("/c/acme/").text
    bars = dict(re.findall(r'<g class="bar" data-label="([a-z_]+)" data-value="(\d+)"', page))
    assert bars == {
        "not_exported": "2",
        "in_flight": "0",
        "exported": "4",
        "failed": "3",
        "outdated": "0",
        "unlinked": "0",
        "historical": "0",
    }


def test_records_per_state_by_month_of_the_record(store: SQLiteStore) -> None:
    february = attrs.evolve(record("acme", "FEB-1", "emp-a", 1), on=dt.date(2026, 2, 10), hash="")
    too_old = attrs.evolve(record("acme", "OLD-1", "emp-a", 1), on=dt.date(2025, 3, 31), hash="")
    store.ingest("acme", [february, too_old], at=AT, actor="host")
    history = months_by_state(store, "acme", dt.date(2026, 3, 20))
    columns = {c["label"]: c for c in history["columns"]}
    assert sorted(columns) == [f"2025-{m:02d}" for m in range(4, 13)] + [
        "2026-01",
        "2026-02",
        "2026-03",
    ]
    assert columns["2026-02"]["total"] == 1
    march = {name: n for name, n, _ in columns["2026-03"]["parts"]}
    assert march == {"not_exported": 2, "exported": 4, "failed": 3}
    assert sum(c["total"] for c in history["columns"]) == 10  # OLD-1 is before the 12 months
    assert history["partial"] is False
    client = client_for(create_app(store, authorize=authorize, clock=FixedClock()), "alice")
    page = client.get("/c/acme/").text
    assert '<g class="column" data-label="2026-03" data-total="9">' in page
