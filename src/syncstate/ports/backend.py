"""The accounting back-end port: documents, capabilities, remote references."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Protocol

import attrs

from syncstate.domain.records import RecordKey
from syncstate.errors import BackendError

__all__ = [
    "AccountingBackend",
    "Capability",
    "Document",
    "DocumentLine",
    "RemoteRef",
    "can_look_up",
]


# ------------------------------------------------------------------------ backend


class Capability(enum.Enum):
    """What an accounting back end can do."""

    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    VOID = "void"
    BATCH = "batch"
    PDF = "pdf"
    #: ``lookup`` finds a document by the idempotency key it was created with; a back end
    #: that can do so only for some kinds lists them in an attribute ``lookup_kinds``
    LOOKUP_BY_KEY = "lookup_by_key"
    #: ``lookup_many(company, kind, keys)`` resolves many keys with one query (paged)
    LOOKUP_MANY = "lookup_many"
    #: ``fetch_ref(company, kind, remote_id)`` reads a document's current version by its id
    FETCH_BY_ID = "fetch_by_id"
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


def can_look_up(backend: AccountingBackend, kind: str) -> bool:
    """Whether ``backend`` can find a document of ``kind`` by its idempotency key.

    True when it declares ``LOOKUP_BY_KEY`` and either lists no ``lookup_kinds`` or
    lists ``kind`` there. Optional methods (declared by capability, not part of the
    protocol, so older plug-ins stay valid):

    * ``lookup_many(company, kind, keys) -> dict[str, RemoteRef]`` with ``LOOKUP_MANY``;
    * ``fetch_ref(company, kind, remote_id) -> RemoteRef`` with ``FETCH_BY_ID``.
    """
    if Capability.LOOKUP_BY_KEY not in backend.capabilities:
        return False
    kinds = getattr(backend, "lookup_kinds", None)
    return kinds is None or kind in kinds
