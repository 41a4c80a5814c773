"""An in-memory :class:`~syncstate.ports.StateStore` for tests and notebooks.

Thread-safe (one lock); every operation is atomic because it computes its
whole result before changing anything.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterable

from syncstate.adapters.storage.base import check_company, plan_events, utc
from syncstate.domain.records import RecordKey, SourceRecord
from syncstate.domain.state import (
    EXPORTABLE,
    Event,
    EventKind,
    ExportState,
    JournalEntry,
    Status,
)
from syncstate.errors import RecordNotFound
from syncstate.periods import DateRange
from syncstate.ports import IngestReport, StoredRecord

__all__ = ["MemoryStore"]


class MemoryStore:
    """Keeps everything in dictionaries; gone when the process ends."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._records: dict[RecordKey, SourceRecord] = {}
        self._status: dict[RecordKey, Status] = {}
        self._journal: dict[RecordKey, list[JournalEntry]] = {}

    def __repr__(self) -> str:
        return f"MemoryStore(records={len(self._records)})"

    def ingest(
        self, company: str, records: Iterable[SourceRecord], *, at: dt.datetime, actor: str
    ) -> IngestReport:
        """Add new records and update changed ones."""
        at = utc(at)
        with self._lock:
            incoming: dict[RecordKey, SourceRecord] = {}
            for record in records:
                check_company(company, record.key)
                incoming[record.key] = record
            added = changed = unchanged = 0
            changes: list[tuple[RecordKey, Event]] = []
            for key, record in incoming.items():
                old = self._records.get(key)
                if old is None:
                    added += 1
                elif old.hash == record.hash:
                    unchanged += 1
                else:
                    changed += 1
                    changes.append((key, Event.of(EventKind.SOURCE_CHANGED, "source changed")))
            new_status, entries = plan_events(company, self._status, changes, at=at, actor=actor)
            outdated = tuple(
                key
                for key, status in new_status.items()
                if status.state is ExportState.OUTDATED
                and self._status[key].state is not ExportState.OUTDATED
            )
            for key, record in incoming.items():
                if key not in self._records:
                    self._status[key] = Status()
                self._records[key] = record
            self._commit(new_status, entries)
            return IngestReport(
                added=added, changed=changed, unchanged=unchanged, outdated=outdated
            )

    def _commit(self, statuses: dict[RecordKey, Status], entries: list[JournalEntry]) -> None:
        self._status.update(statuses)
        for entry in entries:
            self._journal.setdefault(entry.key, []).append(entry)

    def get(self, key: RecordKey) -> StoredRecord:
        """One record with its status."""
        with self._lock:
            record = self._records.get(key)
            if record is None:
                raise RecordNotFound(record=str(key))
            return StoredRecord(record, self._status[key])

    def find(
        self,
        company: str,
        *,
        kinds: Iterable[str] | None = None,
        date_range: DateRange | None = None,
        subjects: Iterable[str] | None = None,
        states: Iterable[ExportState] | None = None,
        source_ids: Iterable[str] | None = None,
        after: RecordKey | None = None,
        limit: int | None = None,
    ) -> list[StoredRecord]:
        """Records matching every filter, ordered by (kind, source id)."""
        kind_set = None if kinds is None else set(kinds)
        subject_set = None if subjects is None else set(subjects)
        state_set = None if states is None else set(states)
        id_set = None if source_ids is None else set(source_ids)
        with self._lock:
            keys = sorted(k for k in self._records if k.company == company)
            out: list[StoredRecord] = []
            for key in keys:
                if after is not None and (key.kind, key.source_id) <= (after.kind, after.source_id):
                    continue
                record, status = self._records[key], self._status[key]
                if (
                    (kind_set is not None and key.kind not in kind_set)
                    or (date_range is not None and record.on not in date_range)
                    or (subject_set is not None and record.subject not in subject_set)
                    or (state_set is not None and status.state not in state_set)
                    or (id_set is not None and key.source_id not in id_set)
                ):
                    continue
                out.append(StoredRecord(record, status))
                if limit is not None and len(out) >= limit:
                    break
            return out

    def apply(
        self,
        company: str,
        events: Iterable[tuple[RecordKey, Event]],
        *,
        at: dt.datetime,
        actor: str,
    ) -> list[JournalEntry]:
        """Apply events atomically."""
        with self._lock:
            statuses, entries = plan_events(company, self._status, events, at=utc(at), actor=actor)
            self._commit(statuses, entries)
            return entries

    def claim(
        self,
        company: str,
        *,
        worker: str,
        lease_until: dt.datetime,
        at: dt.datetime,
        actor: str,
        kinds: Iterable[str] | None = None,
        keys: Iterable[RecordKey] | None = None,
        limit: int = 100,
    ) -> list[StoredRecord]:
        """Claim up to ``limit`` exportable records (or expired leases)."""
        at = utc(at)
        kind_set = None if kinds is None else set(kinds)
        with self._lock:
            if keys is not None:
                candidates = sorted(set(keys))
                for key in candidates:
                    check_company(company, key)
            else:
                candidates = sorted(k for k in self._records if k.company == company)
            chosen: list[RecordKey] = []
            for key in candidates:
                status = self._status.get(key)
                if status is None or (kind_set is not None and key.kind not in kind_set):
                    continue
                if status.state in EXPORTABLE or (
                    status.state is ExportState.IN_FLIGHT
                    and (status.lease_until is None or status.lease_until <= at)
                ):
                    chosen.append(key)
                    if len(chosen) >= limit:
                        break
            event = Event.claim(worker=worker, lease_until=utc(lease_until))
            statuses, entries = plan_events(
                company, self._status, [(k, event) for k in chosen], at=at, actor=actor
            )
            self._commit(statuses, entries)
            return [StoredRecord(self._records[k], self._status[k]) for k in chosen]

    def journal(self, key: RecordKey) -> list[JournalEntry]:
        """The record's journal, oldest first."""
        with self._lock:
            if key not in self._records:
                raise RecordNotFound(record=str(key))
            return list(self._journal.get(key, ()))

    def counts(self, company: str) -> dict[ExportState, int]:
        """Records per state."""
        with self._lock:
            out = dict.fromkeys(ExportState, 0)
            for key, status in self._status.items():
                if key.company == company:
                    out[status.state] += 1
            return out

    def companies(self) -> list[str]:
        """Companies with records."""
        with self._lock:
            return sorted({k.company for k in self._records})

    def close(self) -> None:
        """Nothing to release."""
