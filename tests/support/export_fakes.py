"""A small scripted back end for the export engine's unit tests.

It keeps documents in a dict, honours idempotency keys the way its declared
capabilities say, checks version tokens on update, and fails on demand:
``fail_next("create", AmbiguousOutcome(...), commit=True)`` makes the next
create commit the document and then report an ambiguous outcome.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Sequence

import attrs

from syncstate.errors import (
    BackendError,
    RemoteNotFound,
    RemoteValidationError,
    StaleVersionError,
)
from syncstate.ports import Capability, Document, RemoteRef

ALL = frozenset(Capability)


@attrs.define
class Fault:
    op: str
    error: BackendError
    commit: bool = False


@attrs.define
class Doc:
    remote_id: str
    key: str
    version: int
    document: Document


class FakeBackend:
    name = "fake"

    def __init__(self, capabilities: frozenset[Capability] = ALL, max_batch: int = 30) -> None:
        self.capabilities = capabilities
        self.max_batch = max_batch if Capability.BATCH in capabilities else 0
        self.docs: dict[str, Doc] = {}
        self.keys: dict[str, str] = {}
        self.faults: list[Fault] = []
        self.calls: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.next_id = 1

    def fail_next(self, op: str, error: BackendError, *, commit: bool = False, times: int = 1):
        for _ in range(times):
            self.faults.append(Fault(op, error, commit))

    def _fault(self, op: str) -> Fault | None:
        for fault in self.faults:
            if fault.op == op:
                self.faults.remove(fault)
                return fault
        return None

    def _ref(self, doc: Doc) -> RemoteRef:
        return RemoteRef(remote_id=doc.remote_id, version=str(doc.version), kind=doc.document.kind)

    def _create(self, document: Document, key: str) -> RemoteRef:
        if document.party == "invalid":
            raise RemoteValidationError("employee is inactive", code="6000")
        if key in self.keys and Capability.REPLAYS_KEY in self.capabilities:
            return self._ref(self.docs[self.keys[key]])
        doc = Doc(str(self.next_id), key, 0, document)
        self.next_id += 1
        self.docs[doc.remote_id] = doc
        self.keys[key] = doc.remote_id
        return self._ref(doc)

    def create(self, company: str, document: Document, *, idempotency_key: str) -> RemoteRef:
        with self.lock:
            self.calls["create"] += 1
            fault = self._fault("create")
            if fault and not fault.commit:
                raise fault.error
            ref = self._create(document, idempotency_key)
            if fault:
                raise fault.error
            return ref

    def update(
        self, company: str, ref: RemoteRef, document: Document, *, idempotency_key: str
    ) -> RemoteRef:
        with self.lock:
            self.calls["update"] += 1
            fault = self._fault("update")
            if fault and not fault.commit:
                raise fault.error
            doc = self.docs.get(ref.remote_id)
            if doc is None:
                raise RemoteNotFound(f"no document {ref.remote_id}", code="610")
            if ref.version != str(doc.version):
                raise StaleVersionError("stale object", code="5010")
            doc.version += 1
            doc.document = document
            doc.key = idempotency_key
            self.keys[idempotency_key] = doc.remote_id
            if fault:
                raise fault.error
            return self._ref(doc)

    def lookup(self, company: str, kind: str, idempotency_key: str) -> RemoteRef | None:
        with self.lock:
            self.calls["lookup"] += 1
            fault = self._fault("lookup")
            if fault:
                raise fault.error
            remote_id = self.keys.get(idempotency_key)
            return None if remote_id is None else self._ref(self.docs[remote_id])

    def delete(self, company: str, ref: RemoteRef) -> None:
        with self.lock:
            self.calls["delete"] += 1
            if self.docs.pop(ref.remote_id, None) is None:
                raise RemoteNotFound(f"no document {ref.remote_id}", code="610")

    def create_batch(
        self, company: str, items: Sequence[tuple[Document, str]]
    ) -> list[RemoteRef | BackendError]:
        with self.lock:
            self.calls["create_batch"] += 1
            fault = self._fault("create_batch")
            if fault and not fault.commit:
                raise fault.error
            out: list[RemoteRef | BackendError] = []
            for document, key in items:
                try:
                    out.append(self._create(document, key))
                except BackendError as exc:
                    out.append(exc)
            if fault:
                raise fault.error
            return out

    def fetch_pdf(self, company: str, ref: RemoteRef) -> bytes:
        return b"%PDF-1.4"

    def sources(self) -> Counter[str]:
        """How many remote documents each source record has."""
        return Counter(str(d.document.source) for d in self.docs.values())
