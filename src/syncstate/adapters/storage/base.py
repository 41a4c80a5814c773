"""What every state store shares: the pure event-planning step and row codecs.

A store loads the current statuses of the records an operation touches, calls
:func:`plan_events` (pure: the state machine decides) and writes the result in
one transaction. Row codecs turn statuses and events into flat tuples and
JSON text that SQLite and PostgreSQL store alike. The planning both SQL stores
share lives here too: the select lists they read records and statuses with, and
the steps between loading the statuses an operation touches (:data:`Found`) and
writing the outcome (:func:`found_statuses`, :func:`plan_found`,
:func:`incoming_records`, :func:`newly_outdated`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from json.encoder import encode_basestring
from typing import Any, TypeVar

from syncstate.domain.records import RecordKey, SourceRecord
from syncstate.domain.state import (
    Event,
    EventKind,
    ExportState,
    JournalEntry,
    Status,
    apply,
    journal_entry,
)
from syncstate.errors import InputError, RecordNotFound, StorageError

__all__ = [
    "RECORD_SELECT",
    "STATUS_COLUMNS",
    "STATUS_SELECT",
    "Found",
    "check_company",
    "decode_event",
    "encode_event",
    "fields_from_json",
    "fields_to_json",
    "found_statuses",
    "incoming_records",
    "newly_outdated",
    "paused_gc",
    "plan_distinct",
    "plan_events",
    "plan_found",
    "status_decoder",
    "status_from_row",
    "status_runs",
    "status_to_row",
    "utc",
]

_Ref = TypeVar("_Ref")
_Row = TypeVar("_Row", bound=tuple[Any, ...])

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
    "remote_number",
)
#: the status columns as a select list
STATUS_SELECT = ", ".join(STATUS_COLUMNS)
#: a stored record's columns, then its status columns, as a select list: the row both SQL
#: stores read a record and its status from
RECORD_SELECT = f"company, kind, source_id, on_date, subject, fields, hash, {STATUS_SELECT}"

#: the stored records an operation touches, as a SQL store loads them: kind, then source
#: id, to the record's row id and current status
Found = dict[str, dict[str, tuple[int, Status]]]

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
        status.remote_number,
    )


def status_from_row(row: Sequence[Any]) -> Status:
    """Inverse of :func:`status_to_row`; a damaged row is a :class:`StorageError`."""
    try:
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
            remote_number=row[10],
        )
    except (KeyError, ValueError, TypeError, IndexError) as exc:
        raise StorageError(
            f"a stored export status is damaged (state {row[0]!r}, previous {row[6]!r}, "
            f"lease_until {row[8]!r}: {exc}); `syncstate check` names the records"
        ) from None


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
    if event.remote_number is not None:
        parts += (',"remote_number":', encode_basestring(event.remote_number))
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
        remote_number=data.get("remote_number"),
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
        try:
            data = json.loads(text)
        except (ValueError, TypeError, RecursionError) as exc:
            raise StorageError(
                f"a stored record's fields are not valid JSON ({exc}); "
                "`syncstate check` names the records"
            ) from None
        if not isinstance(data, dict):
            raise StorageError("a stored record's fields are not a JSON object")
    return tuple(sorted(data.items()))


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
    from_state, to_state, generation, key_generation, key_revision, remote_number)``. ``batch``
    is what ``batch_of`` returns for the event, asked again only when an event's
    shape (:func:`~syncstate.adapters.storage.journal.event_shape`) differs from
    the last one asked about; the idempotency key is derived from the key,
    ``key_generation`` and ``key_revision``. Same outcome and the same errors, in
    the same order, as :func:`plan_events`, without a dictionary keyed by records
    (hashing :class:`RecordKey` costs more than most of the planning);
    :class:`~syncstate.adapters.storage.journal.JournalEntries` gives the entries.
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
                event.remote_number,
            )
        )
    return new_statuses, rows


def status_runs(
    refs: Sequence[_Ref], statuses: Sequence[Status], to_row: Callable[[Status], _Row]
) -> tuple[list[tuple[_Ref, _Row]], dict[_Row, list[_Ref]]]:
    """How to write ``statuses[i]`` to record ``refs[i]``: runs of records sharing one
    status object (a bulk claim, a reset) become groups, one per distinct row (equal
    rows of separate runs merged), to be written with one statement each; a record
    alone is a single ``(ref, row)``. ``to_row`` runs once per run, not per record."""
    singles: list[tuple[_Ref, _Row]] = []
    groups: dict[_Row, list[_Ref]] = {}
    last: Status | None = None
    row: Any = None
    first: Any = None
    more: list[_Ref] | None = None
    for ref, status in zip(refs, statuses, strict=True):
        if status is last:
            if more is None:
                more = [first, ref]
            else:
                more.append(ref)
            continue
        if last is not None:
            if more is None:
                singles.append((first, row))
            else:
                groups.setdefault(row, []).extend(more)
        last, row, first, more = status, to_row(status), ref, None
    if last is not None:
        if more is None:
            singles.append((first, row))
        else:
            groups.setdefault(row, []).extend(more)
    return singles, groups


def incoming_records(
    company: str, records: Iterable[SourceRecord]
) -> dict[RecordKey, SourceRecord]:
    """The records an ingest receives, by key (a key given twice: the last record wins).

    Raises :class:`~syncstate.errors.InputError` for a record of another company.
    """
    incoming: dict[RecordKey, SourceRecord] = {}
    for record in records:
        check_company(company, record.key)
        incoming[record.key] = record
    return incoming


def newly_outdated(
    keys: Sequence[RecordKey], before: Sequence[Status | None], after: Sequence[Status]
) -> tuple[RecordKey, ...]:
    """The ``keys[i]`` a changed source made outdated: ``after[i]`` is, ``before[i]`` was not."""
    return tuple(
        key
        for key, old, new in zip(keys, before, after, strict=True)
        if new.state is ExportState.OUTDATED
        and old is not None
        and old.state is not ExportState.OUTDATED
    )


def found_statuses(
    keys: Sequence[RecordKey], found: Found
) -> tuple[list[Status | None], list[int | None]]:
    """The status and row id of each of ``keys`` in ``found``, in order (``None``, ``None``
    for a key not stored): the parallel lists :func:`plan_distinct` takes."""
    before: list[Status | None] = []
    ids: list[int | None] = []
    add_before, add_id = before.append, ids.append
    last_kind: str | None = None
    of_kind: dict[str, tuple[int, Status]] = {}
    for key in keys:
        if key.kind != last_kind:  # keys come in runs of one kind: look the kind up once
            last_kind = key.kind
            of_kind = found.get(last_kind, {})
        hit = of_kind.get(key.source_id)
        if hit is None:
            add_before(None)
            add_id(None)
        else:
            add_id(hit[0])
            add_before(hit[1])
    return before, ids


def plan_found(
    company: str,
    batch: Sequence[tuple[RecordKey, Event]],
    found: Found,
    *,
    at: dt.datetime,
    actor: str,
) -> tuple[dict[RecordKey, Status], list[JournalEntry]]:
    """:func:`plan_events` for ``batch`` (which may name a record more than once) against
    the statuses ``found``: the new status of each record touched, and the entries."""
    current: dict[RecordKey, Status] = {}
    for key, _ in batch:
        of_kind = found.get(key.kind)
        hit = None if of_kind is None else of_kind.get(key.source_id)
        if hit is not None:
            current[key] = hit[1]
    return plan_events(company, current, batch, at=at, actor=actor)


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
