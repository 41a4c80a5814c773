"""Records per export state over time, rebuilt from the journal of state transitions."""

from __future__ import annotations

import datetime as dt
import html
import re
from typing import Any

import pytest

from syncstate.adapters.storage.memory.state import MemoryStore
from syncstate.adapters.storage.sqlite.state import SQLiteStore
from syncstate.web import create_app
from syncstate.web.history import DAILY_UP_TO, LONGEST, spans_of, state_history
from web_books import seed_history
from web_panel import HOSTILE_ID, authorize, client_for

MARCH = "start=2026-03-01&end=2026-03-12"


class FixedClock:
    def now(self) -> dt.datetime:
        return dt.datetime(2026, 3, 12, 18, 0, tzinfo=dt.UTC)


def _day(n: int) -> dt.date:
    return dt.date(2026, 3, n)


@pytest.fixture
def app(store: SQLiteStore) -> Any:
    seed_history(store, "acme")
    return create_app(store, authorize=authorize, clock=FixedClock(), secret=b"k" * 32)


def nonzero(counts: dict[str, int]) -> dict[str, int]:
    return {state: n for state, n in counts.items() if n}


@pytest.mark.parametrize("kind", ["sqlite", "memory"])
def test_each_day_counts_the_states_at_its_end(kind: str, store: SQLiteStore) -> None:
    target: Any = store if kind == "sqlite" else MemoryStore()
    seed_history(target, "acme")
    history = state_history(target, "acme", _day(1), _day(21))
    days = {b.first.day: nonzero(b.by_state()) for b in history.buckets}
    assert history.unit == "day" and len(history.buckets) == 21
    if kind == "memory":  # H-1 .. H-4 only
        assert days[1] == {"not_exported": 1}  # H-1 (its own date)
        assert days[4] == {"not_exported": 3}
        assert days[5] == {"exported": 1, "failed": 1, "in_flight": 1}  # H-3 in flight overnight
        assert days[6] == {"exported": 2, "failed": 1}
        assert days[8] == {"exported": 2, "unlinked": 1}
        assert days[10] == days[19] == {"exported": 1, "outdated": 1, "unlinked": 1}
        assert days[20] == {"exported": 1, "outdated": 1, "unlinked": 1, "not_exported": 1}
    else:  # and the seeded A-1 .. A-8 and the hostile record, changed on the 2nd
        assert days[1] == {"not_exported": 2}  # A-1 and H-1
        assert days[2] == {"not_exported": 2, "exported": 4, "failed": 3}
        twelfth = {"not_exported": 2, "exported": 5, "failed": 3, "outdated": 1, "unlinked": 1}
        assert days[12] == twelfth
    assert history.records == (4 if kind == "memory" else 13) and not history.partial


def test_only_the_company_asked_for_is_counted(store: SQLiteStore) -> None:
    seed_history(store, "globex")
    acme = state_history(store, "acme", _day(1), _day(12))
    assert acme.buckets[-1].total == 9  # A-1 .. A-8 and the hostile record, not globex's


def test_a_long_range_is_shown_by_week(store: SQLiteStore) -> None:
    seed_history(store, "acme")
    history = state_history(store, "acme", dt.date(2026, 1, 1), dt.date(2026, 6, 30))
    assert history.unit == "week"
    firsts = [b.first for b in history.buckets]
    assert firsts[0] == dt.date(2026, 1, 1) and all(d.weekday() == 0 for d in firsts[1:])
    week = {b.first: b for b in history.buckets}[dt.date(2026, 3, 2)]
    assert week.last == dt.date(2026, 3, 8)  # counted at the end of the Sunday
    assert nonzero(week.by_state()) == {
        "not_exported": 2,
        "exported": 6,
        "failed": 3,
        "unlinked": 1,
    }


def test_ranges_are_checked() -> None:
    assert spans_of(_day(1), _day(1))[0] == "day"
    assert len(spans_of(_day(1), _day(1) + dt.timedelta(DAILY_UP_TO - 1))[1]) == DAILY_UP_TO
    assert spans_of(_day(1), _day(1) + dt.timedelta(DAILY_UP_TO))[0] == "week"
    with pytest.raises(Exception, match="inverted"):
        spans_of(_day(2), _day(1))
    with pytest.raises(Exception, match="at most"):
        spans_of(_day(1), _day(1) + dt.timedelta(LONGEST))


def test_a_scan_limit_says_the_chart_is_partial(store: SQLiteStore) -> None:
    history = state_history(store, "acme", _day(1), _day(3), limit=5)
    assert history.partial and history.records == 5
    assert history.buckets[-1].total == 5


def test_the_page_draws_an_accessible_chart_with_a_table(app: Any) -> None:
    page = client_for(app, "alice").get(f"/c/acme/history?{MARCH}")
    assert page.status_code == 200
    text = page.text
    assert '<svg role="img" aria-labelledby="history-title history-desc"' in text
    assert (
        '<title id="history-title">Records per export state, per day, '
        "2026-03-01 to 2026-03-12</title>"
    ) in text
    desc = re.search(r'<desc id="history-desc">(.*?)</desc>', text, re.S)
    assert desc and "On 2026-03-12: 2 not_exported, 5 exported, 3 failed" in desc.group(1)
    columns = re.findall(r'<g class="column" data-label="([^"]+)" data-total="(\d+)"', text)
    assert len(columns) == 12 and columns[0] == ("2026-03-01", "2") and columns[-1][1] == "12"
    rows = re.findall(r'<tr data-label="([^"]+)">(.*?)</tr>', text, re.S)
    assert [label for label, _ in rows] == [f"2026-03-{d:02d}" for d in range(1, 13)]
    numbers = re.findall(r'<td class="money">(\d+)</td>', rows[4][1])
    # 5 March: not_exported, in_flight, exported, failed, outdated, unlinked, historical, total
    assert numbers == ["0", "1", "5", "4", "0", "0", "0", "10"]
    assert "<script>" not in text.split("<main>")[1]  # no JavaScript, no charting library
    assert html.escape(HOSTILE_ID) not in text  # counts only: no record is named


def test_the_default_range_is_the_last_30_days_and_never_the_future(app: Any) -> None:
    client = client_for(app, "alice")
    page = client.get("/c/acme/history").text
    assert "2026-02-11 to 2026-03-12" in page
    future = client.get("/c/acme/history?start=2026-03-01&end=2027-01-01").text
    assert "2026-03-01 to 2026-03-12" in future and "has no future" in future
    assert client.get("/c/acme/history?start=2026-04-01").status_code == 400
    long = client.get("/c/acme/history?start=2025-01-01").text
    assert "per week" in long and 'data-label="week of 2025-01-01"' in long


@pytest.mark.parametrize(
    "query", ["start=2026-13-01", "start=yesterday", "start=2020-01-01&end=2026-03-01"]
)
def test_a_bad_range_is_one_clear_error(app: Any, query: str) -> None:
    page = client_for(app, "alice").get(f"/c/acme/history?{query}")
    assert page.status_code == 400 and '<p class="error" role="alert">' in page.text


def test_the_overview_and_the_menu_link_the_history(app: Any) -> None:
    page = client_for(app, "alice").get("/c/acme/").text
    assert page.count('href="/c/acme/history"') == 2


def test_company_b_chart_is_not_readable_by_a_user_of_a(app: Any, store: SQLiteStore) -> None:
    seed_history(store, "globex")
    alice = client_for(app, "alice")
    for path in ("/c/globex/history", f"/c/globex/history?{MARCH}"):
        page = alice.get(path)
        assert page.status_code == 404
        assert "<svg" not in page.text and "history-data" not in page.text
    assert alice.get("/c/globex/history").text == alice.get("/c/nosuch/history").text
    assert client_for(app, None).get(f"/c/acme/history?{MARCH}").status_code == 401
    bob = client_for(app, "bob").get(f"/c/globex/history?{MARCH}").text
    assert re.findall(r'data-total="(\d+)"', bob)[-1] == "11"  # G-1 .. G-8 and H-1 .. H-3
