"""What becomes of each record an export run sends: items, outcomes, attempts.

:class:`Item` is a claimed, rendered record ready to send; :class:`RecordOutcome` is
what became of it (:class:`Outcome`); :class:`Attempt` is the sender's bookkeeping
while it is being sent. :mod:`syncstate.services.sending` re-exports the public ones.
"""

from __future__ import annotations

import enum

import attrs

from syncstate.domain.records import RecordKey
from syncstate.errors import SyncStateError
from syncstate.ports import Document, RemoteRef, StoredRecord

__all__ = ["Attempt", "Cancelled", "Item", "NeedsOperator", "Outcome", "RecordOutcome"]


class Outcome(enum.Enum):
    """What became of one record in an export run."""

    EXPORTED = "exported"  #: created (or found by its key) and linked
    UPDATED = "updated"  #: an existing remote document was overwritten
    FAILED = "failed"  #: the back end (or the renderer) rejected it; message kept
    RELEASED = "released"  #: claimed but never sent (cancelled); exportable again
    PENDING = "pending"  #: may exist remotely; stays in flight for a lookup or an operator
    SKIPPED = "skipped"  #: selected but held by another worker's lease


@attrs.frozen(kw_only=True)
class RecordOutcome:
    """One record's outcome, with the remote link or the message."""

    key: RecordKey
    outcome: Outcome
    idempotency_key: str = ""
    remote_id: str | None = None
    version: str | None = None
    #: the document number the back end shows (QuickBooks ``DocNumber``), if it gave one
    doc_number: str | None = None
    message: str = ""
    retries: int = 0


@attrs.frozen(kw_only=True)
class Item:
    """A claimed, rendered record ready to send."""

    stored: StoredRecord
    document: Document
    key: str
    ambiguous: bool = False

    @property
    def ref(self) -> RemoteRef | None:
        """The existing remote document an overwrite updates, if any."""
        status = self.stored.status
        if status.remote_id is None:
            return None
        return RemoteRef(
            remote_id=status.remote_id,
            version=status.remote_version,
            kind=self.document.kind,
            doc_number=status.remote_number,
        )


class Cancelled(SyncStateError):
    """The run was cancelled before this request went out."""


class NeedsOperator(SyncStateError):
    """An ambiguous record the back end can neither look up nor replay."""


@attrs.define
class Attempt:
    """Mutable per-item bookkeeping while it is being sent."""

    item: Item
    ambiguous: bool
    retries: int = 0
    linked: bool = False
