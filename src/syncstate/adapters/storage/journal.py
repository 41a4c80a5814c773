"""The compact journal both SQL stores keep (state schema 2), and its read-back.

An operation writes one *batch* per event shape (time, actor, and the event
without its per-record payload: :func:`event_shape`) and one row per transition
(the record's id, its batch, the payload, the states, the generation, and the
generation and revision the idempotency key is derived from). This module turns
events into batches (:class:`JournalBatches`), stored rows back into entries
(:func:`journal_entry_from_row`), entries planned by
:func:`~syncstate.adapters.storage.base.plan_events` into rows
(:func:`keyed_journal_rows`), and offers the lazily built entries a bulk
operation returns (:class:`JournalEntries`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, overload

import attrs

from syncstate.adapters.storage.base import decode_event, encode_event
from syncstate.domain.records import RecordKey
from syncstate.domain.state import (
    Event,
    ExportState,
    JournalEntry,
    Status,
    apply,
    idempotency_key,
    journal_entry,
)

__all__ = [
    "JOURNAL_READ_COLUMNS",
    "JournalBatches",
    "JournalEntries",
    "event_shape",
    "journal_entry_from_row",
    "keyed_journal_rows",
]


def event_shape(event: Event) -> Event:
    """``event`` without its per-record payload (remote id, version and number, message).

    Bulk operations journal the shape once per batch and the payload per row.
    """
    if (
        event.remote_id is None
        and event.remote_version is None
        and event.remote_number is None
        and event.message is None
    ):
        return event
    return Event(
        kind=event.kind,
        reason=event.reason,
        worker=event.worker,
        lease_until=event.lease_until,
    )


class JournalBatches:
    """The journal batches of one write transaction, as ``batch_of`` for :func:`plan_distinct`.

    One batch per event shape (what :func:`event_shape` keeps), created when first
    needed by ``insert``, which stores the shape's JSON with the operation's time and
    actor and returns the new batch's id.
    """

    __slots__ = ("_ids", "_insert")

    def __init__(self, insert: Callable[[str], int]) -> None:
        self._insert = insert
        self._ids: dict[tuple[Any, ...], int] = {}

    def __call__(self, event: Event) -> int:
        """The batch of ``event``."""
        shape = (event.kind, event.reason, event.worker, event.lease_until)
        batch = self._ids.get(shape)
        if batch is None:
            batch = self._ids[shape] = self._insert(encode_event(event_shape(event)))
        return batch


#: the columns a store reads a journal row back with, in the order
#: :func:`journal_entry_from_row` takes them (``b``: the batch, ``j``: the row)
JOURNAL_READ_COLUMNS = (
    "b.at, b.actor, b.event, j.remote_id, j.remote_version, j.message, j.from_state,"
    " j.to_state, j.generation, j.key_generation, j.key_revision, j.idempotency_key,"
    " j.remote_number"
)


def journal_entry_from_row(key: RecordKey, at: dt.datetime, row: Sequence[Any]) -> JournalEntry:
    """A stored journal row (:data:`JOURNAL_READ_COLUMNS`, ``at`` already decoded) as an
    entry: the batch's event with the row's payload, and the idempotency key stored as
    text (rows carried over from schema 1) or derived from its generation and revision."""
    event = decode_event(row[2])
    if row[3] is not None or row[4] is not None or row[5] is not None or row[12] is not None:
        event = attrs.evolve(
            event, remote_id=row[3], remote_version=row[4], remote_number=row[12], message=row[5]
        )
    return JournalEntry(
        key=key,
        at=at,
        actor=row[1],
        event=event,
        from_state=ExportState(row[6]),
        to_state=ExportState(row[7]),
        generation=row[8],
        idempotency_key=row[11] or idempotency_key(key, row[9], row[10]),
    )


def keyed_journal_rows(
    entries: Iterable[JournalEntry],
    ref_of: Callable[[RecordKey], Any],
    batch_of: Callable[[Event], Any],
) -> list[tuple[Any, ...]]:
    """Journal rows of entries :func:`plan_events` planned (a record may repeat), with
    the idempotency key as text: ``(ref, batch, remote_id, remote_version, message,
    from_state, to_state, generation, idempotency_key, remote_number)``."""
    return [
        (
            ref_of(e.key),
            batch_of(e.event),
            e.event.remote_id,
            e.event.remote_version,
            e.event.message,
            e.from_state._value_,
            e.to_state._value_,
            e.generation,
            e.idempotency_key,
            e.event.remote_number,
        )
        for e in entries
    ]


class JournalEntries(Sequence[JournalEntry]):
    """The journal entries of a bulk operation, built when read.

    A store that has just written compact journal rows returns this instead of
    a list of :class:`JournalEntry` objects: most callers of a 100,000-record
    operation only count them, and building each entry (with its idempotency
    key) would cost more than writing it. Entry ``i`` is the transition of
    ``keys[i]`` from ``before[i]`` by ``events[i]``, recomputed by the pure state
    machine when read, so it equals the entry :func:`plan_events` gives; ``==``
    compares with any sequence of entries.
    """

    __slots__ = ("_actor", "_at", "_before", "_events", "_keys")

    def __init__(
        self,
        keys: Sequence[RecordKey],
        before: Sequence[Status],
        events: Sequence[Event],
        *,
        at: dt.datetime,
        actor: str,
    ) -> None:
        self._keys, self._before, self._events = keys, before, events
        self._at, self._actor = at, actor

    def __len__(self) -> int:
        return len(self._keys)

    def _entry(self, i: int) -> JournalEntry:
        key, before, event = self._keys[i], self._before[i], self._events[i]
        after = apply(key, before, event, self._at)
        return journal_entry(key, before, after, event, at=self._at, actor=self._actor)

    @overload
    def __getitem__(self, index: int) -> JournalEntry: ...

    @overload
    def __getitem__(self, index: slice) -> list[JournalEntry]: ...

    def __getitem__(self, index: int | slice) -> JournalEntry | list[JournalEntry]:
        if isinstance(index, slice):
            return [self._entry(i) for i in range(len(self))[index]]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError("journal entry index out of range")
        return self._entry(index)

    def __iter__(self) -> Iterator[JournalEntry]:
        return (self._entry(i) for i in range(len(self._keys)))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, str | bytes):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]  # mutable-sequence semantics: unhashable

    def __repr__(self) -> str:
        return f"<JournalEntries: {len(self)} entries at {self._at.isoformat()} by {self._actor}>"
