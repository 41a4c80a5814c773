"""Records and journals as a schema-1 store held them (for the schema upgrade tests)."""

from __future__ import annotations

import datetime as dt

from syncstate.domain.records import SourceRecord
from syncstate.domain.state import Event, EventKind, JournalEntry, Status, transition
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
