"""Records and journals as a schema-1 store held them (for the schema upgrade tests)."""

from __future__ import annotations

import datetime as dt

from syncstate.domain.records import RecordKey, SourceRecord
from syncstate.domain.state import (
    Event,
    EventKind,
    ExportState,
    JournalEntry,
    Status,
    replay,
    transition,
)
from syncstate.ports import StateStore
from syncstate.testing.store_contract import make_time_records

T0 = dt.datetime(2026, 3, 1, 8, tzinfo=dt.UTC)

_HISTORIES = {
    0: [Event.claim(worker="w1", lease_until=T0 + dt.timedelta(minutes=10))],
    1: [Event.claim(worker="w1"), Event.succeed("R-1", "3")],
    2: [Event.claim(), Event.fail("Customer 'Acme' is inactive"), Event.claim()],
    3: [
        Event.claim(),
        Event.succeed("R-3", "0"),
        Event.of(EventKind.RESET, "re-export March"),
        Event.of(EventKind.UNLINK, "duplicate in payroll"),
    ],
}


def schema_1_history() -> list[tuple[SourceRecord, Status, list[JournalEntry]]]:
    """Six records in each of two companies, with the statuses and journal entries their
    histories give (each step a minute apart, by a different actor)."""
    out = []
    for company in ("acme", "zenith"):
        for i, record in enumerate(make_time_records(company, 6, employees=2)):
            status, entries = Status(), []
            for step, event in enumerate(_HISTORIES.get(i, [])):
                at = T0 + dt.timedelta(minutes=step)
                status, entry = transition(record.key, status, event, at=at, actor=f"user{step}")
                entries.append(entry)
            out.append((record, status, entries))
    return out


def check_upgraded(store: StateStore, journals: dict[RecordKey, list[JournalEntry]]) -> None:
    """What an upgraded store must show: every carried-over journal entry reads back
    equal and replays to the stored status, and a new transition appends after them
    without touching the other company."""
    for key, entries in journals.items():
        assert store.journal(key) == entries
        assert store.get(key).status == replay(key, entries)
    unlinked = next(k for k, e in journals.items() if e and e[-1].to_state.value == "unlinked")
    assert store.get(unlinked).status.generation == 1
    claimed = next(k for k, e in journals.items() if len(e) == 1 and k.company == "acme")
    zenith = store.counts("zenith")
    store.apply(
        "acme",
        [(claimed, Event.succeed("R-9", "1"))],
        at=T0 + dt.timedelta(hours=1),
        actor="after-upgrade",
    )
    after = store.journal(claimed)
    assert after[:1] == journals[claimed]
    assert [e.actor for e in after] == ["user0", "after-upgrade"]
    assert after[1].event == Event.succeed("R-9", "1")
    assert after[1].idempotency_key == journals[claimed][0].idempotency_key
    assert store.get(claimed).status == replay(claimed, after)
    assert store.counts("zenith") == zenith
    assert store.counts("acme")[ExportState.EXPORTED] == zenith[ExportState.EXPORTED] + 1
