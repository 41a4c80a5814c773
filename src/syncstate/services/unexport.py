"""Unexport: delete or void remote documents and make their records exportable again.

The reverse of an export. Needs the back end's ``DELETE`` or ``VOID`` capability; a
reset is the way to make records exportable without touching the back end. With the
host's shared :class:`~syncstate.services.budgets.Budgets` (the ``budget`` an export
takes) every request keeps to the company's rate and concurrency limits, as an export's.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable

from syncstate.domain.records import RecordKey
from syncstate.domain.state import Event, EventKind, ExportState
from syncstate.errors import (
    InputError,
    InvalidTransition,
    RemoteNotFound,
    SyncStateError,
    TransientBackendError,
    UnsupportedCapability,
)
from syncstate.ports import (
    AccountingBackend,
    Capability,
    Clock,
    RemoteRef,
    StateStore,
    StoredRecord,
    SystemClock,
)
from syncstate.services.budgeted import BudgetedBackend
from syncstate.services.budgets import Budgets
from syncstate.services.export_report import UnexportReport
from syncstate.services.outcomes import Cancelled
from syncstate.services.rendering import Renderer, default_renderers, render
from syncstate.services.retry import RetryPolicy, retrying

__all__ = ["unexport"]

log = logging.getLogger("syncstate.services.export")


def unexport(
    store: StateStore,
    backend: AccountingBackend,
    company: str,
    keys: Iterable[RecordKey],
    *,
    actor: str = "syncstate",
    clock: Clock | None = None,
    reason: str = "unexported: remote document removed",
    renderers: dict[str, Renderer] | None = None,
    retry: RetryPolicy | None = None,
    sleep: Callable[[float], None] = time.sleep,
    budget: Budgets | None = None,
) -> UnexportReport:
    """Delete or void the remote documents of ``keys`` and make the records exportable.

    Needs the back end's ``DELETE`` or ``VOID`` capability, otherwise raises
    :class:`~syncstate.errors.UnsupportedCapability` before anything happens
    (use a reset to make records exportable without touching the back end).
    Every record must be ``exported`` or ``outdated``. A document already gone
    remotely counts as removed, so a run interrupted half-way can be repeated.

    ``budget`` (as ``ExportOptions.budget``): every request first takes a slot of the
    company's shared budget; a ``Retry-After`` holds every worker back. When a hold
    is longer than ``budget.yield_after``, the run stops: the records not yet removed
    are reported failed (``not sent``) and stay exported; run it again later.
    """
    caps = backend.capabilities
    if Capability.DELETE not in caps and Capability.VOID not in caps:
        raise UnsupportedCapability(
            f"back end {backend.name} cannot delete or void documents, so records cannot be "
            "unexported there; use a reset to make them exportable again (the remote "
            "documents then stay where they are)"
        )
    clock = clock or SystemClock()
    table = {**default_renderers(), **(renderers or {})}
    targets: list[tuple[StoredRecord, RemoteRef]] = []
    for key in dict.fromkeys(keys):
        if key.company != company:
            raise InputError(f"record {key} does not belong to company {company!r}")
        stored = store.get(key)
        status = stored.status
        if status.state not in (ExportState.EXPORTED, ExportState.OUTDATED) or not status.remote_id:
            raise InvalidTransition(
                record=str(key),
                state=status.state.value,
                event=EventKind.UNEXPORT.value,
                detail="only exported or outdated records can be unexported",
            )
        kind = render(stored, table).kind
        targets.append(
            (
                stored,
                RemoteRef(remote_id=status.remote_id, version=status.remote_version, kind=kind),
            )
        )
    done: list[RecordKey] = []
    failed: list[tuple[RecordKey, str]] = []
    policy = retry or RetryPolicy()
    shared = budget.for_company(backend, company) if budget is not None else None
    remote = backend if shared is None else BudgetedBackend(backend, shared)
    try:
        for position, (stored, ref) in enumerate(targets):
            try:
                for attempt in retrying(policy, sleep=sleep):
                    with attempt:
                        try:
                            remote.delete(company, ref)
                        except RemoteNotFound:
                            log.info(
                                "remote document %s of %s was already gone",
                                ref.remote_id,
                                stored.key,
                            )
                done.append(stored.key)
            except Cancelled as exc:  # held back longer than the run may wait: stop
                failed.extend((s.key, f"not sent: {exc}") for s, _ in targets[position:])
                break
            except (TransientBackendError, SyncStateError) as exc:
                failed.append((stored.key, str(exc)))
    finally:
        if shared is not None:
            shared.flush()
    if done:
        store.apply(
            company,
            [(key, Event.of(EventKind.UNEXPORT, reason)) for key in done],
            at=clock.now(),
            actor=actor,
        )
    return UnexportReport(
        company=company, backend=backend.name, unexported=tuple(done), failed=tuple(failed)
    )
