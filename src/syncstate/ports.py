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

from syncstate.domain.mirror import (
    LoadedYear,
    MirrorAccount,
    MirrorSnapshot,
    MirrorYear,
    YearDrift,
)
from syncstate.domain.records import RecordKey, SourceRecord
from syncstate.domain.state import Event, ExportState, JournalEntry, Status
from syncstate.errors import BackendError
from syncstate.periods import DateRange, FiscalYear

__all__ = [
    "AccountingBackend",
    "BundleEntry",
    "BundleStore",
    "Capability",
    "Clock",
    "CustomerDirectory",
    "Document",
    "DocumentLine",
    "IngestReport",
    "MirrorStore",
    "Progress",
    "RemoteCustomer",
    "RemoteRef",
    "Source",
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

    @property
    def name(self) -> str:
        """The back end's name (``quickbooks``, ``beancount``, ...)."""
        ...

    @property
    def capabilities(self) -> frozenset[Capability]:
        """What this back end can do."""
        ...

    @property
    def max_batch(self) -> int:
        """Most operations in one ``create_batch`` call (0 when batch is not supported)."""
        ...

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


# ---------------------------------------------------------------------- bundling


@attrs.frozen(kw_only=True)
class BundleEntry:
    """A live bundle: its record key, client, date and the keys of its members."""

    bundle: RecordKey
    client: str
    on: dt.date
    members: tuple[RecordKey, ...]


class BundleStore(Protocol):
    """Which transactions are in which bundle, and the company's name mappings.

    A transaction is in at most one bundle. Every method is scoped to one
    company and atomic. Entries come back ordered by ``(client, on, bundle)``.
    """

    def add(self, company: str, entries: Iterable[BundleEntry]) -> None:
        """Add bundles atomically; re-adding an identical bundle is a no-op.

        Raises :class:`~syncstate.errors.InputError` naming the record when a
        member is already in another bundle; then nothing is added.
        """
        ...

    def remove(self, company: str, bundles: Iterable[RecordKey]) -> list[BundleEntry]:
        """Delete bundles and their associations atomically; return those removed."""
        ...

    def entries(
        self,
        company: str,
        *,
        clients: Iterable[str] | None = None,
        bundles: Iterable[RecordKey] | None = None,
        offset: int = 0,
        limit: int | None = None,
    ) -> list[BundleEntry]:
        """Live bundles matching the filters, in stable order, paged by offset/limit."""
        ...

    def bundle_of(self, company: str, members: Iterable[RecordKey]) -> dict[RecordKey, RecordKey]:
        """The bundle each of ``members`` is in (members in no bundle are left out)."""
        ...

    def mappings(self, company: str) -> list[tuple[str, str, str]]:
        """The company's mappings as ``(kind, local, remote)`` rows, in stable order."""
        ...

    def set_mappings(self, company: str, rows: Iterable[tuple[str, str, str]]) -> None:
        """Add or replace mappings ``(kind, local, remote)``; an empty remote deletes one."""
        ...


@attrs.frozen(kw_only=True)
class RemoteCustomer:
    """A customer as the back end knows it."""

    remote_id: str
    display_name: str
    active: bool = True


@runtime_checkable
class CustomerDirectory(Protocol):
    """Optional: a back end that can find and create customers (customer sync)."""

    def find_customer(self, company: str, display_name: str) -> RemoteCustomer | None:
        """The customer with exactly this display name, if any."""
        ...

    def get_customer(self, company: str, remote_id: str) -> RemoteCustomer | None:
        """The customer with this remote id, if it exists."""
        ...

    def create_customer(
        self, company: str, display_name: str, *, idempotency_key: str
    ) -> RemoteCustomer:
        """Create a customer (idempotent per ``idempotency_key``)."""
        ...


# ------------------------------------------------------------------ inbound mirror


class Source(Protocol):
    """Where the inbound mirror reads a company's books from: SIE files, a back end.

    A source is only ever read: nothing in syncstate writes to it. ``snapshot``
    raises :class:`~syncstate.errors.InputError` (e.g. ``SieParseError``) for
    unreadable input before anything is changed, and ``BackendError`` when a
    back end fails.
    """

    name: str

    def snapshot(self, company: str, years: Iterable[FiscalYear] | None = None) -> MirrorSnapshot:
        """The chart of accounts and the given fiscal years (all when None)."""
        ...


class MirrorStore(Protocol):
    """Keeps the mirrored books of every company, one fiscal year at a time.

    A year is loaded beside the live one (``stage_year``) and swapped in
    atomically (``swap_in``): readers see the old year or the new one, never
    half of one. Every method touches one company only; host-owned data
    (documents, budget versions, report templates) is never touched.
    """

    def stage_year(
        self,
        company: str,
        year: MirrorYear,
        *,
        source: str,
        at: dt.datetime,
        progress: Progress | None = None,
    ) -> int:
        """Write ``year`` beside the live data; return its generation (not yet visible)."""
        ...

    def swap_in(
        self,
        company: str,
        staged: Mapping[FiscalYear, int],
        accounts: Sequence[MirrorAccount],
        *,
        at: dt.datetime,
    ) -> None:
        """Make the staged generations live in one transaction; drop the old ones."""
        ...

    def discard(self, company: str, generation: int) -> None:
        """Drop a staged generation that will not be swapped in."""
        ...

    def read_year(self, company: str, year: FiscalYear) -> MirrorYear | None:
        """The live data of one fiscal year (a consistent snapshot), or None."""
        ...

    def loaded_years(self, company: str) -> list[LoadedYear]:
        """The fiscal years of ``company`` that are live, oldest first."""
        ...

    def accounts(self, company: str) -> list[MirrorAccount]:
        """The mirrored chart of accounts of ``company``, by number."""
        ...

    def clear_years(self, company: str, years: Iterable[FiscalYear]) -> dict[str, int]:
        """Remove balances, vouchers and transactions of those years (atomically)."""
        ...

    def apply_drift(self, company: str, drift: YearDrift, *, at: dt.datetime) -> None:
        """Apply only the changes ``drift`` describes to the live year, atomically."""
        ...

    def try_lock(
        self, company: str, *, holder: str, at: dt.datetime, stale_after: dt.timedelta
    ) -> bool:
        """Take the company's lock (or a lock older than ``stale_after``); False if held."""
        ...

    def unlock(self, company: str, *, holder: str) -> None:
        """Release the company's lock if ``holder`` holds it."""
        ...
