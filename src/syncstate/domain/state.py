"""The export-state machine: states, events, the transition table, the journal.

Pure: no I/O and no clock. The time of a transition is passed in.

::

    not_exported ──claim──▶ in_flight ──succeed──▶ exported ──source_changed──▶ outdated
         ▲  ▲                │   │                   │  │                         │
         │  └────release─────┘   └──fail──▶ failed   │  └──reset / unexport──┐    claim
         │                                   │  claim│                       │     │
         └───────────────reset (new generation)──────┴───────────────────────┘     ▼
                                                                               in_flight
    any state but in_flight ──unlink──▶ unlinked ──relink──▶ the state it left
    not_exported / failed ──mark_historical──▶ historical (never sent)

:func:`apply` applies one :class:`Event` to a :class:`Status` or raises
:class:`~syncstate.errors.InvalidTransition`. :func:`transition` does the same
and also returns the :class:`JournalEntry` to append. :func:`replay` rebuilds a
status from journal entries alone, so the journal is the truth.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import hashlib
import uuid
from collections.abc import Iterable

import attrs

from syncstate.domain.records import RecordKey
from syncstate.errors import InvalidTransition

__all__ = [
    "EXPORTABLE",
    "HIDDEN",
    "Event",
    "EventKind",
    "ExportState",
    "JournalEntry",
    "Status",
    "apply",
    "idempotency_key",
    "journal_entry",
    "replay",
    "transition",
]

_KEY_NAMESPACE = uuid.UUID("6f1d6c1e-3c55-4c0e-9a55-73796e637374")
_KEY_NAMESPACE_BYTES = _KEY_NAMESPACE.bytes
#: hex digit 16 of a key: the RFC 4122 variant bits (10xx) over the digest's low two bits
_VARIANT = {d: "89ab"[int(d, 16) & 3] for d in "0123456789abcdef"}


class ExportState(enum.Enum):
    """Where a record stands with respect to the back end."""

    NOT_EXPORTED = "not_exported"
    IN_FLIGHT = "in_flight"
    EXPORTED = "exported"
    FAILED = "failed"
    OUTDATED = "outdated"
    UNLINKED = "unlinked"
    HISTORICAL = "historical"


class EventKind(enum.Enum):
    """What can happen to a record."""

    CLAIM = "claim"
    SUCCEED = "succeed"
    FAIL = "fail"
    RELEASE = "release"
    SOURCE_CHANGED = "source_changed"
    RESET = "reset"
    UNEXPORT = "unexport"
    UNLINK = "unlink"
    RELINK = "relink"
    MARK_HISTORICAL = "mark_historical"
    #: undo a wrong historical cutoff (only for records never sent)
    UNMARK_HISTORICAL = "unmark_historical"
    #: an operator hands back a dead worker's claim: the lease ends now, and the next
    #: claim is a takeover (the record is looked up before anything is resent)
    RECOVER = "recover"
    #: the claiming worker extends its lease (heartbeat during a long send)
    RENEW = "renew"


#: States an export run may claim.
EXPORTABLE = frozenset({ExportState.NOT_EXPORTED, ExportState.FAILED, ExportState.OUTDATED})
#: States hidden from export selections.
HIDDEN = frozenset({ExportState.EXPORTED, ExportState.UNLINKED, ExportState.HISTORICAL})


def idempotency_key(key: RecordKey, generation: int, revision: int) -> str:
    """The idempotency key of an export attempt: 36 characters, deterministic.

    Derived from the record, its export generation (bumped by reset and
    unexport) and its revision (bumped by each confirmed export, so an
    overwrite of an outdated record gets a key of its own, and by each
    failure, so a retry after a refusal is not answered with the replayed refusal).
    """
    name = f"{key.company}\x1f{key.kind}\x1f{key.source_id}\x1f{generation}\x1f{revision}"
    # a UUID version 5 (RFC 4122), computed directly: this runs once per transition.
    # Version nibble (hex digit 12) is 5; variant bits (digit 16) are 10xx.
    h = hashlib.sha1(_KEY_NAMESPACE_BYTES + name.encode("utf-8")).hexdigest()
    return f"{h[:8]}-{h[8:12]}-5{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:32]}"


@attrs.frozen(kw_only=True)
class Event:
    """One event with its payload.

    ``remote_id`` / ``remote_version`` / ``remote_number`` (the number the back end
    shows people: QuickBooks ``DocNumber``, Xero ``InvoiceNumber``) go with
    ``succeed``; ``message`` with
    ``fail``; ``reason`` with any event (required for ``unlink`` and ``reset``);
    ``worker`` and ``lease_until`` with ``claim``.
    """

    kind: EventKind
    remote_id: str | None = None
    remote_version: str | None = None
    remote_number: str | None = None
    message: str | None = None
    reason: str = ""
    worker: str = ""
    lease_until: dt.datetime | None = None

    @classmethod
    def claim(cls, *, worker: str = "", lease_until: dt.datetime | None = None) -> Event:
        """Claim a record for an export attempt."""
        return cls(kind=EventKind.CLAIM, worker=worker, lease_until=lease_until)

    @classmethod
    def succeed(
        cls, remote_id: str, remote_version: str | None = None, remote_number: str | None = None
    ) -> Event:
        """The back end confirmed the document ``remote_id`` at ``remote_version``.

        ``remote_number`` is the document number the back end shows (``None``: it
        gave none; a document that keeps its remote id keeps its number).
        """
        return cls(
            kind=EventKind.SUCCEED,
            remote_id=remote_id,
            remote_version=remote_version,
            remote_number=remote_number,
        )

    @classmethod
    def fail(cls, message: str) -> Event:
        """The back end rejected the document with a validation ``message``."""
        return cls(kind=EventKind.FAIL, message=message)

    @classmethod
    def of(cls, kind: EventKind, reason: str = "") -> Event:
        """An event without payload (release, source_changed, reset, unlink, ...)."""
        return cls(kind=kind, reason=reason)


@attrs.frozen(kw_only=True)
class Status:
    """The export status of one record."""

    state: ExportState = ExportState.NOT_EXPORTED
    generation: int = 0
    revision: int = 0
    remote_id: str | None = None
    remote_version: str | None = None
    #: the document number the back end shows people (QuickBooks ``DocNumber``)
    remote_number: str | None = None
    message: str | None = None
    previous: ExportState | None = None
    worker: str = ""
    lease_until: dt.datetime | None = None
    changed_in_flight: bool = False

    def key_for(self, key: RecordKey) -> str:
        """The idempotency key of the current (or next) export attempt."""
        return idempotency_key(key, self.generation, self.revision)


@attrs.frozen(kw_only=True)
class JournalEntry:
    """One transition, as written to the append-only journal."""

    key: RecordKey
    at: dt.datetime
    actor: str
    event: Event
    from_state: ExportState
    to_state: ExportState
    generation: int
    idempotency_key: str


_T = EventKind
_S = ExportState

_ALLOWED: dict[EventKind, frozenset[ExportState]] = {
    _T.CLAIM: frozenset({_S.NOT_EXPORTED, _S.FAILED, _S.OUTDATED, _S.IN_FLIGHT}),
    _T.SUCCEED: frozenset({_S.IN_FLIGHT}),
    _T.FAIL: frozenset({_S.IN_FLIGHT}),
    _T.RELEASE: frozenset({_S.IN_FLIGHT}),
    _T.SOURCE_CHANGED: frozenset(_S),
    _T.RESET: frozenset({_S.EXPORTED, _S.OUTDATED, _S.FAILED}),
    _T.UNEXPORT: frozenset({_S.EXPORTED, _S.OUTDATED}),
    _T.UNLINK: frozenset(_S) - {_S.IN_FLIGHT, _S.UNLINKED},
    _T.RELINK: frozenset({_S.UNLINKED}),
    _T.MARK_HISTORICAL: frozenset({_S.NOT_EXPORTED, _S.FAILED}),
    _T.UNMARK_HISTORICAL: frozenset({_S.HISTORICAL}),
    _T.RECOVER: frozenset({_S.IN_FLIGHT}),
    _T.RENEW: frozenset({_S.IN_FLIGHT}),
}
#: the same table by value: ``Enum.__hash__`` is Python code, a ``str`` caches its hash, and
#: this test runs once per record of every bulk operation
_ALLOWED_VALUES: dict[str, frozenset[str]] = {
    kind._value_: frozenset(state._value_ for state in states) for kind, states in _ALLOWED.items()
}


@functools.lru_cache(maxsize=256)
def _fresh(generation: int) -> Status:
    """The status a reset leaves: not exported, in ``generation``.

    Statuses are immutable, so a bulk reset shares one object per generation
    (stores then write the records sharing it with one statement).
    """
    return Status(generation=generation)


def _refuse(key: RecordKey, status: Status, event: Event, detail: str = "") -> InvalidTransition:
    return InvalidTransition(
        record=str(key), state=status.state.value, event=event.kind.value, detail=detail
    )


def apply(key: RecordKey, status: Status, event: Event, at: dt.datetime) -> Status:
    """Apply ``event`` to ``status`` at time ``at``; raise ``InvalidTransition`` if not allowed."""
    # The frequent transitions build the Status directly rather than with
    # attrs.evolve: this runs once per record in bulk operations, and direct
    # construction is about twice as fast.
    kind, state = event.kind, status.state
    if state._value_ not in _ALLOWED_VALUES[kind._value_]:
        raise _refuse(key, status, event)
    if kind is _T.CLAIM:
        if state is _S.IN_FLIGHT:
            if status.lease_until is not None and at < status.lease_until:
                raise _refuse(
                    key,
                    status,
                    event,
                    f"claimed by {status.worker or 'another worker'} "
                    f"until {status.lease_until.isoformat()}",
                )
            return Status(
                state=state,
                generation=status.generation,
                revision=status.revision,
                remote_id=status.remote_id,
                remote_version=status.remote_version,
                remote_number=status.remote_number,
                message=status.message,
                # a takeover: the dead holder may have sent it, so the new holder must
                # look it up before sending, and a release keeps it in flight
                previous=_S.IN_FLIGHT,
                worker=event.worker,
                lease_until=event.lease_until,
                changed_in_flight=status.changed_in_flight,
            )
        return Status(
            state=_S.IN_FLIGHT,
            generation=status.generation,
            revision=status.revision,
            remote_id=status.remote_id,
            remote_version=status.remote_version,
            remote_number=status.remote_number,
            message=status.message,
            previous=state,
            worker=event.worker,
            lease_until=event.lease_until,
            changed_in_flight=False,
        )
    if kind is _T.SUCCEED:
        if not event.remote_id:
            raise _refuse(key, status, event, "succeed needs a remote id")
        return Status(
            state=_S.OUTDATED if status.changed_in_flight else _S.EXPORTED,
            generation=status.generation,
            revision=status.revision + 1,
            remote_id=event.remote_id,
            remote_version=event.remote_version,
            remote_number=(
                event.remote_number
                if event.remote_number is not None or event.remote_id != status.remote_id
                else status.remote_number
            ),
        )
    if kind is _T.FAIL:
        # nothing was created remotely, so the next attempt gets a key of its own: a back
        # end that replays keys (QuickBooks requestid) would otherwise replay the refusal
        return Status(
            state=_S.FAILED,
            generation=status.generation,
            revision=status.revision + 1,
            remote_id=status.remote_id,
            remote_version=status.remote_version,
            remote_number=status.remote_number,
            message=event.message or "failed",
        )
    if kind is _T.RELEASE:
        back = status.previous or _S.NOT_EXPORTED
        if status.changed_in_flight and back is _S.EXPORTED:
            back = _S.OUTDATED
        return Status(
            state=back,
            generation=status.generation,
            revision=status.revision,
            remote_id=status.remote_id,
            remote_version=status.remote_version,
            remote_number=status.remote_number,
            message=status.message,
            previous=_S.IN_FLIGHT if back is _S.IN_FLIGHT else None,
            changed_in_flight=status.changed_in_flight if back is _S.IN_FLIGHT else False,
        )
    if kind is _T.SOURCE_CHANGED:
        if state is _S.EXPORTED:
            return Status(
                state=_S.OUTDATED,
                generation=status.generation,
                revision=status.revision,
                remote_id=status.remote_id,
                remote_version=status.remote_version,
                remote_number=status.remote_number,
                message=status.message,
                previous=status.previous,
                worker=status.worker,
                lease_until=status.lease_until,
                changed_in_flight=status.changed_in_flight,
            )
        if state is _S.IN_FLIGHT:
            return attrs.evolve(status, changed_in_flight=True)
        if state is _S.UNLINKED and status.previous is _S.EXPORTED:
            return attrs.evolve(status, previous=_S.OUTDATED)
        return status
    if kind in (_T.RESET, _T.UNEXPORT):
        return _fresh(status.generation + 1)
    if kind is _T.UNLINK:
        return attrs.evolve(status, state=_S.UNLINKED, previous=state)
    if kind is _T.RELINK:
        return attrs.evolve(status, state=status.previous or _S.NOT_EXPORTED, previous=None)
    if kind is _T.UNMARK_HISTORICAL:
        if status.remote_id is not None:
            raise _refuse(key, status, event, "it has a remote document; it was sent before")
        return attrs.evolve(status, state=_S.NOT_EXPORTED, message=None, previous=None)
    if kind is _T.RECOVER:
        # the lease ends now; a claim that follows is a takeover (previous: in flight)
        return attrs.evolve(status, lease_until=at, previous=_S.IN_FLIGHT)
    if kind is _T.RENEW:
        if event.worker != status.worker:
            raise _refuse(key, status, event, f"claimed by {status.worker or 'another worker'}")
        if status.lease_until is not None and status.lease_until < at:
            raise _refuse(key, status, event, "the lease has already run out")
        return attrs.evolve(status, lease_until=event.lease_until)
    # MARK_HISTORICAL
    return attrs.evolve(status, state=_S.HISTORICAL, message=None)


def journal_entry(
    key: RecordKey,
    before: Status,
    after: Status,
    event: Event,
    *,
    at: dt.datetime,
    actor: str,
) -> JournalEntry:
    """The journal entry of ``event`` taking ``key`` from ``before`` to ``after``.

    The idempotency key is the one of the attempt the event belongs to (``before``'s).
    """
    return JournalEntry(
        key=key,
        at=at,
        actor=actor,
        event=event,
        from_state=before.state,
        to_state=after.state,
        generation=after.generation,
        idempotency_key=idempotency_key(key, before.generation, before.revision),
    )


def transition(
    key: RecordKey, status: Status, event: Event, *, at: dt.datetime, actor: str
) -> tuple[Status, JournalEntry]:
    """Apply ``event`` and return the new status with its journal entry."""
    new = apply(key, status, event, at)
    return new, journal_entry(key, status, new, event, at=at, actor=actor)


def replay(key: RecordKey, entries: Iterable[JournalEntry]) -> Status:
    """Rebuild a record's status from its journal entries (oldest first)."""
    status = Status()
    for entry in entries:
        status = apply(key, status, entry.event, entry.at)
    return status
