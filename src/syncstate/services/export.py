"""The exactly-once export engine: claim → key → send → confirm.

:func:`export_records` exports the exportable records of one company:

1. **Select** (kinds, date range, subjects, keys) the records that are
   ``not_exported``, ``failed``, ``outdated``, or ``in_flight`` with an expired
   lease (*ambiguous*: an earlier run may have sent them before it died).
2. **Claim** them page by page (``in_flight`` with a lease, one transaction a
   page). The idempotency key of each attempt comes from the record's export
   generation and revision, so it is fixed before any retry.
3. **Send** on a bounded thread pool (``concurrency`` per company), in batches
   where the back end declares ``BATCH``; see :mod:`syncstate.services.sending`
   for lookups of ambiguous records, retries, overwrites and stale versions.
4. **Confirm**: outcomes are written in batches (many events per transaction):
   ``succeed`` with remote id and version, ``fail`` with the message,
   ``release`` for records never sent. Records that may exist remotely stay
   ``in_flight``; the next run looks them up by key instead of sending twice.

A crash anywhere leaves every record either untouched, claimed (looked up
after its lease), or confirmed: never sent twice, never lost. Cancellation (a
``cancel`` event or Ctrl-C) releases what was not sent yet.

:func:`unexport` (in :mod:`syncstate.services.unexport`, re-exported here) is the
reverse export: it deletes or voids the remote document where the back end can,
and returns the record to ``not_exported``.
"""

from __future__ import annotations

import concurrent.futures as cf
import logging
import os
import queue
import socket
import threading
import time
import uuid
from collections.abc import Iterable, Sequence

from syncstate.domain.records import RecordKey
from syncstate.domain.state import EXPORTABLE, Event, EventKind, ExportState
from syncstate.errors import (
    BackendUnavailable,
    InputError,
    InvalidTransition,
    RecordNotFound,
    SyncStateError,
    UnsupportedCapability,
)
from syncstate.periods import DateRange
from syncstate.ports import (
    AccountingBackend,
    Capability,
    Clock,
    Progress,
    StateStore,
    StoredRecord,
    SystemClock,
)
from syncstate.services.breaker import Breaker
from syncstate.services.budgeted import BudgetedBackend
from syncstate.services.export_report import ExportOptions, ExportReport, UnexportReport
from syncstate.services.leases import renew_leases
from syncstate.services.pacing import Pacer, ThrottleGate
from syncstate.services.preview import select_exportable as _select
from syncstate.services.rendering import Renderer, default_renderers, render
from syncstate.services.sending import Item, Outcome, RecordOutcome, Sender
from syncstate.services.unexport import unexport

__all__ = ["ExportOptions", "ExportReport", "UnexportReport", "export_records", "unexport"]

log = logging.getLogger(__name__)

_SELECTABLE = frozenset(EXPORTABLE | {ExportState.IN_FLIGHT})


class _Silent:
    """A :class:`~syncstate.ports.Progress` that shows nothing."""

    def start(self, total: int, label: str) -> None:
        """Ignored."""

    def advance(self, n: int = 1, *, outcome: str = "") -> None:
        """Ignored."""

    def note(self, message: str) -> None:
        """Ignored."""

    def finish(self) -> None:
        """Ignored."""


def _worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class _Run:
    """The state of one export run, driven from the calling thread."""

    def __init__(
        self,
        store: StateStore,
        backend: AccountingBackend,
        company: str,
        *,
        actor: str,
        clock: Clock,
        progress: Progress,
        options: ExportOptions,
        renderers: dict[str, Renderer],
        cancel: threading.Event,
    ) -> None:
        self.store, self.backend, self.company = store, backend, company
        self.actor, self.clock, self.progress, self.options = actor, clock, progress, options
        self.renderers = renderers
        self.cancel = cancel
        self.worker = options.worker or _worker_name()
        self.notes: queue.SimpleQueue[str] = queue.SimpleQueue()
        self.sender = Sender(
            backend,
            company,
            policy=options.retry,
            gate=ThrottleGate(sleep=options.sleep),
            pacer=Pacer(options.requests_per_minute, sleep=options.sleep),
            sleep=options.sleep,
            cancelled=cancel,
            notify=self.notes.put,
            seed=options.seed,
            breaker=Breaker(options.max_connection_failures, options.unavailable_after),
        )
        self.batching = (
            options.use_batch and Capability.BATCH in backend.capabilities and backend.max_batch > 1
        )
        self.outcomes: list[RecordOutcome] = []
        self.unwritten: list[RecordOutcome] = []
        self.last_flush = time.monotonic()
        self.last_renew = time.monotonic()

    # ----------------------------------------------------------- outcomes

    def record(self, outcomes: Iterable[RecordOutcome]) -> None:
        for outcome in outcomes:
            self.outcomes.append(outcome)
            self.unwritten.append(outcome)
            self.progress.advance(1, outcome=outcome.outcome.value)
        while True:
            try:
                self.progress.note(self.notes.get_nowait())
            except queue.Empty:
                break

    @staticmethod
    def _event(outcome: RecordOutcome) -> Event | None:
        if outcome.outcome in (Outcome.EXPORTED, Outcome.UPDATED) and outcome.remote_id:
            return Event.succeed(outcome.remote_id, outcome.version, outcome.doc_number)
        if outcome.outcome is Outcome.FAILED:
            return Event.fail(outcome.message or "failed")
        if outcome.outcome is Outcome.RELEASED:
            return Event.of(EventKind.RELEASE, outcome.message or "not sent")
        return None  # pending and skipped records stay as they are

    def flush(self, *, force: bool = False) -> None:
        """Write unwritten outcomes, many per transaction."""
        due = time.monotonic() - self.last_flush >= self.options.flush_interval
        if not self.unwritten or not (
            force or due or len(self.unwritten) >= self.options.flush_size
        ):
            return
        batch, self.unwritten = self.unwritten, []
        self.last_flush = time.monotonic()
        events = [(o.key, e) for o in batch if (e := self._event(o)) is not None]
        if not events:
            return
        try:
            self.store.apply(self.company, events, at=self.clock.now(), actor=self.actor)
        except (InvalidTransition, RecordNotFound):
            # Someone else changed a record meanwhile: write the others one by one.
            for key, event in events:
                try:
                    self.store.apply(
                        self.company, [(key, event)], at=self.clock.now(), actor=self.actor
                    )
                except (InvalidTransition, RecordNotFound) as exc:
                    log.warning("outcome of %s not recorded: %s", key, exc)
                    self.notes.put(f"outcome of {key} not recorded: {exc}")

    # -------------------------------------------------------------- units

    def stage(self, claimed: Sequence[StoredRecord], ambiguous: set[RecordKey]) -> list[list[Item]]:
        """Render claimed records into units of work (a batch, or a single item)."""
        fresh: list[Item] = []
        units: list[list[Item]] = []
        failures: list[RecordOutcome] = []
        for stored in claimed:
            key = stored.status.key_for(stored.key)
            try:
                document = render(stored, self.renderers)
            except SyncStateError as exc:
                failures.append(
                    RecordOutcome(
                        key=stored.key,
                        outcome=Outcome.FAILED,
                        idempotency_key=key,
                        message=str(exc),
                    )
                )
                continue
            item = Item(
                stored=stored, document=document, key=key, ambiguous=stored.key in ambiguous
            )
            if self.batching and not item.ambiguous and item.ref is None:
                fresh.append(item)
            else:
                units.append([item])
        size = self.backend.max_batch if self.batching else 1
        units += [fresh[i : i + size] for i in range(0, len(fresh), size)]
        self.record(failures)
        return units

    def run_unit(self, unit: list[Item]) -> list[RecordOutcome]:
        """Send one unit (on a worker thread)."""
        if len(unit) > 1 or (self.batching and unit[0].ref is None and not unit[0].ambiguous):
            return self.sender.send_batch(unit)
        return [self.sender.send(unit[0])]

    # --------------------------------------------------------------- loop

    def execute(self, selected: list[StoredRecord]) -> None:
        now = self.clock.now()
        todo: list[StoredRecord] = []
        skipped: list[RecordOutcome] = []
        ambiguous: set[RecordKey] = set()
        for stored in selected:
            status = stored.status
            if status.state is ExportState.IN_FLIGHT:
                if status.lease_until is not None and status.lease_until > now:
                    skipped.append(
                        RecordOutcome(
                            key=stored.key,
                            outcome=Outcome.SKIPPED,
                            idempotency_key=status.key_for(stored.key),
                            message=f"held by {status.worker or 'another worker'} until "
                            f"{status.lease_until.isoformat()}",
                        )
                    )
                    continue
                ambiguous.add(stored.key)
            todo.append(stored)
        self.record(skipped)
        page = max(
            self.options.claim_size,
            self.options.concurrency * (self.backend.max_batch or 1) if self.batching else 0,
        )
        high_water = self.options.concurrency * 2
        running: dict[cf.Future[list[RecordOutcome]], list[Item]] = {}
        position = 0
        with cf.ThreadPoolExecutor(
            max_workers=self.options.concurrency, thread_name_prefix="syncstate-export"
        ) as pool:
            try:
                while True:
                    while (
                        position < len(todo)
                        and len(running) < high_water
                        and not self.cancel.is_set()
                    ):
                        chunk = todo[position : position + page]
                        position += len(chunk)
                        self._claim_and_submit(pool, chunk, ambiguous, running)
                    if not running:
                        break
                    done, _ = cf.wait(running, timeout=0.2, return_when=cf.FIRST_COMPLETED)
                    for future in done:
                        running.pop(future)
                        self.record(future.result())
                    self.flush()
                    self.heartbeat(running.values())
            except BaseException:
                # Ctrl-C or a bug: stop sending, let workers release what they hold.
                self.cancel.set()
                for future in cf.as_completed(running):
                    try:
                        self.record(future.result())
                    except Exception:
                        log.exception("export worker failed; its records stay in flight")
                self.flush(force=True)
                raise
        self.flush(force=True)

    def heartbeat(self, units: Iterable[list[Item]]) -> None:
        """Renew the leases of records still being sent, every third of a lease."""
        interval = self.options.lease.total_seconds() / 3
        if time.monotonic() - self.last_renew < interval:
            return
        self.last_renew = time.monotonic()
        keys = [item.stored.key for unit in units for item in unit]
        if keys:
            now = self.clock.now()
            renew_leases(
                self.store,
                self.company,
                keys,
                worker=self.worker,
                lease_until=now + self.options.lease,
                at=now,
                actor=self.actor,
            )

    def _claim_and_submit(
        self,
        pool: cf.ThreadPoolExecutor,
        chunk: list[StoredRecord],
        ambiguous: set[RecordKey],
        running: dict[cf.Future[list[RecordOutcome]], list[Item]],
    ) -> None:
        now = self.clock.now()
        claimed = self.store.claim(
            self.company,
            worker=self.worker,
            lease_until=now + self.options.lease,
            at=now,
            actor=self.actor,
            keys=[s.key for s in chunk],
            limit=len(chunk),
        )
        # a claim that took over an expired lease (status.previous is in_flight) may
        # follow a send by the dead holder, even if the record was idle when selected
        ambiguous.update(s.key for s in claimed if s.status.previous is ExportState.IN_FLIGHT)
        got = {s.key for s in claimed}
        self.record(
            RecordOutcome(key=s.key, outcome=Outcome.SKIPPED, message="claimed by another worker")
            for s in chunk
            if s.key not in got
        )
        try:
            units = self.stage(claimed, ambiguous)
        except BaseException:
            # nothing of this page was sent: hand it back rather than hold it for a lease
            self.store.apply(
                self.company,
                [(s.key, Event.of(EventKind.RELEASE, "not sent: the run failed")) for s in claimed],
                at=self.clock.now(),
                actor=self.actor,
            )
            raise
        for unit in units:
            running[pool.submit(self.run_unit, unit)] = unit


def export_records(
    store: StateStore,
    backend: AccountingBackend,
    company: str,
    *,
    kinds: Iterable[str] | None = None,
    date_range: DateRange | None = None,
    subjects: Iterable[str] | None = None,
    keys: Iterable[RecordKey] | None = None,
    actor: str = "syncstate",
    clock: Clock | None = None,
    progress: Progress | None = None,
    options: ExportOptions | None = None,
) -> ExportReport:
    """Export the exportable records of ``company`` to ``backend``, exactly once.

    ``kinds`` defaults to every kind with a renderer; ``date_range``,
    ``subjects`` (employees, clients) and ``keys`` narrow the selection.
    Returns an :class:`ExportReport`; check ``report.ok`` (nothing failed, pending or
    released), not only ``report.failed``. Raises
    :class:`~syncstate.errors.AuthenticationError` (after releasing what was
    not sent) if the back end refuses the credentials,
    :class:`~syncstate.errors.BackendUnavailable` (carrying the report) when the
    circuit breaker finds the back end unreachable (see
    :class:`ExportOptions`), and re-raises ``KeyboardInterrupt`` after a clean stop.
    """
    opts = options or ExportOptions()
    if Capability.CREATE not in backend.capabilities:
        raise UnsupportedCapability(f"back end {backend.name} cannot create documents")
    renderers = {**default_renderers(), **opts.renderers}
    kind_list = sorted(renderers) if kinds is None else sorted(set(kinds))
    for kind in kind_list:
        if kind not in renderers:
            known = ", ".join(sorted(renderers))
            raise InputError(f"no renderer for record kind {kind!r} (known: {known})")
    started = time.monotonic()
    progress = progress or _Silent()
    selected = _select(
        store, company, kinds=kind_list, date_range=date_range, subjects=subjects, keys=keys
    )
    cancel = opts.cancel or threading.Event()
    budget = opts.budget.for_company(backend, company, cancel=cancel) if opts.budget else None
    run = _Run(
        store,
        backend if budget is None else BudgetedBackend(backend, budget),
        company,
        actor=actor,
        clock=clock or SystemClock(),
        progress=progress,
        options=opts,
        renderers=renderers,
        cancel=cancel,
    )
    progress.start(len(selected), f"export {company} to {backend.name}")
    try:
        run.execute(selected)
    finally:
        progress.finish()
        if budget is not None:
            budget.flush()
    if run.sender.fatal is not None:
        raise run.sender.fatal
    breaker = run.sender.breaker
    report = ExportReport(
        company=company,
        backend=backend.name,
        outcomes=tuple(run.outcomes),
        retries=run.sender.retries,
        duration=time.monotonic() - started,
        cancelled=run.cancel.is_set(),
        unavailable=breaker.reason,
    )
    if breaker.tripped:
        message = (
            f"back end {backend.name} is unavailable for company {company}: {breaker.reason}; "
            f"stopped after {report.duration:.1f}s with {report.exported + report.updated} "
            f"exported, {report.released} released, {len(report.pending)} pending"
        )
        log.warning(message, extra={"company": company, "records": report.total})
        raise BackendUnavailable(message, report=report)
    return report
