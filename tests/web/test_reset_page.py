"""The Reset page: the plan per employee, the warning, acknowledgement, all or nothing."""

from __future__ import annotations

import re

from starlette.testclient import TestClient

from syncstate.adapters.storage.sqlite.state import SQLiteStore
from syncstate.domain.records import RecordKey
from syncstate.domain.state import Event, EventKind
from syncstate.services.reset import RESET_WARNING
from web_panel import AT, csrf_of, state_of

PLAN = "/c/acme/reset?start=2026-03-01&end=2026-03-04&employee=emp-a&employee=emp-b"


def apply_form(html: str) -> dict[str, list[str]]:
    """The hidden fields of the page's apply form, as a browser would send them."""
    form = html[html.index('action="/c/acme/reset/apply"') :]
    fields: dict[str, list[str]] = {}
    for name, value in re.findall(r'type="hidden" name="([a-z]+)" value="([^"]*)"', form):
        fields.setdefault(name, []).append(value)
    return fields


def test_the_page_states_the_warning_before_anything_is_chosen(alice: TestClient) -> None:
    page = alice.get("/c/acme/reset").text
    assert "The back end is not changed." in page
    assert RESET_WARNING.split(".")[0] in page
    assert 'value="emp-a"' in page and 'value="emp-b"' in page  # the employees to pick


def test_the_plan_counts_records_per_employee_and_changes_nothing(
    alice: TestClient, store: SQLiteStore
) -> None:
    page = alice.get(PLAN).text
    assert "Plan: 4 records, 2026-03-01 to 2026-03-04" in page
    rows = re.findall(r'<tr data-employee="([^"]+)"><td>[^<]*</td><td>(\d+)</td>', page)
    assert rows == [("emp-a", "2"), ("emp-b", "2")]
    assert state_of(store, "acme", "A-1") == "exported"


def test_employees_can_be_typed_in_and_a_selection_of_nothing_says_so(alice: TestClient) -> None:
    typed = alice.get("/c/acme/reset?start=2026-03-01&end=2026-03-31&employees=emp-a, emp-b")
    assert "Plan: 6 records" in typed.text  # A-1..A-4 exported, A-5 and A-6 failed
    nothing = alice.get("/c/acme/reset?start=2026-01-01&end=2026-01-31&employee=emp-a")
    assert nothing.status_code == 400 and "no exported records for emp-a" in nothing.text
    half = alice.get("/c/acme/reset?start=2026-01-01&employee=emp-a")
    assert half.status_code == 400 and "first and the last day" in half.text


def test_applying_without_the_acknowledgement_is_refused_and_changes_nothing(
    alice: TestClient, store: SQLiteStore
) -> None:
    page = alice.get(PLAN).text
    refused = alice.post("/c/acme/reset/apply", data=apply_form(page))
    assert refused.status_code == 400 and "needs acknowledge" in refused.text
    assert [state_of(store, "acme", f"A-{n}") for n in range(1, 5)] == ["exported"] * 4


def test_an_acknowledged_reset_makes_the_records_exportable_and_journals_the_user(
    alice: TestClient, store: SQLiteStore
) -> None:
    page = alice.get(PLAN).text
    done = alice.post("/c/acme/reset/apply", data={**apply_form(page), "acknowledge": "yes"})
    assert done.status_code == 200
    assert "4 records are “not exported” again" in done.text
    assert "Nothing stays selected" in done.text
    assert [state_of(store, "acme", f"A-{n}") for n in range(1, 5)] == ["not_exported"] * 4
    entry = store.journal(RecordKey("acme", "time_entry", "A-1"))[-1]
    assert (entry.actor, entry.event.kind.value) == ("alice", "reset")
    assert state_of(store, "globex", "G-1") == "exported"  # the other company is untouched
    again = alice.post("/c/acme/reset/apply", data={**apply_form(page), "acknowledge": "yes"})
    assert again.status_code == 400  # a plan is single-use


def test_records_that_changed_since_review_are_not_reset(
    alice: TestClient, store: SQLiteStore
) -> None:
    page = alice.get(PLAN).text
    # someone else unlinks A-3 after the plan was shown: the plan would now reset 3, not 4
    key = RecordKey("acme", "time_entry", "A-3")
    store.apply("acme", [(key, Event.of(EventKind.UNLINK, "by bob"))], at=AT, actor="bob")
    refused = alice.post("/c/acme/reset/apply", data={**apply_form(page), "acknowledge": "yes"})
    assert refused.status_code == 400 and "changed since the plan was shown" in refused.text
    assert state_of(store, "acme", "A-1") == "exported"


def test_the_apply_form_cannot_be_pointed_at_another_company(
    alice: TestClient, store: SQLiteStore
) -> None:
    page = alice.get(PLAN).text
    form = {**apply_form(page), "acknowledge": "yes", "company": "globex"}
    assert alice.post("/c/acme/reset/apply", data=form).status_code == 404
    assert alice.post("/c/globex/reset/apply", data=form).status_code == 404
    assert state_of(store, "globex", "G-1") == "exported"
    assert state_of(store, "acme", "A-1") == "exported"


def test_the_token_is_required_to_apply(alice: TestClient, store: SQLiteStore) -> None:
    form = {k: v for k, v in apply_form(alice.get(PLAN).text).items() if k != "csrf"}
    assert alice.post("/c/acme/reset/apply", data={**form, "acknowledge": "yes"}).status_code == 403
    assert state_of(store, "acme", "A-1") == "exported"
    assert csrf_of(alice.get(PLAN).text)
