"""A back end whose every request first takes a slot of the company's shared budget.

:class:`BudgetedBackend` wraps any :class:`~syncstate.ports.AccountingBackend`
without the back end knowing: each call of the port (``create``, ``update``,
``create_batch``, ``lookup``, ``lookup_many``, ``fetch_ref``, ``delete``,
``fetch_pdf``) holds one concurrency slot of the company for its duration and
takes its place in the company's request rate (``update`` counts as two
requests: QuickBooks reads the document before it writes). A
:class:`~syncstate.errors.ThrottledError` is written to the shared store as a
hold of its ``Retry-After``, so every worker of the company waits, then raised
as before for the engine's own retry; a hold longer than the run may wait
(``Budgets.yield_after``) stops the run instead, so its worker can serve others.

The optional look-ups of a back end (``check_remote_ids``, ``get_customer``,
``find_customer``, ``create_customer``) are guarded too, one slot a call.
:func:`through_budget` does the same for one call of code that holds the bare
back end (bundle mapping checks; an ``isinstance`` check of an optional protocol
sees only the methods a class defines, so test the bare back end, call through this).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from syncstate.errors import BackendError, ThrottledError
from syncstate.ports import AccountingBackend, Capability, Document, RemoteRef
from syncstate.services.budgets import Budgets, SharedBudget
from syncstate.services.outcomes import Cancelled

__all__ = ["REQUESTS_PER_CALL", "BudgetedBackend", "company_budget", "through_budget"]

_R = TypeVar("_R")

#: requests one call of the port makes, where more than one (the rate moves on by that many)
REQUESTS_PER_CALL = {"update": 2}

_OPTIONAL = frozenset(
    {
        "lookup_many",
        "fetch_ref",
        "check_remote_ids",
        "get_customer",
        "find_customer",
        "create_customer",
    }
)


@contextmanager
def company_budget(
    budgets: Budgets | None, backend: AccountingBackend, company: str
) -> Iterator[SharedBudget | None]:
    """``company``'s budget for one run (``None`` without ``budgets``), flushed at the end."""
    if budgets is None:
        yield None
        return
    shared = budgets.for_company(backend, company)
    try:
        yield shared
    finally:
        shared.flush()


def through_budget(
    budget: SharedBudget | None,
    call: Callable[[], _R],
    *,
    batch: bool = False,
    cost: int = 1,
) -> _R:
    """Run ``call`` (one request to the back end) inside a slot of ``budget``.

    ``None`` runs it as it is. A :class:`~syncstate.errors.ThrottledError` holds every
    worker of the company back for its ``Retry-After`` and is raised again (or
    :class:`~syncstate.services.outcomes.Cancelled` when the hold is longer than the
    run may wait).
    """
    if budget is None:
        return call()
    with budget.slot(batch=batch, cost=cost):
        try:
            return call()
        except ThrottledError as exc:
            try:
                budget.hold(exc.retry_after)
            except Cancelled as stop:  # held longer than the run may wait: yield
                raise stop from exc
            raise


class BudgetedBackend:
    """``inner`` with every request inside a slot of ``budget`` (one company's)."""

    def __init__(self, inner: AccountingBackend, budget: SharedBudget) -> None:
        self.inner = inner
        self.budget = budget

    def __repr__(self) -> str:
        return f"BudgetedBackend({self.inner!r}, {self.budget!r})"

    @property
    def name(self) -> str:
        """The inner back end's name."""
        return self.inner.name

    @property
    def capabilities(self) -> frozenset[Capability]:
        """The inner back end's capabilities."""
        return self.inner.capabilities

    @property
    def max_batch(self) -> int:
        """The inner back end's batch size."""
        return self.inner.max_batch

    def _guarded(self, what: str, call: Callable[[], _R], *, batch: bool = False) -> _R:
        return through_budget(self.budget, call, batch=batch, cost=REQUESTS_PER_CALL.get(what, 1))

    def create(self, company: str, document: Document, *, idempotency_key: str) -> RemoteRef:
        """Create, inside a slot."""
        return self._guarded(
            "create", lambda: self.inner.create(company, document, idempotency_key=idempotency_key)
        )

    def update(
        self, company: str, ref: RemoteRef, document: Document, *, idempotency_key: str
    ) -> RemoteRef:
        """Update, inside a slot (two requests)."""
        return self._guarded(
            "update",
            lambda: self.inner.update(company, ref, document, idempotency_key=idempotency_key),
        )

    def lookup(self, company: str, kind: str, idempotency_key: str) -> RemoteRef | None:
        """Look up by key, inside a slot."""
        return self._guarded("lookup", lambda: self.inner.lookup(company, kind, idempotency_key))

    def delete(self, company: str, ref: RemoteRef) -> None:
        """Delete or void, inside a slot."""
        self._guarded("delete", lambda: self.inner.delete(company, ref))

    def create_batch(
        self, company: str, items: Sequence[tuple[Document, str]]
    ) -> list[RemoteRef | BackendError]:
        """Create a batch, inside a slot that also counts against the batch rate."""
        return self._guarded(
            "create_batch", lambda: self.inner.create_batch(company, items), batch=True
        )

    def fetch_pdf(self, company: str, ref: RemoteRef) -> bytes:
        """Fetch a PDF, inside a slot."""
        return self._guarded("fetch_pdf", lambda: self.inner.fetch_pdf(company, ref))

    def __getattr__(self, attribute: str) -> Any:
        # optional methods (lookup_many, fetch_ref, look-ups) are guarded; other attributes
        # (lookup_kinds, close, ...) are the inner back end's
        value = getattr(self.inner, attribute)
        if attribute in _OPTIONAL and callable(value):

            def guarded(*args: Any, **kwargs: Any) -> Any:
                return self._guarded(attribute, lambda: value(*args, **kwargs))

            return guarded
        return value
