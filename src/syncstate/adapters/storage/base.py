"""What every state store shares: the pure event-planning step and row codecs.

A store loads the current statuses of the records an operation touches, calls
:func:`plan_events` (pure: the state machine decides) and writes the result in
one transaction. Row codecs turn statuses and events into flat tuples and
JSON text that SQLite and PostgreSQL store alike.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from syncstate.domain.records import RecordKey, SourceRecord
from syncstate.domain.state import (
    Event,
    EventKind,
    ExportState,
    JournalEntry,
    Status,
    transition,
)
from syncstate.errors import InputError, RecordNotFound

__all__ = [
    "STATUS_COLUMNS",
    "check_company",
    "decode_event",
    "encode_event",
    "fields_from_json",
    "fields_to_json",
    "journal_rows",
    "plan_events",
    "status_from_row",
    "status_to_row",
    "utc",
]

#: status columns, in the order :func:`status_to_row` returns them
STATUS_COLUMNS = (
    "state",
    "generation",
    "revision",
    "remote_id",
    "remote_version",
    "message",
    "previous",
    "worker",
    "lease_until",
    "changed_in_flight",
)

_STATES = {state.value: state for state in ExportState}
_EVENTS = {kind.value: kind for kind in EventKind}


def utc(moment: dt.datetime) -> dt.datetime:
    """``moment`` in UTC; naive datetimes are refused (they are ambiguous)."""
    if moment.tzinfo is None:
        raise InputError(f"timestamp {moment.isoformat()} has no timezone; pass an aware datetime")
    return moment.astimezone(dt.UTC)


def _iso(moment: dt.datetime | None) -> str | None:
    return None if moment is None else utc(moment).isoformat()


def _from_iso(text: str | None) -> dt.datetime | None:
    return None if text is None else dt.datetime.fromisoformat(text)


def check_company(company: str, key: RecordKey) -> None:
    """Refuse a key of another company: no operation may touch two companies."""
    if key.company != company:
        raise InputError(f"record {key} does not belong to company {company!r}")


def status_to_row(status: Status) -> tuple[Any, ...]:
    """The status as a tuple matching :data:`STATUS_COLUMNS`."""
    return (
        status.state.value,
        status.generation,
        status.revision,
        status.remote_id,
        status.remote_version,
        status.message,
        None if status.previous is None else status.previous.value,
        status.worker,
        _iso(status.lease_until),
        1 if status.changed_in_flight else 0,
    )


def status_from_row(row: Sequence[Any]) -> Status:
    """Inverse of :func:`status_to_row`."""
    return Status(
        state=_STATES[row[0]],
        generation=row[1],
        revision=row[2],
        remote_id=row[3],
        remote_version=row[4],
        message=row[5],
        previous=None if row[6] is None else _STATES[row[6]],
        worker=row[7] or "",
        lease_until=_from_iso(row[8]),
        changed_in_flight=bool(row[9]),
    )


def encode_event(event: Event) -> str:
    """The event as compact JSON (only the fields it carries)."""
    data: dict[str, Any] = {"kind": event.kind.value}
    if event.remote_id is not None:
        data["remote_id"] = event.remote_id
    if event.remote_version is not None:
        data["remote_version"] = event.remote_version
    if event.message is not None:
        data["message"] = event.message
    if event.reason:
        data["reason"] = event.reason
    if event.worker:
        data["worker"] = event.worker
    if event.lease_until is not None:
        data["lease_until"] = _iso(event.lease_until)
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def decode_event(text: str) -> Event:
    """Inverse of :func:`encode_event`."""
    data = json.loads(text)
    return Event(
        kind=_EVENTS[data["kind"]],
        remote_id=data.get("remote_id"),
        remote_version=data.get("remote_version"),
        message=data.get("message"),
        reason=data.get("reason", ""),
        worker=data.get("worker", ""),
        lease_until=_from_iso(data.get("lease_until")),
    )


def fields_to_json(record: SourceRecord) -> str:
    """A record's fields as compact JSON."""
    return json.dumps(dict(record.fields), separators=(",", ":"), ensure_ascii=False)


def fields_from_json(text: str) -> tuple[tuple[str, str], ...]:
    """Inverse of :func:`fields_to_json`, in the frozen (sorted pairs) form records hold."""
    data: dict[str, str] = json.loads(text)
    return tuple(sorted(data.items()))


def journal_rows(entries: Iterable[JournalEntry]) -> list[tuple[Any, ...]]:
    """Journal entries as rows ``(company, kind, source_id, at, actor, event, from_state,
    to_state, generation, idempotency_key)``; equal events and times are encoded once."""
    events: dict[Event, str] = {}
    times: dict[dt.datetime, str] = {}
    rows = []
    for e in entries:
        text = events.get(e.event)
        if text is None:
            text = events[e.event] = encode_event(e.event)
        at = times.get(e.at)
        if at is None:
            at = times[e.at] = e.at.isoformat()
        key = e.key
        rows.append(
            (
                key.company,
                key.kind,
                key.source_id,
                at,
                e.actor,
                text,
                e.from_state.value,
                e.to_state.value,
                e.generation,
                e.idempotency_key,
            )
        )
    return rows


def plan_events(
    company: str,
    statuses: Mapping[RecordKey, Status],
    events: Iterable[tuple[RecordKey, Event]],
    *,
    at: dt.datetime,
    actor: str,
) -> tuple[dict[RecordKey, Status], list[JournalEntry]]:
    """Apply ``events`` in order to ``statuses``; return new statuses and journal entries.

    Pure. Raises :class:`RecordNotFound` for an unknown key and
    :class:`~syncstate.errors.InvalidTransition` for a forbidden event; the
    caller then writes nothing.
    """
    current: dict[RecordKey, Status] = {}
    entries: list[JournalEntry] = []
    for key, event in events:
        check_company(company, key)
        status = current.get(key)
        if status is None:
            status = statuses.get(key)
            if status is None:
                raise RecordNotFound(record=str(key))
        status, entry = transition(key, status, event, at=at, actor=actor)
        current[key] = status
        entries.append(entry)
    return current, entries
