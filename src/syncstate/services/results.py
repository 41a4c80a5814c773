"""Sync results: what went where, what failed and why; unlink and relink.

:func:`sync_results` is the *Sync Results* view of an accounting integration: per company,
filtered (linked / unlinked / failed / pending / all), searched by source id, remote id
or document number, paged in a stable order. Each failed row carries the back
end's validation message and when it failed.

:func:`unlink` takes records out of every future sync and export while keeping
them and their history; :func:`relink` puts them back in the state they left
(a failed record is retried, an exported one stays exported). Both are
journaled transitions and work in bulk, atomically.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
from collections import Counter
from collections.abc import Iterable
from typing import Any

import attrs

from syncstate.domain.records import RecordKey
from syncstate.domain.state import Event, EventKind, ExportState, JournalEntry
from syncstate.errors import EmptySelectionError, InputError
from syncstate.notebook import Tabular, compact_repr
from syncstate.ports import Clock, StateStore, StoredRecord, SystemClock

__all__ = ["ResultFilter", "SyncResult", "SyncResultsPage", "relink", "sync_results", "unlink"]

log = logging.getLogger(__name__)


class ResultFilter(enum.Enum):
    """Which records a sync results view shows."""

    ALL = "all"
    LINKED = "linked"
    UNLINKED = "unlinked"
    FAILED = "failed"
    #: waiting for an export: not exported yet, in flight, or changed since (outdated)
    PENDING = "pending"


_STATES: dict[ResultFilter, frozenset[ExportState] | None] = {
    ResultFilter.ALL: None,
    ResultFilter.LINKED: frozenset({ExportState.EXPORTED, ExportState.OUTDATED}),
    ResultFilter.UNLINKED: frozenset({ExportState.UNLINKED}),
    ResultFilter.FAILED: frozenset({ExportState.FAILED}),
    ResultFilter.PENDING: frozenset(
        {ExportState.NOT_EXPORTED, ExportState.IN_FLIGHT, ExportState.OUTDATED}
    ),
}


@attrs.frozen(kw_only=True)
class SyncResult:
    """One row of the sync results view."""

    key: RecordKey
    state: ExportState
    subject: str
    on: dt.date
    remote_id: str | None
    doc_number: str | None
    message: str | None
    failed_at: dt.datetime | None
    unlink_reason: str | None

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON: dates and times as ISO text."""
        row = self.to_record()
        row["date"] = self.on.isoformat()
        row["failed_at"] = None if self.failed_at is None else self.failed_at.isoformat()
        return row

    def to_record(self) -> dict[str, Any]:
        """One table row: the same keys as :meth:`to_dict`, dates and times as values."""
        return {
            "kind": self.key.kind,
            "source_id": self.key.source_id,
            "state": self.state.value,
            "subject": self.subject,
            "date": self.on,
            "remote_id": self.remote_id,
            "doc_number": self.doc_number,
            "message": self.message,
            "failed_at": self.failed_at,
            "unlink_reason": self.unlink_reason,
        }


@attrs.frozen(kw_only=True)
class SyncResultsPage(Tabular):
    """A page of results and the cursor for the next one (``None`` at the end).

    Rows come in the store's stable order (kind, source id). ``repr(page)``
    counts the rows per state; in Jupyter the page shows as a table, and
    ``to_dataframe()`` (needs pandas) gives typed columns.
    """

    items: tuple[SyncResult, ...]
    next_after: RecordKey | None

    def __repr__(self) -> str:
        states = Counter(item.state.value for item in self.items)
        return compact_repr(
            self,
            rows=len(self.items),
            states=dict(sorted(states.items())),
            next_after=None if self.next_after is None else self.next_after.source_id,
        )

    def to_records(self) -> list[dict[str, Any]]:
        """The rows as plain dicts (:meth:`SyncResult.to_record`: dates stay dates)."""
        return [item.to_record() for item in self.items]

    def _html_caption(self) -> str:
        more = f"; more after {self.next_after.source_id}" if self.next_after else ""
        return f"{len(self.items)} sync results{more}"


def _last(entries: list[JournalEntry], kind: EventKind) -> JournalEntry | None:
    for entry in reversed(entries):
        if entry.event.kind is kind:
            return entry
    return None


def _row(store: StateStore, stored: StoredRecord) -> SyncResult:
    status = stored.status
    failed_at = reason = None
    if status.state in (ExportState.FAILED, ExportState.UNLINKED):
        entries = store.journal(stored.key)
        if status.state is ExportState.FAILED:
            failure = _last(entries, EventKind.FAIL)
            failed_at = None if failure is None else failure.at
        else:
            unlinked = _last(entries, EventKind.UNLINK)
            reason = None if unlinked is None else unlinked.event.reason
            failure = _last(entries, EventKind.FAIL)
            if status.previous is ExportState.FAILED and failure is not None:
                failed_at = failure.at
    return SyncResult(
        key=stored.key,
        state=status.state,
        subject=stored.record.subject,
        on=stored.record.on,
        remote_id=status.remote_id,
        doc_number=status.remote_number or stored.record.data.get("doc_number") or None,
        message=status.message,
        failed_at=failed_at,
        unlink_reason=reason,
    )


def _matches(stored: StoredRecord, needle: str) -> bool:
    record, status = stored.record, stored.status
    return needle in (
        record.key.source_id,
        status.remote_id,
        status.remote_number,
        record.data.get("doc_number"),
    )


def sync_results(
    store: StateStore,
    company: str,
    *,
    filter: ResultFilter | str = ResultFilter.ALL,
    search: str | None = None,
    kinds: Iterable[str] | None = None,
    after: RecordKey | None = None,
    limit: int = 50,
) -> SyncResultsPage:
    """One page of the sync results view of ``company``.

    ``search`` matches a source id, remote id or document number exactly: the
    number the back end assigned (QuickBooks ``DocNumber``, Xero
    ``InvoiceNumber``, stored with the link) or a host field ``doc_number``.
    Pass the returned ``next_after`` as ``after`` for the next page.
    """
    if limit < 1:
        raise InputError(f"limit must be at least 1, got {limit}")
    chosen = ResultFilter(filter)
    states = _STATES[chosen]
    kind_list = None if kinds is None else list(kinds)
    items: list[SyncResult] = []
    cursor = after
    scan = max(limit, 500) if search else limit + 1
    while len(items) <= limit:
        page = store.find(company, kinds=kind_list, states=states, after=cursor, limit=scan)
        for stored in page:
            if search is None or _matches(stored, search.strip()):
                items.append(_row(store, stored))
                if len(items) > limit:
                    break
        if len(page) < scan:
            break
        cursor = page[-1].key
    more = len(items) > limit
    items = items[:limit]
    return SyncResultsPage(items=tuple(items), next_after=items[-1].key if more and items else None)


def _bulk(
    store: StateStore,
    company: str,
    keys: Iterable[RecordKey],
    event: Event,
    *,
    actor: str,
    clock: Clock | None,
) -> list[JournalEntry]:
    chosen = list(dict.fromkeys(keys))
    if not chosen:
        raise EmptySelectionError(f"company {company!r}: no records selected")
    now = (clock or SystemClock()).now()
    entries = store.apply(company, [(key, event) for key in chosen], at=now, actor=actor)
    log.info(
        "%s: %d records",
        event.kind.value,
        len(entries),
        extra={"company": company, "records": len(entries), "actor": actor},
    )
    if log.isEnabledFor(logging.DEBUG):
        for entry in entries:
            log.debug(
                "record %s %s -> %s",
                entry.key,
                entry.from_state.value,
                entry.to_state.value,
                extra={
                    "company": company,
                    "record": str(entry.key),
                    "idempotency_key": entry.idempotency_key,
                },
            )
    return list(entries)


def unlink(
    store: StateStore,
    company: str,
    keys: Iterable[RecordKey],
    *,
    reason: str,
    actor: str = "syncstate",
    clock: Clock | None = None,
) -> list[JournalEntry]:
    """Take records out of future syncs (atomically, all or none). ``reason`` is required."""
    if not reason.strip():
        raise InputError("unlink needs a reason (it is kept in the record's history)")
    return _bulk(store, company, keys, Event.of(EventKind.UNLINK, reason), actor=actor, clock=clock)


def relink(
    store: StateStore,
    company: str,
    keys: Iterable[RecordKey],
    *,
    reason: str = "relinked",
    actor: str = "syncstate",
    clock: Clock | None = None,
) -> list[JournalEntry]:
    """Put unlinked records back into future syncs, in the state they left."""
    return _bulk(store, company, keys, Event.of(EventKind.RELINK, reason), actor=actor, clock=clock)
