"""Export from the panel: preview, a job per user, live progress as server-sent events."""

from __future__ import annotations

from starlette.testclient import TestClient

from syncstate.adapters.backends.memory import MemoryBackend
from syncstate.adapters.storage.sqlite.state import SQLiteStore
from syncstate.domain.records import RecordKey
from web_panel import client_for, csrf_of, events, state_of


def start(client: TestClient, *keys: str) -> str:
    token = csrf_of(client.get("/c/acme/results").text)
    form = {"csrf": token, "backend": "books", "key": [f"time_entry:{k}" for k in keys]}
    started = client.post("/c/acme/export", data=form)
    assert started.status_code == 303, started.text
    return started.headers["location"]


def test_the_preview_lists_what_the_next_export_would_send(alice: TestClient) -> None:
    page = alice.get("/c/acme/export").text
    assert "would handle 5 records" in page  # and the hostile one failed; new
    assert "<td>A-7</td><td>time_entry</td><td>not_exported</td><td>create</td>" in page


def test_exporting_selected_records_reports_progress_until_done(
    alice: TestClient, store: SQLiteStore, backend: MemoryBackend
) -> None:
    job = start(alice, "A-7", "A-8")
    stream = events(alice, job + "/events")
    last = stream[-1]
    assert last["finished"] is True and last["error"] == ""
    assert last["total"] == 2 and last["done"] == 2
    assert last["summary"] == {
        "selected": 2,
        "exported": 2,
        "updated": 0,
        "failed": [],
        "pending": 0,
        "released": 0,
        "ok": True,
    }
    assert all(e["done"] <= e["total"] or e["total"] == 0 for e in stream)
    assert state_of(store, "acme", "A-7") == state_of(store, "acme", "A-8") == "exported"
    assert state_of(store, "acme", "A-5") == "failed"  # not selected, not sent
    assert len(backend.documents("acme")) == 2
    assert store.journal(RecordKey("acme", "time_entry", "A-7"))[-1].actor == "alice"
    page = alice.get(job).text
    assert "Finished: 2 exported" in page and 'http-equiv="refresh"' not in page


def test_a_job_is_visible_only_to_its_user_in_its_company(app: object, alice: TestClient) -> None:
    job = start(alice, "A-7")
    events(alice, job + "/events")
    assert client_for(app, "carol").get(job).status_code == 404  # same company, other user
    assert client_for(app, "carol").get(job + "/events").status_code == 404
    other = job.replace("/c/acme/", "/c/globex/")
    assert client_for(app, "bob").get(other).status_code == 404


def test_an_unknown_back_end_is_refused_before_anything_is_claimed(
    alice: TestClient, store: SQLiteStore
) -> None:
    token = csrf_of(alice.get("/c/acme/export").text)
    page = alice.post("/c/acme/export", data={"csrf": token, "backend": "elsewhere"})
    assert page.status_code == 400 and "no back end named" in page.text
    assert state_of(store, "acme", "A-7") == "not_exported"


def test_a_failing_export_shows_the_back_ends_message(
    alice: TestClient, store: SQLiteStore, backend: MemoryBackend
) -> None:
    from syncstate.errors import RemoteValidationError

    backend.fail_next("create", RemoteValidationError("Job J1 is closed"))
    backend.fail_next("create_batch", RemoteValidationError("Job J1 is closed"))
    last = events(alice, start(alice, "A-7") + "/events")[-1]
    summary = last["summary"]
    assert isinstance(summary, dict)
    assert summary["failed"] == ["A-7: Job J1 is closed"] and summary["ok"] is False
    assert state_of(store, "acme", "A-7") == "failed"
