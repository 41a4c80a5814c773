"""The export-state machine: every allowed and forbidden transition."""

from __future__ import annotations

import datetime as dt

import pytest

from syncstate.domain.records import RecordKey
from syncstate.domain.state import (
    EXPORTABLE,
    HIDDEN,
    Event,
    EventKind,
    ExportState,
    Status,
    apply,
    idempotency_key,
    replay,
    transition,
)
from syncstate.errors import InvalidTransition

KEY = RecordKey("acme", "time_entry", "t1")
T0 = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
S = ExportState


def run(*events: Event, status: Status | None = None) -> Status:
    status = status or Status()
    for event in events:
        status = apply(KEY, status, event, T0)
    return status


def exported() -> Status:
    return run(Event.claim(), Event.succeed("R1", "0"))


def test_a_new_record_is_not_exported_and_exportable() -> None:
    assert Status().state is S.NOT_EXPORTED
    assert S.NOT_EXPORTED in EXPORTABLE and S.NOT_EXPORTED not in HIDDEN


def test_claim_then_succeed_links_the_remote_document() -> None:
    status = exported()
    assert status.state is S.EXPORTED
    assert (status.remote_id, status.remote_version) == ("R1", "0")
    assert status.revision == 1


def test_fail_keeps_the_validation_message_and_a_failed_record_is_claimed_again() -> None:
    status = run(Event.claim(), Event.fail("Customer 'Ann' does not exist"))
    assert status.state is S.FAILED
    assert status.message == "Customer 'Ann' does not exist"
    assert run(Event.claim(), status=status).state is S.IN_FLIGHT


def test_source_change_makes_an_exported_record_outdated_and_overwrite_keeps_its_remote_id() -> (
    None
):
    status = run(Event.of(EventKind.SOURCE_CHANGED), status=exported())
    assert status.state is S.OUTDATED and status.remote_id == "R1"
    status = run(Event.claim(), Event.succeed("R1", "1"), status=status)
    assert status.state is S.EXPORTED and status.remote_version == "1"


def test_a_change_while_in_flight_ends_outdated_not_exported() -> None:
    status = run(Event.claim(), Event.of(EventKind.SOURCE_CHANGED), Event.succeed("R1"))
    assert status.state is S.OUTDATED


def test_reset_starts_a_new_generation_with_a_new_idempotency_key() -> None:
    before = exported()
    after = run(Event.of(EventKind.RESET, "re-export"), status=before)
    assert after.state is S.NOT_EXPORTED
    assert after.generation == before.generation + 1
    assert after.remote_id is None
    first_key = Status().key_for(KEY)
    assert after.key_for(KEY) != first_key


def test_overwrite_attempt_gets_a_key_of_its_own() -> None:
    status = exported()
    assert status.key_for(KEY) != Status().key_for(KEY)


def test_idempotency_keys_are_deterministic_and_fit_quickbooks_limits() -> None:
    key = idempotency_key(KEY, 3, 1)
    assert key == idempotency_key(KEY, 3, 1)
    assert len(key) == 36
    other_company = RecordKey("bolt", "time_entry", "t1")
    assert idempotency_key(other_company, 3, 1) != key


def test_unlink_remembers_the_state_and_relink_returns_to_it() -> None:
    failed = run(Event.claim(), Event.fail("bad"))
    unlinked = run(Event.of(EventKind.UNLINK, "broken customer"), status=failed)
    assert unlinked.state is S.UNLINKED
    assert run(Event.of(EventKind.RELINK), status=unlinked).state is S.FAILED
    exp = run(Event.of(EventKind.UNLINK, "x"), Event.of(EventKind.RELINK), status=exported())
    assert exp.state is S.EXPORTED and exp.remote_id == "R1"


def test_a_source_change_while_unlinked_returns_as_outdated() -> None:
    status = run(
        Event.of(EventKind.UNLINK, "x"),
        Event.of(EventKind.SOURCE_CHANGED),
        Event.of(EventKind.RELINK),
        status=exported(),
    )
    assert status.state is S.OUTDATED


def test_release_returns_a_claimed_record_to_where_it_was() -> None:
    failed = run(Event.claim(), Event.fail("bad"))
    assert run(Event.claim(), Event.of(EventKind.RELEASE), status=failed).state is S.FAILED
    assert run(Event.claim(), Event.of(EventKind.RELEASE)).state is S.NOT_EXPORTED


def test_unexport_returns_to_not_exported_in_a_new_generation() -> None:
    status = run(Event.of(EventKind.UNEXPORT), status=exported())
    assert status.state is S.NOT_EXPORTED and status.generation == 1


def test_historical_records_are_hidden_and_never_claimed() -> None:
    status = run(Event.of(EventKind.MARK_HISTORICAL))
    assert status.state is S.HISTORICAL and S.HISTORICAL in HIDDEN
    with pytest.raises(InvalidTransition):
        run(Event.claim(), status=status)


@pytest.mark.parametrize(
    ("status", "event"),
    [
        (Status(), Event.succeed("R1")),
        (Status(), Event.fail("x")),
        (Status(), Event.of(EventKind.RESET)),
        (Status(), Event.of(EventKind.RELINK)),
        (Status(), Event.of(EventKind.UNEXPORT)),
        (Status(), Event.of(EventKind.RELEASE)),
        (Status(state=S.IN_FLIGHT), Event.of(EventKind.UNLINK, "x")),
        (Status(state=S.IN_FLIGHT), Event.of(EventKind.RESET)),
        (Status(state=S.EXPORTED, remote_id="R"), Event.claim()),
        (Status(state=S.EXPORTED, remote_id="R"), Event.of(EventKind.MARK_HISTORICAL)),
        (Status(state=S.UNLINKED), Event.of(EventKind.UNLINK, "again")),
        (Status(state=S.UNLINKED), Event.claim()),
        (Status(state=S.HISTORICAL), Event.of(EventKind.RESET)),
    ],
)
def test_forbidden_events_raise_invalid_transition_naming_record_state_and_event(
    status: Status, event: Event
) -> None:
    with pytest.raises(InvalidTransition) as info:
        apply(KEY, status, event, T0)
    error = info.value
    assert error.record == "acme/time_entry/t1"
    assert error.state == status.state.value and error.event == event.kind.value
    assert "acme/time_entry/t1" in str(error) and status.state.value in str(error)


def test_succeed_without_a_remote_id_is_refused() -> None:
    with pytest.raises(InvalidTransition, match="remote id"):
        run(Event.claim(), Event.succeed(""))


def test_a_live_lease_cannot_be_taken_over_but_an_expired_one_can() -> None:
    lease = T0 + dt.timedelta(minutes=1)
    status = apply(KEY, Status(), Event.claim(worker="w1", lease_until=lease), T0)
    with pytest.raises(InvalidTransition, match="w1"):
        apply(KEY, status, Event.claim(worker="w2"), T0)
    later = lease + dt.timedelta(seconds=1)
    taken = apply(KEY, status, Event.claim(worker="w2"), later)
    assert taken.worker == "w2" and taken.state is S.IN_FLIGHT


def test_every_transition_yields_a_journal_entry_and_replay_rebuilds_the_status() -> None:
    status, entries = Status(), []
    for event in (
        Event.claim(),
        Event.succeed("R1", "0"),
        Event.of(EventKind.RESET, "oops"),
        Event.claim(),
        Event.fail("no"),
    ):
        status, entry = transition(KEY, status, event, at=T0, actor="bob")
        entries.append(entry)
    assert [e.to_state for e in entries] == [
        S.IN_FLIGHT,
        S.EXPORTED,
        S.NOT_EXPORTED,
        S.IN_FLIGHT,
        S.FAILED,
    ]
    assert entries[2].generation == 1 and entries[2].event.reason == "oops"
    assert entries[0].idempotency_key != entries[3].idempotency_key
    assert replay(KEY, entries) == status


def test_a_taken_over_claim_is_marked_and_a_release_keeps_it_in_flight() -> None:
    lease = T0 + dt.timedelta(minutes=1)
    first = apply(KEY, Status(), Event.claim(worker="w1", lease_until=lease), T0)
    assert first.previous is S.NOT_EXPORTED
    later = lease + dt.timedelta(seconds=1)
    taken = apply(KEY, first, Event.claim(worker="w2"), later)
    assert taken.previous is S.IN_FLIGHT  # the dead holder may have sent it: look it up
    released = apply(KEY, taken, Event.of(EventKind.RELEASE), later)
    assert released.state is S.IN_FLIGHT and released.worker == ""
    assert released.key_for(KEY) == first.key_for(KEY)


def test_a_failed_attempt_gives_the_next_attempt_a_new_key() -> None:
    claimed = run(Event.claim())
    failed = run(Event.fail("period closed"), status=claimed)
    retry = run(Event.claim(), status=failed)
    assert retry.key_for(KEY) != claimed.key_for(KEY)
    assert retry.generation == claimed.generation
