"""Bulk planning (compact rows, entries built when read) agrees with plan_events."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from syncstate.adapters.storage.base import plan_distinct, plan_events
from syncstate.adapters.storage.journal import JournalEntries
from syncstate.domain.records import RecordKey
from syncstate.domain.state import Event, EventKind, ExportState, Status
from syncstate.errors import InvalidTransition, RecordNotFound

T0 = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)

_EVENTS = [
    Event.claim(worker="w", lease_until=T0),
    Event.succeed("R1", "0"),
    Event.succeed("R2", None),
    Event.fail("bad customer"),
    Event.of(EventKind.RESET, "again"),
    Event.of(EventKind.UNLINK, "dup"),
    Event.of(EventKind.SOURCE_CHANGED),
]
_STATUSES = [
    Status(),
    Status(state=ExportState.IN_FLIGHT, worker="w", previous=ExportState.NOT_EXPORTED),
    Status(state=ExportState.EXPORTED, generation=2, revision=3, remote_id="R9"),
    Status(state=ExportState.FAILED, revision=1, message="x"),
]


def _plan(statuses: list[Status], events: list[Event]) -> JournalEntries:
    keys = [RecordKey("acme", "time", f"T{i}") for i in range(len(statuses))]
    batches: list[Event] = []

    def batch_of(event: Event) -> int:
        batches.append(event)
        return len(batches)

    _, rows = plan_distinct(
        "acme", keys, list(statuses), events, list(range(len(keys))), at=T0, batch_of=batch_of
    )
    assert all(row[1] >= 1 for row in rows)
    return JournalEntries(keys, statuses, events, at=T0, actor="t")


@given(st.lists(st.tuples(st.sampled_from(_STATUSES), st.sampled_from(_EVENTS)), max_size=12))
def test_entries_equal_those_of_plan_events(pairs: list[tuple[Status, Event]]) -> None:
    keys = [RecordKey("acme", "time", f"T{i}") for i in range(len(pairs))]
    try:
        _, expected = plan_events(
            "acme",
            dict(zip(keys, (s for s, _ in pairs), strict=True)),
            list(zip(keys, (e for _, e in pairs), strict=True)),
            at=T0,
            actor="t",
        )
    except InvalidTransition as refused:
        with pytest.raises(InvalidTransition) as again:
            _plan([s for s, _ in pairs], [e for _, e in pairs])
        assert str(again.value) == str(refused)
        return
    entries = _plan([s for s, _ in pairs], [e for _, e in pairs])
    assert len(entries) == len(expected)
    assert entries == expected
    assert list(entries) == expected
    if expected:
        assert entries[-1] == expected[-1]
        assert entries[1:] == expected[1:]


def test_index_out_of_range_and_unhashable() -> None:
    entries = _plan([Status()], [Event.claim()])
    assert entries[0].idempotency_key == Status().key_for(RecordKey("acme", "time", "T0"))
    with pytest.raises(IndexError):
        entries[1]
    with pytest.raises(TypeError):
        hash(entries)
    assert entries != "not entries"
    assert "1 entries" in repr(entries)


def test_missing_record_is_named() -> None:
    with pytest.raises(RecordNotFound, match="T0"):
        plan_distinct(
            "acme",
            [RecordKey("acme", "time", "T0")],
            [None],
            [Event.claim()],
            [None],
            at=T0,
            batch_of=lambda e: 1,
        )
