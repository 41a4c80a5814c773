"""Ports: the small protocols a host application plugs its own pieces into.

* :class:`StateStore` keeps records, their export status and the journal.
* :class:`AccountingBackend` is the remote side: QuickBooks, a ledger file, ...
* :class:`Clock` tells the time (so tests and replays control it).
* :class:`Progress` hears about long operations (a CLI bar, a notebook widget).

Adapters depend on this module; the domain never depends on adapters.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Protocol, runtime_checkable

import attrs

from syncstate.domain.records import RecordKey, SourceRecord
from syncstate.domain.state import Event, ExportState, JournalEntry, Status
from syncstate.errors import BackendError
from syncstate.periods import DateRange

__all__ = [
    "AccountingBackend",
    "Capability",
    "Clock",
    "Document",
    "DocumentLine",
    "IngestReport",
    "Progress",
    "RemoteRef",
    "StateStore",
    "StoredRecord",
    "SystemClock",
]


# --------------------------------------------------------------------------- time


class Clock(Protocol):
    """Tells the current time (timezone-aware UTC)."""

    def now(self) -> dt.datetime:
        """The current time."""
        ...


class SystemClock:
    """The real clock, in UTC."""

    def now(self) -> dt.datetime:
        """The current UTC time."""
        return dt.datetime.now(dt.UTC)


# ----------------------------------------------------------------------- progress


@runtime_checkable
class Progress(Protocol):
    """Receives progress of a long operation. Every method must be cheap."""

    def start(self, total: int, label: str) -> None:
        """The operation begins with ``total`` units of work."""
        ...

    def advance(self, n: int = 1, *, outcome: str = "") -> None:
        """``n`` more units are done; ``outcome`` is e.g. ``exported`` or ``failed``."""
        ...

    def note(self, message: str) -> None:
        """Something worth showing happened (a retry, a throttle pause)."""
        ...

    def finish(self) -> None:
        """The operation ended (successfully or not)."""
        ...


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
    ) -> list[JournalEntry]:
        """Apply events atomically: all of them, or none if any is invalid."""
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


# ------------------------------------------------------------------------ backend


class Capability(enum.Enum):
    """What an accounting back end can do."""

    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    VOID = "void"
    BATCH = "batch"
    PDF = "pdf"
    LOOKUP_BY_KEY = "lookup_by_key"
    #: a repeated create with the same key replays the first answer (QuickBooks requestid)
    REPLAYS_KEY = "replays_key"


@attrs.frozen(kw_only=True)
class DocumentLine:
    """One line of a document: an item, a quantity and a price."""

    item: str
    description: str = ""
    quantity: Decimal = Decimal(1)
    unit_price: Decimal = Decimal(0)
    amount: Decimal = Decimal(0)
    tax_code: str = ""


@attrs.frozen(kw_only=True)
class Document:
    """A back-end-neutral document to send: a time activity, invoice, payment, ...

    ``kind`` is one of ``time_activity``, ``invoice``, ``sales_receipt``,
    ``payment`` (back ends may accept more). ``party`` is the host's id of the
    employee or client; the back end maps it to its own.
    """

    kind: str
    source: RecordKey
    date: dt.date
    party: str
    fields: Mapping[str, str] = attrs.field(factory=dict)
    lines: tuple[DocumentLine, ...] = ()
    currency: str | None = None
    doc_number: str | None = None
    memo: str = ""


@attrs.frozen(kw_only=True)
class RemoteRef:
    """Where a document lives remotely: id, version token, kind and number."""

    remote_id: str
    version: str | None = None
    kind: str = ""
    doc_number: str | None = None


class AccountingBackend(Protocol):
    """The remote side an export writes to.

    Methods raise subclasses of :class:`~syncstate.errors.BackendError` only.
    ``create`` must be idempotent per ``idempotency_key`` when the back end
    declares ``LOOKUP_BY_KEY`` or ``REPLAYS_KEY``.
    """

    name: str
    capabilities: frozenset[Capability]
    #: most operations in one ``create_batch`` call (0 when batch is not supported)
    max_batch: int

    def create(self, company: str, document: Document, *, idempotency_key: str) -> RemoteRef:
        """Create the document; return where it lives."""
        ...

    def update(
        self, company: str, ref: RemoteRef, document: Document, *, idempotency_key: str
    ) -> RemoteRef:
        """Overwrite the document at ``ref`` (with its version token)."""
        ...

    def lookup(self, company: str, kind: str, idempotency_key: str) -> RemoteRef | None:
        """Find the document created with ``idempotency_key``, if any."""
        ...

    def delete(self, company: str, ref: RemoteRef) -> None:
        """Delete or void the document (``DELETE`` or ``VOID`` capability)."""
        ...

    def create_batch(
        self, company: str, items: Sequence[tuple[Document, str]]
    ) -> list[RemoteRef | BackendError]:
        """Create several documents in one request; one result per item, in order."""
        ...

    def fetch_pdf(self, company: str, ref: RemoteRef) -> bytes:
        """The document as a PDF (``PDF`` capability)."""
        ...
