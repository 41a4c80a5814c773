"""The back-end conformance kit: what every :class:`~syncstate.ports.AccountingBackend` shows.

A plug-in author subclasses :class:`BackendContract` in a test module and
provides a ``backend`` fixture yielding a fresh back end with no documents::

    import pytest
    from syncstate.testing.backend_contract import BackendContract

    class TestMyBooks(BackendContract):
        @pytest.fixture
        def backend(self, tmp_path):
            yield MyBooksBackend(tmp_path)

pytest then runs every check below against it. A check that needs a
capability the back end does not declare is skipped, with the reason. Hooks
a subclass may override:

* :meth:`BackendContract.make_document` builds a valid document (the default
  is an invoice for customer ``client-1`` with one line of item ``consulting``;
  map those ids in the fixture, or override);
* :meth:`BackendContract.documents_of_every_kind` builds one valid document of each kind
  the back end creates (default: just :meth:`make_document`); the lookup checks run over
  all of them, so a back end that declares ``LOOKUP_BY_KEY`` proves it for every kind,
  or narrows it with ``lookup_kinds``;
* :meth:`BackendContract.invalid_document` builds one the back end must refuse
  with :class:`~syncstate.errors.RemoteValidationError` (default: an unknown kind);
* :meth:`BackendContract.throttling` returns a context manager inside which the
  back end answers as if rate-limited (default ``None``: the throttling checks
  are skipped).

The kit needs pytest installed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest

from syncstate.domain.records import RecordKey
from syncstate.errors import (
    BackendError,
    DuplicateDocumentError,
    RemoteNotFound,
    RemoteValidationError,
    StaleVersionError,
    ThrottledError,
    TransientBackendError,
    UnsupportedCapability,
)
from syncstate.ports import AccountingBackend, Capability, Document, DocumentLine, RemoteRef

__all__ = ["BackendContract", "sample_document"]

COMPANY = "acme"
OTHER_COMPANY = "globex"


def sample_document(
    company: str,
    n: int,
    *,
    kind: str = "invoice",
    party: str = "client-1",
    item: str = "consulting",
    amount: str = "100.00",
) -> Document:
    """A plain one-line document of ``company``; ``n`` makes its source id and number unique."""
    return Document(
        kind=kind,
        source=RecordKey(company, kind, f"kit-{n:04d}"),
        date=dt.date(2026, 3, 1) + dt.timedelta(days=n % 28),
        party=party,
        lines=(
            DocumentLine(
                item=item,
                description=f"kit line {n}",
                quantity=Decimal(1),
                unit_price=Decimal(amount),
                amount=Decimal(amount),
            ),
        ),
        doc_number=f"KIT-{n:04d}",
        memo=f"conformance kit document {n}",
    )


def _key(test: str, n: int) -> str:
    return f"kit-{test}-{n:04d}"


def _requires(backend: AccountingBackend, *needed: Capability) -> None:
    missing = [c.value for c in needed if c not in backend.capabilities]
    if missing:
        pytest.skip(f"back end {backend.name!r} does not declare {', '.join(missing)}")


def _requires_any(backend: AccountingBackend, *options: Capability) -> None:
    if not any(c in backend.capabilities for c in options):
        names = " or ".join(c.value for c in options)
        pytest.skip(f"back end {backend.name!r} declares none of {names}")


class BackendContract:
    """Behaviour every accounting back end must show. Provide a ``backend`` fixture."""

    #: the company the checks write to; :data:`OTHER_COMPANY` must stay untouched
    company = COMPANY

    @pytest.fixture
    def backend(self) -> Any:  # pragma: no cover - replaced by subclasses
        raise NotImplementedError("provide a `backend` fixture yielding a fresh back end")

    # -- hooks -----------------------------------------------------------------

    def make_document(self, company: str, n: int, *, amount: str = "100.00") -> Document:
        """A valid document; ``n`` distinguishes documents within one check."""
        return sample_document(company, n, amount=amount)

    def documents_of_every_kind(self, company: str, n: int) -> list[Document]:
        """One valid document of each kind the back end creates (``n`` makes them unique)."""
        return [self.make_document(company, n)]

    def invalid_document(self, company: str) -> Document | None:
        """A document the back end must refuse (None skips the validation checks)."""
        return sample_document(company, 9999, kind="no_such_kind")

    def throttling(self, backend: Any) -> contextlib.AbstractContextManager[Any] | None:
        """A context in which ``backend`` answers as if rate-limited (None: cannot)."""
        return None

    # -- declaration -----------------------------------------------------------

    def test_declares_a_name_capabilities_and_a_batch_size(
        self, backend: AccountingBackend
    ) -> None:
        assert isinstance(backend.name, str) and backend.name.strip()
        assert isinstance(backend.capabilities, frozenset)
        assert all(isinstance(c, Capability) for c in backend.capabilities)
        assert Capability.CREATE in backend.capabilities, "a back end must at least create"
        if Capability.BATCH in backend.capabilities:
            assert backend.max_batch > 1
        else:
            assert backend.max_batch == 0

    @pytest.mark.parametrize(
        "capability",
        [Capability.UPDATE, Capability.DELETE, Capability.BATCH, Capability.PDF],
    )
    def test_an_undeclared_operation_raises_unsupported_capability(
        self, backend: AccountingBackend, capability: Capability
    ) -> None:
        declared = backend.capabilities
        if capability in declared or (
            capability is Capability.DELETE and Capability.VOID in declared
        ):
            pytest.skip(f"back end {backend.name!r} declares {capability.value}")
        doc = self.make_document(self.company, 1)
        ref = RemoteRef(remote_id="kit-missing", version="0", kind=doc.kind)
        with pytest.raises(UnsupportedCapability):
            if capability is Capability.UPDATE:
                backend.update(self.company, ref, doc, idempotency_key=_key("unsupported", 1))
            elif capability is Capability.DELETE:
                backend.delete(self.company, ref)
            elif capability is Capability.BATCH:
                backend.create_batch(self.company, [(doc, _key("unsupported", 2))])
            else:
                backend.fetch_pdf(self.company, ref)

    # -- create and lookup -----------------------------------------------------

    def test_create_returns_a_reference_to_the_new_document(
        self, backend: AccountingBackend
    ) -> None:
        doc = self.make_document(self.company, 1)
        ref = backend.create(self.company, doc, idempotency_key=_key("create", 1))
        assert isinstance(ref, RemoteRef)
        assert ref.remote_id
        other = backend.create(
            self.company, self.make_document(self.company, 2), idempotency_key=_key("create", 2)
        )
        assert other.remote_id != ref.remote_id

    def test_create_with_the_same_key_does_not_duplicate(self, backend: AccountingBackend) -> None:
        _requires_any(backend, Capability.LOOKUP_BY_KEY, Capability.REPLAYS_KEY)
        doc = self.make_document(self.company, 1)
        first = backend.create(self.company, doc, idempotency_key=_key("same", 1))
        try:
            again = backend.create(self.company, doc, idempotency_key=_key("same", 1))
        except DuplicateDocumentError as exc:
            assert Capability.REPLAYS_KEY not in backend.capabilities, (
                "a back end declaring replays_key must replay the first answer"
            )
            assert exc.existing_id in (None, first.remote_id)
        else:
            assert again.remote_id == first.remote_id
        if Capability.LOOKUP_BY_KEY in backend.capabilities:
            found = backend.lookup(self.company, doc.kind, _key("same", 1))
            assert found is not None and found.remote_id == first.remote_id

    def test_lookup_finds_a_document_by_its_idempotency_key(
        self, backend: AccountingBackend
    ) -> None:
        _requires(backend, Capability.LOOKUP_BY_KEY)
        doc = self.make_document(self.company, 1)
        assert backend.lookup(self.company, doc.kind, _key("lookup", 1)) is None
        ref = backend.create(self.company, doc, idempotency_key=_key("lookup", 1))
        found = backend.lookup(self.company, doc.kind, _key("lookup", 1))
        assert found is not None
        assert found.remote_id == ref.remote_id
        assert found.version == ref.version
        assert backend.lookup(self.company, doc.kind, _key("lookup", 2)) is None

    def test_lookup_by_key_works_for_every_kind_it_creates(
        self, backend: AccountingBackend
    ) -> None:
        _requires(backend, Capability.LOOKUP_BY_KEY)
        kinds = getattr(backend, "lookup_kinds", None)
        for i, doc in enumerate(self.documents_of_every_kind(self.company, 40)):
            key = _key(f"kind-{doc.kind}", i)
            ref = backend.create(self.company, doc, idempotency_key=key)
            if kinds is not None and doc.kind not in kinds:
                # not looked up: an ambiguous create of this kind must be replayable
                assert Capability.REPLAYS_KEY in backend.capabilities, (
                    f"{doc.kind} is outside lookup_kinds and the back end does not replay keys"
                )
                continue
            found = backend.lookup(self.company, doc.kind, key)
            assert found is not None, f"lookup by key finds no {doc.kind}"
            assert found.remote_id == ref.remote_id

    def test_lookup_many_finds_every_key_of_a_kind_at_once(
        self, backend: AccountingBackend
    ) -> None:
        _requires(backend, Capability.LOOKUP_BY_KEY, Capability.LOOKUP_MANY)
        many = getattr(backend, "lookup_many", None)
        assert callable(many), "a back end declaring lookup_many must have lookup_many()"
        refs = {
            _key("many", n): backend.create(
                self.company, self.make_document(self.company, n), idempotency_key=_key("many", n)
            )
            for n in range(1, 4)
        }
        kind = self.make_document(self.company, 1).kind
        found = many(self.company, kind, [*refs, _key("many", 99)])
        assert {k: r.remote_id for k, r in found.items()} == {
            k: r.remote_id for k, r in refs.items()
        }

    def test_fetch_by_id_reads_the_current_version(self, backend: AccountingBackend) -> None:
        _requires(backend, Capability.FETCH_BY_ID, Capability.UPDATE)
        fetch = getattr(backend, "fetch_ref", None)
        assert callable(fetch), "a back end declaring fetch_by_id must have fetch_ref()"
        doc = self.make_document(self.company, 1)
        ref = backend.create(self.company, doc, idempotency_key=_key("fetch", 1))
        changed = self.make_document(self.company, 1, amount="175.00")
        updated = backend.update(self.company, ref, changed, idempotency_key=_key("fetch", 2))
        current = fetch(self.company, doc.kind, ref.remote_id)
        assert current.remote_id == ref.remote_id and current.version == updated.version

    def test_documents_of_one_company_are_invisible_to_another(
        self, backend: AccountingBackend
    ) -> None:
        _requires(backend, Capability.LOOKUP_BY_KEY)
        doc = self.make_document(self.company, 1)
        backend.create(self.company, doc, idempotency_key=_key("tenant", 1))
        assert backend.lookup(OTHER_COMPANY, doc.kind, _key("tenant", 1)) is None

    # -- update ----------------------------------------------------------------

    def test_update_with_the_current_version_overwrites_the_document(
        self, backend: AccountingBackend
    ) -> None:
        _requires(backend, Capability.UPDATE)
        ref = backend.create(
            self.company, self.make_document(self.company, 1), idempotency_key=_key("update", 1)
        )
        changed = self.make_document(self.company, 1, amount="250.00")
        updated = backend.update(self.company, ref, changed, idempotency_key=_key("update", 2))
        assert updated.remote_id == ref.remote_id
        if ref.version is not None:
            assert updated.version is not None and updated.version != ref.version
        if Capability.LOOKUP_BY_KEY in backend.capabilities:
            found = backend.lookup(self.company, changed.kind, _key("update", 1))
            assert found is not None and found.remote_id == ref.remote_id

    def test_update_with_a_stale_version_raises_stale_version_error(
        self, backend: AccountingBackend
    ) -> None:
        _requires(backend, Capability.UPDATE)
        ref = backend.create(
            self.company, self.make_document(self.company, 1), idempotency_key=_key("stale", 1)
        )
        if ref.version is None:
            pytest.skip(f"back end {backend.name!r} does not use version tokens")
        backend.update(
            self.company,
            ref,
            self.make_document(self.company, 1, amount="200.00"),
            idempotency_key=_key("stale", 2),
        )
        with pytest.raises(StaleVersionError) as caught:
            backend.update(
                self.company,
                ref,
                self.make_document(self.company, 1, amount="300.00"),
                idempotency_key=_key("stale", 3),
            )
        assert not isinstance(caught.value, TransientBackendError)

    def test_update_of_a_missing_document_raises_remote_not_found(
        self, backend: AccountingBackend
    ) -> None:
        _requires(backend, Capability.UPDATE)
        ref = RemoteRef(remote_id="999999", version="0", kind="invoice")
        with pytest.raises(RemoteNotFound):
            backend.update(
                self.company,
                ref,
                self.make_document(self.company, 1),
                idempotency_key=_key("missing", 1),
            )

    # -- delete or void --------------------------------------------------------

    def test_delete_or_void_takes_the_document_out_of_the_books(
        self, backend: AccountingBackend
    ) -> None:
        _requires_any(backend, Capability.DELETE, Capability.VOID)
        doc = self.make_document(self.company, 1)
        ref = backend.create(self.company, doc, idempotency_key=_key("delete", 1))
        backend.delete(self.company, ref)
        if Capability.DELETE in backend.capabilities:
            if Capability.LOOKUP_BY_KEY in backend.capabilities:
                assert backend.lookup(self.company, doc.kind, _key("delete", 1)) is None
            with pytest.raises(RemoteNotFound):
                backend.delete(self.company, ref)

    def test_delete_of_a_missing_document_raises_remote_not_found(
        self, backend: AccountingBackend
    ) -> None:
        _requires_any(backend, Capability.DELETE, Capability.VOID)
        with pytest.raises(RemoteNotFound):
            backend.delete(self.company, RemoteRef(remote_id="999999", version="0", kind="invoice"))

    # -- batch -----------------------------------------------------------------

    def test_batch_answers_each_item_in_order(self, backend: AccountingBackend) -> None:
        _requires(backend, Capability.BATCH)
        invalid = self.invalid_document(self.company)
        items = [(self.make_document(self.company, n), _key("batch", n)) for n in range(1, 4)]
        if invalid is not None:
            items.insert(1, (invalid, _key("batch", 99)))
        results = backend.create_batch(self.company, items)
        assert len(results) == len(items)
        refs = [r for r in results if isinstance(r, RemoteRef)]
        assert len(refs) == 3 and len({r.remote_id for r in refs}) == 3
        if invalid is not None:
            assert isinstance(results[1], RemoteValidationError)
        if Capability.LOOKUP_BY_KEY in backend.capabilities:
            for (doc, key), result in zip(items, results, strict=True):
                found = backend.lookup(self.company, doc.kind, key)
                if isinstance(result, RemoteRef):
                    assert found is not None and found.remote_id == result.remote_id
                else:
                    assert found is None

    def test_a_batch_repeated_with_the_same_keys_creates_nothing_new(
        self, backend: AccountingBackend
    ) -> None:
        _requires(backend, Capability.BATCH)
        _requires_any(backend, Capability.LOOKUP_BY_KEY, Capability.REPLAYS_KEY)
        items = [(self.make_document(self.company, n), _key("rebatch", n)) for n in range(1, 4)]
        first = backend.create_batch(self.company, items)
        again = backend.create_batch(self.company, items)
        for a, b in zip(first, again, strict=True):
            assert isinstance(a, RemoteRef)
            if isinstance(b, DuplicateDocumentError):
                assert Capability.REPLAYS_KEY not in backend.capabilities
            else:
                assert isinstance(b, RemoteRef) and b.remote_id == a.remote_id

    # -- validation errors -----------------------------------------------------

    def test_an_invalid_document_is_refused_with_a_readable_validation_error(
        self, backend: AccountingBackend
    ) -> None:
        invalid = self.invalid_document(self.company)
        if invalid is None:
            pytest.skip("no invalid document given (override invalid_document)")
        with pytest.raises(RemoteValidationError) as caught:
            backend.create(self.company, invalid, idempotency_key=_key("invalid", 1))
        error = caught.value
        assert isinstance(error, BackendError)
        assert not isinstance(error, TransientBackendError), "validation errors are never retried"
        assert error.message.strip()
        assert "\n" not in str(error)
        data = error.to_dict()
        assert data["error"] == type(error).__name__
        json.dumps(data)
        if Capability.LOOKUP_BY_KEY in backend.capabilities:
            assert backend.lookup(self.company, invalid.kind, _key("invalid", 1)) is None

    # -- throttling ------------------------------------------------------------

    def test_a_throttled_create_raises_a_retryable_error_and_writes_nothing(
        self, backend: AccountingBackend
    ) -> None:
        context = self.throttling(backend)
        if context is None:
            pytest.skip(f"back end {backend.name!r} cannot simulate throttling here")
        doc = self.make_document(self.company, 1)
        with context, pytest.raises(ThrottledError) as caught:
            backend.create(self.company, doc, idempotency_key=_key("throttle", 1))
        assert isinstance(caught.value, TransientBackendError)
        retry_after = caught.value.retry_after
        assert retry_after is None or retry_after >= 0
        if Capability.LOOKUP_BY_KEY in backend.capabilities:
            assert backend.lookup(self.company, doc.kind, _key("throttle", 1)) is None
        ref = backend.create(self.company, doc, idempotency_key=_key("throttle", 1))
        assert ref.remote_id

    # -- pdf -------------------------------------------------------------------

    def test_fetch_pdf_returns_a_pdf(self, backend: AccountingBackend) -> None:
        _requires(backend, Capability.PDF)
        ref = backend.create(
            self.company, self.make_document(self.company, 1), idempotency_key=_key("pdf", 1)
        )
        assert backend.fetch_pdf(self.company, ref).startswith(b"%PDF")
