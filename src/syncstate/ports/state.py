"""The state store port: records, export statuses and the journal."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Protocol

import attrs

from syncstate.domain.records import RecordKey, SourceRecord
from syncstate.domain.state import Event, ExportState, JournalEntry, Status
from syncstate.periods import DateRange

__all__ = ["IngestReport", "StateStore", "StoredRecord"]


# -------------------------------------------------------------------------- store


@attrs.frozen
class StoredRecord:
    """A record together with its current export status."""

    record: SourceRecord
    status: Status

    @property
    def key(self) -> RecordKey:
        """The record's identity."""
        return self.record.key

    @property
    def state(self) -> ExportState:
        """The record's export state."""
        return self.status.state


@attrs.frozen(kw_only=True)
class IngestReport:
    """What an ingest did: new records, changed ones (seen by content hash), unchanged."""

    added: int
    changed: int
    unchanged: int
    outdated: tuple[RecordKey, ...] = ()

    @property
    def total(self) -> int:
        """Records handed in."""
        return self.added + self.changed + self.unchanged


class StateStore(Protocol):
    """Keeps source records, their export status and the append-only journal.

    Every method is scoped to one company and runs in one transaction: it
    either happens completely or not at all. Records come back ordered by
    ``(kind, source_id)``.
    """

    def ingest(
        self, company: str, records: Iterable[SourceRecord], *, at: dt.datetime, actor: str
    ) -> IngestReport:
        """Add new records and update changed ones (an exported record becomes outdated)."""
        ...

    def get(self, key: RecordKey) -> StoredRecord:
        """One record, or :class:`~syncstate.errors.RecordNotFound`."""
        ...

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
        """Records of ``company`` matching every given filter, in stable order.

        ``after`` and ``limit`` page through the result (keyset pagination).
        """
        ...

    def apply(
        self,
        company: str,
        events: Iterable[tuple[RecordKey, Event]],
        *,
        at: dt.datetime,
        actor: str,
    ) -> Sequence[JournalEntry]:
        """Apply events atomically: all of them, or none if any is invalid.

        Returns the journal entries written, in order (a store may build them
        lazily, when read).
        """
        ...

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
        """Claim up to ``limit`` exportable records (and expired in-flight leases).

        Two callers never receive the same record while its lease holds.
        Returns the records in their claimed (``in_flight``) status.
        """
        ...

    def journal(self, key: RecordKey) -> list[JournalEntry]:
        """The record's journal, oldest first."""
        ...

    def counts(self, company: str) -> dict[ExportState, int]:
        """How many records of ``company`` are in each state."""
        ...

    def companies(self) -> list[str]:
        """Companies that have records."""
        ...

    def close(self) -> None:
        """Release connections and files."""
        ...
