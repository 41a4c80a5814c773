"""The Sync Results page: filters, search, error flags, unlink and relink with the user as actor."""

from __future__ import annotations

import re

from starlette.testclient import TestClient

from syncstate.adapters.storage.sqlite.state import SQLiteStore
from syncstate.domain.records import RecordKey
from web_panel import AT, csrf_of, record, state_of


def ids(html: str) -> list[str]:
    return re.findall(r'<tr data-state="[a-z_]+" data-id="([^"]+)"', html)


def test_each_filter_shows_only_its_records(alice: TestClient) -> None:
    assert ids(alice.get("/c/acme/results?filter=failed").text) == [
        "&lt;script&gt;alert(&#39;id&#39;)&lt;/script&gt;",
        "A-5",
        "A-6",
    ]
    assert ids(alice.get("/c/acme/results?filter=linked").text) == ["A-1", "A-2", "A-3", "A-4"]
    assert ids(alice.get("/c/acme/results?filter=unlinked").text) == []
    assert len(ids(alice.get("/c/acme/results").text)) == 9


def test_an_unknown_filter_is_one_clear_error(alice: TestClient) -> None:
    page = alice.get("/c/acme/results?filter=everything")
    assert page.status_code == 400 and "unknown filter &#39;everything&#39;" in page.text


def test_a_failed_record_shows_its_flag_and_the_back_ends_message(alice: TestClient) -> None:
    page = alice.get("/c/acme/results", params={"q": "A-5"}).text
    assert ids(page) == ["A-5"]
    assert 'class="flag"' in page and "Customer A-5 is not mapped" in page


def test_search_finds_a_record_by_document_number_or_remote_id(alice: TestClient) -> None:
    assert ids(alice.get("/c/acme/results", params={"q": "D3"}).text) == ["A-3"]
    assert ids(alice.get("/c/acme/results", params={"q": "R-A-2"}).text) == ["A-2"]
    none = alice.get("/c/acme/results", params={"q": "nothing-like-it"}).text
    assert ids(none) == [] and "No records match" in none


def test_unlink_keeps_the_record_under_unlinked_and_journals_the_user(
    alice: TestClient, store: SQLiteStore
) -> None:
    token = csrf_of(alice.get("/c/acme/results?filter=failed").text)
    done = alice.post(
        "/c/acme/results/unlink",
        data={"csrf": token, "key": ["time_entry:A-5", "time_entry:A-6"], "reason": "fix later"},
    )
    assert done.status_code == 200
    assert "2 records unlinked" in done.text and "failed → unlinked" in done.text
    assert state_of(store, "acme", "A-5") == state_of(store, "acme", "A-6") == "unlinked"
    last = store.journal(RecordKey("acme", "time_entry", "A-5"))[-1]
    assert (last.actor, last.event.reason) == ("alice", "fix later")
    assert ids(alice.get("/c/acme/results?filter=unlinked").text) == ["A-5", "A-6"]


def test_unlink_without_a_reason_changes_nothing_and_says_why(
    alice: TestClient, store: SQLiteStore
) -> None:
    token = csrf_of(alice.get("/c/acme/results").text)
    page = alice.post("/c/acme/results/unlink", data={"csrf": token, "key": "time_entry:A-5"})
    assert page.status_code == 400 and "unlink needs a reason" in page.text
    assert state_of(store, "acme", "A-5") == "failed"


def test_unlink_with_nothing_selected_is_a_clear_error(alice: TestClient) -> None:
    token = csrf_of(alice.get("/c/acme/results").text)
    page = alice.post("/c/acme/results/unlink", data={"csrf": token, "reason": "r"})
    assert page.status_code == 400 and "no records selected" in page.text


def test_relink_returns_the_record_to_its_state_and_reminds_to_fix_the_cause(
    alice: TestClient, store: SQLiteStore
) -> None:
    token = csrf_of(alice.get("/c/acme/results").text)
    alice.post(
        "/c/acme/results/unlink", data={"csrf": token, "key": "time_entry:A-5", "reason": "x"}
    )
    page = alice.get("/c/acme/results?filter=unlinked").text
    assert "fix whatever made the record fail" in page
    done = alice.post("/c/acme/results/relink", data={"csrf": token, "key": "time_entry:A-5"})
    assert done.status_code == 200 and "unlinked → failed" in done.text
    assert "fix whatever made the record fail" in done.text
    assert state_of(store, "acme", "A-5") == "failed"
    assert store.journal(RecordKey("acme", "time_entry", "A-5"))[-1].actor == "alice"


def test_relinking_a_record_that_is_not_unlinked_is_refused(
    alice: TestClient, store: SQLiteStore
) -> None:
    token = csrf_of(alice.get("/c/acme/results").text)
    page = alice.post("/c/acme/results/relink", data={"csrf": token, "key": "time_entry:A-1"})
    assert page.status_code == 409
    assert state_of(store, "acme", "A-1") == "exported"


def test_pages_follow_one_another_without_gaps(store: SQLiteStore, alice: TestClient) -> None:
    more = [record("acme", f"P-{n:03}", "emp-p", 1) for n in range(70)]
    store.ingest("acme", more, at=AT, actor="host")
    first = alice.get("/c/acme/results").text
    link = re.search(r'rel="next" href="([^"]+)"', first)
    assert link is not None
    second = alice.get(link.group(1).replace("&amp;", "&")).text
    assert len(ids(first)) == 50 and not set(ids(first)) & set(ids(second))
    assert len(ids(first)) + len(ids(second)) == 79


def test_the_pending_filter_shows_what_waits_for_an_export(alice: TestClient) -> None:
    assert ids(alice.get("/c/acme/results?filter=pending").text) == ["A-7", "A-8"]
