"""A shoebox back end: documents kept in memory, one shoebox per company.

It declares create, update (with version tokens), delete and lookup by
idempotency key, and can pretend to be rate-limited, which is all the
conformance kit needs to check it.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from syncstate import (
    BackendError,
    Capability,
    Document,
    RemoteNotFound,
    RemoteRef,
    RemoteValidationError,
    StaleVersionError,
    ThrottledError,
    UnsupportedCapability,
)

__all__ = ["ShoeboxBackend"]

KINDS = frozenset({"invoice", "sales_receipt", "payment", "time_activity"})


class ShoeboxBackend:
    """Keeps documents in dictionaries; ``throttled = True`` makes every call answer 429."""

    name = "shoebox"
    capabilities = frozenset(
        {Capability.CREATE, Capability.UPDATE, Capability.DELETE, Capability.LOOKUP_BY_KEY}
    )
    max_batch = 0

    def __init__(self, *, retry_after: float = 1.0) -> None:
        self.retry_after = retry_after
        self.throttled = False
        self._ids = itertools.count(1)
        #: company -> remote id -> (version, key, document)
        self._boxes: dict[str, dict[str, tuple[int, str, Document]]] = {}

    def _gate(self) -> None:
        if self.throttled:
            raise ThrottledError("the shoebox is busy", retry_after=self.retry_after, status=429)

    @staticmethod
    def _validate(document: Document) -> None:
        if document.kind not in KINDS:
            raise RemoteValidationError(
                f"the shoebox does not take {document.kind!r} documents",
                code="kind",
                record=str(document.source),
            )

    def create(self, company: str, document: Document, *, idempotency_key: str) -> RemoteRef:
        """File the document; a key seen before returns the document filed with it."""
        self._gate()
        self._validate(document)
        found = self.lookup(company, document.kind, idempotency_key)
        if found is not None:
            return found
        remote_id = f"S{next(self._ids)}"
        self._boxes.setdefault(company, {})[remote_id] = (1, idempotency_key, document)
        return RemoteRef(remote_id=remote_id, version="1", kind=document.kind)

    def update(
        self, company: str, ref: RemoteRef, document: Document, *, idempotency_key: str
    ) -> RemoteRef:
        """Replace the document if ``ref.version`` is current."""
        self._gate()
        self._validate(document)
        box = self._boxes.get(company, {})
        if ref.remote_id not in box:
            raise RemoteNotFound(f"no document {ref.remote_id}", record=str(document.source))
        version, key, _old = box[ref.remote_id]
        if ref.version != str(version):
            raise StaleVersionError(
                f"document {ref.remote_id} is at version {version}, not {ref.version}"
            )
        box[ref.remote_id] = (version + 1, key, document)
        return RemoteRef(remote_id=ref.remote_id, version=str(version + 1), kind=document.kind)

    def lookup(self, company: str, kind: str, idempotency_key: str) -> RemoteRef | None:
        """The document filed with ``idempotency_key``, if any."""
        self._gate()
        for remote_id, (version, key, document) in self._boxes.get(company, {}).items():
            if key == idempotency_key and document.kind == kind:
                return RemoteRef(remote_id=remote_id, version=str(version), kind=kind)
        return None

    def delete(self, company: str, ref: RemoteRef) -> None:
        """Take the document out of the shoebox."""
        self._gate()
        if self._boxes.get(company, {}).pop(ref.remote_id, None) is None:
            raise RemoteNotFound(f"no document {ref.remote_id}")

    def create_batch(
        self, company: str, items: Sequence[tuple[Document, str]]
    ) -> list[RemoteRef | BackendError]:
        """Not supported."""
        raise UnsupportedCapability("the shoebox takes one document at a time")

    def fetch_pdf(self, company: str, ref: RemoteRef) -> bytes:
        """Not supported."""
        raise UnsupportedCapability("the shoebox has no PDFs")
