"""What every state store shares: the pure event-planning step and row codecs.

A store loads the current statuses of the records an operation touches, calls
:func:`plan_events` (pure: the state machine decides) and writes the result in
one transaction. Row codecs turn statuses and events into flat tuples and
JSON text that SQLite and PostgreSQL store alike.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from json.encoder import encode_basestring
from typing import Any, overload

import attrs

from syncstate.domain.records import RecordKey, SourceRecord
from syncstate.domain.state import (
    Event,
    EventKind,
    ExportState,
    JournalEntry,
    Status,
    apply,
    idempotency_key,
    journal_entry,
)
from syncstate.errors import InputError, RecordNotFound

__all__ = [
    "JOURNAL_READ_COLUMNS",
    "STATUS_COLUMNS",
    "JournalBatches",
    "JournalEntries",
    "check_company",
    "decode_event",
    "encode_event",
    "event_shape",
    "fields_from_json",
    "fields_to_json",
    "journal_entry_from_row",
    "journal_rows",
    "keyed_journal_rows",
    "paused_gc",
    "plan_distinct",
    "plan_events",
    "status_decoder",
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
#: stateless (the scanner keeps nothing between calls), so one is shared
_DECODER = json.JSONDecoder()


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
    # ``_value_`` is the plain attribute behind ``Enum.value`` (a descriptor,
    # several times slower): codecs run once per row of a bulk operation
    return (
        status.state._value_,
        status.generation,
        status.revision,
        status.remote_id,
        status.remote_version,
        status.message,
        None if status.previous is None else status.previous._value_,
        status.worker,
        None if status.lease_until is None else utc(status.lease_until).isoformat(),
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
        lease_until=None if row[8] is None else dt.datetime.fromisoformat(row[8]),
        changed_in_flight=bool(row[9]),
    )


def status_decoder(limit: int = 4096) -> Callable[[Sequence[Any]], Status]:
    """A :func:`status_from_row` for bulk reads: equal rows give one shared ``Status``.

    Statuses are immutable, and the records a bulk operation touches often
    share one status (all freshly claimed, all not exported), so decoding each
    distinct row once saves most of the work. At most ``limit`` distinct rows
    are remembered; once that many were decoded with few rows seen twice (every
    record's status differs, say by remote id), it stops looking rows up. The
    cache lives as long as the returned function.
    """
    cache: dict[tuple[Any, ...], Status] = {}
    lookups = 0  # -1 once caching stopped

    def decode(row: Sequence[Any]) -> Status:
        nonlocal lookups
        if lookups < 0:
            return status_from_row(row)
        lookups += 1
        values = tuple(row)
        status = cache.get(values)
        if status is None:
            status = status_from_row(values)
            if len(cache) < limit:
                cache[values] = status
            elif lookups * 8 < limit * 9:  # fewer than 1 row in 8 was seen twice
                lookups = -1
        return status

    return decode


def encode_event(event: Event) -> str:
    """The event as compact JSON (only the fields it carries).

    Written by hand rather than with ``json.dumps`` (it runs once per journal
    row); the text is the same as ``json.dumps(..., separators=(",", ":"),
    ensure_ascii=False)`` gives, and :func:`decode_event` reads it back.
    """
    parts = ['{"kind":"', event.kind._value_, '"']
    if event.remote_id is not None:
        parts += (',"remote_id":', encode_basestring(event.remote_id))
    if event.remote_version is not None:
        parts += (',"remote_version":', encode_basestring(event.remote_version))
    if event.message is not None:
        parts += (',"message":', encode_basestring(event.message))
    if event.reason:
        parts += (',"reason":', encode_basestring(event.reason))
    if event.worker:
        parts += (',"worker":', encode_basestring(event.worker))
    if event.lease_until is not None:
        parts += (',"lease_until":"', utc(event.lease_until).isoformat(), '"')
    parts.append("}")
    return "".join(parts)


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
    # ``raw_decode`` skips the checks ``json.loads`` wraps around it (about 3x
    # faster for a small object, once per record read); anything but exactly
    # one JSON object goes through ``json.loads`` for its checks and errors
    try:
        data, end = _DECODER.raw_decode(text)
    except json.JSONDecodeError:
        end = -1
    if end != len(text) or not isinstance(data, dict):
        data = json.loads(text)
    return tuple(sorted(data.items()))


def journal_rows(entries: Iterable[JournalEntry]) -> list[tuple[Any, ...]]:
    """Journal entries as rows ``(company, kind, source_id, at, actor, event, from_state,
    to_state, generation, idempotency_key)``; each event object and time is encoded once."""
    # by identity: hashing an Event costs more than encoding a small one, and a
    # bulk operation shares one event object among many entries
    events: dict[int, tuple[Event, str]] = {}
    times: dict[dt.datetime, str] = {}
    rows: list[tuple[Any, ...]] = []
    append = rows.append
    for e in entries:
        event = e.event
        known = events.get(id(event))
        if known is None or known[0] is not event:
            known = events[id(event)] = (event, encode_event(event))
        at = times.get(e.at)
        if at is None:
            at = times[e.at] = e.at.isoformat()
        key = e.key
        append(
            (
                key.company,
                key.kind,
                key.source_id,
                at,
                e.actor,
                known[1],
                e.from_state._value_,
                e.to_state._value_,
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
    append = entries.append
    # The state machine is pure and ``at`` is fixed here, so an event applied to
    # the very status objects of the previous step has the same outcome: bulk
    # operations apply one event object to runs of records that share one
    # (decoded-once) status, and this skips the state machine for all but one.
    last_status: Status | None = None
    last_event: Event | None = None
    last_new = Status()
    for key, event in events:
        if key.company != company:
            check_company(company, key)
        status = current.get(key)
        if status is None:
            status = statuses.get(key)
            if status is None:
                raise RecordNotFound(record=str(key))
        if status is last_status and event is last_event:
            new = last_new
        else:
            new = last_new = apply(key, status, event, at)
            last_status, last_event = status, event
        current[key] = new
        append(journal_entry(key, status, new, event, at=at, actor=actor))
    return current, entries


def event_shape(event: Event) -> Event:
    """``event`` without its per-record payload (remote id and version, message).

    Bulk operations journal the shape once per batch and the payload per row.
    """
    if event.remote_id is None and event.remote_version is None and event.message is None:
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
    " j.to_state, j.generation, j.key_generation, j.key_revision, j.idempotency_key"
)


def journal_entry_from_row(key: RecordKey, at: dt.datetime, row: Sequence[Any]) -> JournalEntry:
    """A stored journal row (:data:`JOURNAL_READ_COLUMNS`, ``at`` already decoded) as an
    entry: the batch's event with the row's payload, and the idempotency key stored as
    text (rows carried over from schema 1) or derived from its generation and revision."""
    event = decode_event(row[2])
    if row[3] is not None or row[4] is not None or row[5] is not None:
        event = attrs.evolve(event, remote_id=row[3], remote_version=row[4], message=row[5])
    return JournalEntry(
        key=key,
        at=at,
        actor=row[1],
        event=event,
        from_state=_STATES[row[6]],
        to_state=_STATES[row[7]],
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
    from_state, to_state, generation, idempotency_key)``."""
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


def plan_distinct(
    company: str,
    keys: Sequence[RecordKey],
    statuses: Sequence[Status | None],
    events: Sequence[Event],
    refs: Sequence[Any],
    *,
    at: dt.datetime,
    batch_of: Callable[[Event], Any],
) -> tuple[list[Status], list[tuple[Any, ...]]]:
    """:func:`plan_events` for bulk operations on distinct records, as parallel lists.

    ``keys[i]`` (all different) at status ``statuses[i]`` (``None``: not
    stored), stored as ``refs[i]`` (the store's row id), receives
    ``events[i]``. Returns the new statuses in the same order and one compact
    journal row per record: ``(ref, batch, remote_id, remote_version, message,
    from_state, to_state, generation, key_generation, key_revision)``, where
    ``batch`` is what ``batch_of`` returns for the event (called once per run
    of one event object; the store keeps time, actor and the event's
    :func:`event_shape` there) and the idempotency key is derived from the
    key, ``key_generation`` and ``key_revision``. :class:`JournalEntries` turns
    the rows back into entries. Same outcome and the same errors, in the same
    order, as :func:`plan_events`, without a dictionary keyed by records
    (hashing :class:`RecordKey` costs more than most of the planning).
    """
    new_statuses: list[Status] = []
    rows: list[tuple[Any, ...]] = []
    add_status, add_row = new_statuses.append, rows.append
    # see plan_events: the outcome of the previous (status, event) pair is reused
    last_status: Status | None = None
    last_event: Event | None = None
    last_new = Status()
    batch: Any = None
    shaped: Event | None = None  # the event batch_of was last asked about
    for key, status, event, ref in zip(keys, statuses, events, refs, strict=True):
        if key.company != company:
            check_company(company, key)
        if status is None:
            raise RecordNotFound(record=str(key))
        if status is last_status and event is last_event:
            new = last_new
        else:
            new = last_new = apply(key, status, event, at)
            if event is not last_event and (
                shaped is None
                # the events of one succeed or fail batch differ by payload only
                or event.kind is not shaped.kind
                or event.reason != shaped.reason
                or event.worker != shaped.worker
                or event.lease_until != shaped.lease_until
            ):
                batch, shaped = batch_of(event), event
            last_status, last_event = status, event
        add_status(new)
        add_row(
            (
                ref,
                batch,
                event.remote_id,
                event.remote_version,
                event.message,
                status.state._value_,
                new.state._value_,
                new.generation,
                status.generation,
                status.revision,
            )
        )
    return new_statuses, rows


@contextlib.contextmanager
def paused_gc(settle_after: int = 10_000) -> Iterator[None]:
    """Pause CPython's cyclic garbage collector for a bulk operation, then restore it.

    A bulk operation allocates hundreds of thousands of small acyclic objects
    (statuses, journal entries, rows); the collector would traverse the whole
    heap again and again meanwhile (a quarter of the time of a 100,000-record
    claim). Reference counting still frees everything. The collector is only
    re-enabled if it was enabled on entry; then, if more than ``settle_after``
    objects were allocated meanwhile, the young generations are collected once
    (survivors move to the oldest generation), so the code that runs next does
    not pay for repeated young collections over all of them.
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()
            if gc.get_count()[0] > settle_after:
                gc.collect(1)
