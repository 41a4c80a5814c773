"""An in-memory :class:`~syncstate.ports.AccountingBackend` for tests, notebooks and the demo.

Documents live in dictionaries per company. ``create`` is idempotent per key:
with ``REPLAYS_KEY`` (the default) a repeated key returns the first document,
like QuickBooks' ``requestid``; without it a repeated key is refused with
:class:`~syncstate.errors.DuplicateDocumentError` naming the existing id, like
Sage Intacct's control ids. Versions count up from ``"0"``; an update with an
old version raises :class:`~syncstate.errors.StaleVersionError`, and a
version of ``None`` overwrites whatever is current. :meth:`MemoryBackend.fail_next`
injects a failure, optionally *after* the write committed ("commit then fail").
Thread-safe.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence

import attrs

from syncstate.errors import (
    BackendError,
    DuplicateDocumentError,
    RemoteNotFound,
    StaleVersionError,
    UnsupportedCapability,
)
from syncstate.ports import Capability, Document, RemoteRef

__all__ = ["MemoryBackend", "StoredDocument"]

ALL_CAPABILITIES = frozenset(Capability)


@attrs.frozen(kw_only=True)
class StoredDocument:
    """One document the memory back end holds."""

    remote_id: str
    version: int
    document: Document
    idempotency_key: str
    voided: bool = False

    def ref(self) -> RemoteRef:
        """Where it lives, as a :class:`RemoteRef`."""
        return RemoteRef(
            remote_id=self.remote_id,
            version=str(self.version),
            kind=self.document.kind,
            doc_number=self.document.doc_number,
        )


class MemoryBackend:
    """Documents in memory; every capability unless told otherwise."""

    def __init__(
        self,
        *,
        name: str = "memory",
        capabilities: Iterable[Capability] = ALL_CAPABILITIES,
        max_batch: int = 50,
    ) -> None:
        self.name = name
        self.capabilities = frozenset(capabilities)
        self.max_batch = max_batch if Capability.BATCH in self.capabilities else 0
        self._lock = threading.RLock()
        self._docs: dict[str, dict[str, StoredDocument]] = {}
        self._keys: dict[tuple[str, str], str] = {}
        self._next_id = 1
        self._failures: list[tuple[str, BackendError, bool]] = []
        #: calls per operation name (``create``, ``update``, ...)
        self.calls: dict[str, int] = {}

    def __repr__(self) -> str:
        count = sum(len(d) for d in self._docs.values())
        return f"MemoryBackend(name={self.name!r}, documents={count})"

    # ---------------------------------------------------------------- helpers

    def fail_next(self, operation: str, error: BackendError, *, after_commit: bool = False) -> None:
        """Make the next ``operation`` call raise ``error`` (after committing, if asked)."""
        with self._lock:
            self._failures.append((operation, error, after_commit))

    def documents(self, company: str, *, include_voided: bool = True) -> list[StoredDocument]:
        """Every document of ``company``, oldest first."""
        with self._lock:
            docs = list(self._docs.get(company, {}).values())
        return [d for d in docs if include_voided or not d.voided]

    def _failure(self, operation: str, *, committed: bool) -> None:
        for index, (name, error, after_commit) in enumerate(self._failures):
            if name == operation and after_commit == committed:
                del self._failures[index]
                raise error
        return None

    def _enter(self, operation: str, capability: Capability) -> None:
        if capability not in self.capabilities:
            raise UnsupportedCapability(f"back end {self.name!r} cannot {capability.value}")
        self.calls[operation] = self.calls.get(operation, 0) + 1
        self._failure(operation, committed=False)

    def _get(self, company: str, ref: RemoteRef) -> StoredDocument:
        stored = self._docs.get(company, {}).get(ref.remote_id)
        if stored is None:
            raise RemoteNotFound(f"no document {ref.remote_id} in company {company!r}")
        return stored

    def _create(self, company: str, document: Document, key: str) -> RemoteRef:
        existing = self._keys.get((company, key))
        if existing is not None:
            stored = self._docs[company][existing]
            if Capability.REPLAYS_KEY in self.capabilities:
                return stored.ref()
            raise DuplicateDocumentError(
                f"idempotency key {key} was already used",
                existing_id=existing,
                record=str(document.source),
            )
        remote_id = str(self._next_id)
        self._next_id += 1
        stored = StoredDocument(
            remote_id=remote_id, version=0, document=document, idempotency_key=key
        )
        self._docs.setdefault(company, {})[remote_id] = stored
        self._keys[(company, key)] = remote_id
        return stored.ref()

    # ---------------------------------------------------------------- the port

    def create(self, company: str, document: Document, *, idempotency_key: str) -> RemoteRef:
        """Create, or replay the document already created with this key."""
        with self._lock:
            self._enter("create", Capability.CREATE)
            ref = self._create(company, document, idempotency_key)
            self._failure("create", committed=True)
            return ref

    def update(
        self, company: str, ref: RemoteRef, document: Document, *, idempotency_key: str
    ) -> RemoteRef:
        """Overwrite with a version check (``ref.version`` None: overwrite the current one)."""
        with self._lock:
            self._enter("update", Capability.UPDATE)
            stored = self._get(company, ref)
            replayed = self._keys.get((company, idempotency_key))
            if replayed == ref.remote_id and stored.idempotency_key == idempotency_key:
                return stored.ref()
            if ref.version is not None and ref.version != str(stored.version):
                raise StaleVersionError(
                    f"document {ref.remote_id} is at version {stored.version}, not {ref.version}",
                    record=str(document.source),
                )
            updated = attrs.evolve(
                stored,
                version=stored.version + 1,
                document=document,
                idempotency_key=idempotency_key,
            )
            self._docs[company][ref.remote_id] = updated
            self._keys[(company, idempotency_key)] = ref.remote_id
            self._failure("update", committed=True)
            return updated.ref()

    def lookup(self, company: str, kind: str, idempotency_key: str) -> RemoteRef | None:
        """The document last written with ``idempotency_key``, if any."""
        with self._lock:
            self._enter("lookup", Capability.LOOKUP_BY_KEY)
            remote_id = self._keys.get((company, idempotency_key))
            if remote_id is None:
                return None
            stored = self._docs[company][remote_id]
            return stored.ref() if stored.document.kind == kind else None

    def lookup_many(self, company: str, kind: str, keys: Sequence[str]) -> dict[str, RemoteRef]:
        """Every document of ``kind`` last written with one of ``keys`` (one call)."""
        with self._lock:
            self._enter("lookup_many", Capability.LOOKUP_MANY)
            found: dict[str, RemoteRef] = {}
            for key in keys:
                remote_id = self._keys.get((company, key))
                if remote_id is not None and self._docs[company][remote_id].document.kind == kind:
                    found[key] = self._docs[company][remote_id].ref()
            return found

    def fetch_ref(self, company: str, kind: str, remote_id: str) -> RemoteRef:
        """The current reference (and version) of document ``remote_id``."""
        with self._lock:
            self._enter("fetch_ref", Capability.FETCH_BY_ID)
            return self._get(company, RemoteRef(remote_id=remote_id, kind=kind)).ref()

    def delete(self, company: str, ref: RemoteRef) -> None:
        """Delete (``DELETE``) or, without it, void (``VOID``) the document."""
        with self._lock:
            can_delete = Capability.DELETE in self.capabilities
            self._enter("delete", Capability.DELETE if can_delete else Capability.VOID)
            stored = self._get(company, ref)
            if can_delete:
                del self._docs[company][ref.remote_id]
                for key in [
                    k for k, v in self._keys.items() if k[0] == company and v == ref.remote_id
                ]:
                    del self._keys[key]
            else:
                self._docs[company][ref.remote_id] = attrs.evolve(
                    stored, voided=True, version=stored.version + 1
                )
            self._failure("delete", committed=True)

    def create_batch(
        self, company: str, items: Sequence[tuple[Document, str]]
    ) -> list[RemoteRef | BackendError]:
        """Create several documents; a failing item does not stop the others."""
        with self._lock:
            self._enter("create_batch", Capability.BATCH)
            if len(items) > self.max_batch:
                raise UnsupportedCapability(
                    f"a batch holds at most {self.max_batch} documents, got {len(items)}"
                )
            results: list[RemoteRef | BackendError] = []
            for document, key in items:
                try:
                    results.append(self._create(company, document, key))
                except BackendError as exc:
                    results.append(exc)
            self._failure("create_batch", committed=True)
            return results

    def fetch_pdf(self, company: str, ref: RemoteRef) -> bytes:
        """A tiny PDF naming the document."""
        with self._lock:
            self._enter("fetch_pdf", Capability.PDF)
            stored = self._get(company, ref)
        text = f"{stored.document.kind} {stored.remote_id} v{stored.version}"
        return f"%PDF-1.4\n% {text}\n%%EOF\n".encode()
