"""Rate and concurrency budgets per company, shared by every worker process.

A back end limits each company as a whole: QuickBooks Online allows 500
requests a minute, 40 batch requests a minute (per app) and 10 concurrent
requests per realm, however many workers send them. :class:`Budgets` is what a
host passes to every export (``ExportOptions(budget=...)``): where the shared
budgets live (a :class:`~syncstate.ports.BudgetStore`: PostgreSQL for many
machines, SQLite for processes on one machine, memory for threads), which
limits each back end declares (:func:`declared_limits`), how far the host
lowers them and how much headroom to keep below them.

During a run every request to the back end first takes a slot from the
company's :class:`SharedBudget`: one round trip to the store that both takes a
concurrency slot (a lease, so a dead worker's slots come back) and reserves the
next request time; the slot of the run's previous request goes back in that
same round trip. A ``429`` with ``Retry-After`` seen by one worker
is written to the store, and holds every worker of that company back.

A slot is a lease, so a dead worker's slots come back; a live worker whose request
runs longer than the lease (a slow server) keeps its slot with a heartbeat: one
daemon thread per run renews the leases of the slots its requests still hold, every
``heartbeat`` seconds (a third of the lease unless set), in one round trip for them
all. It renews nothing once a request ends, stops when the run has no request in
progress, and dies with the process, so a killed worker's slots still come back.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from types import MappingProxyType

import attrs

from syncstate.errors import InputError, NotSent, StorageError
from syncstate.ports import AccountingBackend
from syncstate.ports.budget import BudgetLimits, BudgetScope, BudgetStore, Grant
from syncstate.services.outcomes import Cancelled

__all__ = [
    "DECLARED_LIMITS",
    "QUICKBOOKS_LIMITS",
    "XERO_LIMITS",
    "Budgets",
    "SharedBudget",
    "declared_limits",
]

log = logging.getLogger(__name__)

#: seconds a finished slot waits for the run's next take to carry it back, when no
#: thread of the run is sending or asking (then it goes back in a round trip of its own)
LINGER = 0.05

#: QuickBooks Online, per realm: 500 requests a minute (batch requests included), 10
#: concurrent requests, 40 batch requests a minute per app and realm (120 per realm for
#: all apps together). Sources: developer.intuit.com "API call limits and throttles"
#: (qbo/docs/learn/limits-and-throttles) and the concurrency announcement of 2016-08-08.
QUICKBOOKS_LIMITS = BudgetLimits(per_minute=500, concurrent=10, batch_per_minute=40)

#: Xero, per tenant: 60 calls a minute and 5 in progress at once (the 5,000 a day are not
#: paced). Source: developer.xero.com/faq/limits.
XERO_LIMITS = BudgetLimits(per_minute=60, concurrent=5)

#: limits by back-end name, for back ends that do not declare ``budget_limits`` themselves
#: (none for Sage Intacct: its per-company limits are not confirmed; a host sets its own)
DECLARED_LIMITS: Mapping[str, BudgetLimits] = MappingProxyType(
    {"quickbooks": QUICKBOOKS_LIMITS, "xero": XERO_LIMITS}
)


def declared_limits(backend: AccountingBackend) -> BudgetLimits | None:
    """The limits ``backend`` declares (its ``budget_limits`` attribute, else the table)."""
    own = getattr(backend, "budget_limits", None)
    if isinstance(own, BudgetLimits):
        return own
    return DECLARED_LIMITS.get(backend.name)


def _holder_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _freeze(value: Mapping[str, BudgetLimits]) -> Mapping[str, BudgetLimits]:
    return MappingProxyType(dict(value))


def _check_headroom(_instance: object, _attribute: attrs.Attribute[float], value: float) -> None:
    if not 0 < value <= 1:
        raise InputError(f"budgets: headroom must be in (0, 1], got {value}")


@attrs.frozen(kw_only=True)
class Budgets:
    """The host's shared budgets: one per (back end, company), for every export.

    * ``store``: where the budgets live, shared by every worker;
    * ``limits``: the host's own limits by back-end name; they can only lower what
      the back end declares (a back end that declares none is limited by these alone);
    * ``headroom``: the share of the limits to use (below 1 absorbs network jitter, so
      the back end's own window never sees more than it allows);
    * ``lease``: how long a slot may be held past its request time before it is
      given back to the others (longer than a request can take: QuickBooks times out
      requests after 120 seconds);
    * ``yield_after``: when a ``Retry-After`` holds the company back for longer than
      this, the run stops (releasing what it has not sent) so that its worker can
      serve another company; ``None`` waits;
    * ``default_hold``: seconds to hold a company back after a 429 without
      ``Retry-After``;
    * ``heartbeat``: seconds between renewals of the leases of slots whose request is
      still running (``None``: a third of ``lease``; it must be below ``lease``);
    * ``sleep``: injected for tests.
    """

    store: BudgetStore
    limits: Mapping[str, BudgetLimits] = attrs.field(factory=dict, converter=_freeze)
    headroom: float = attrs.field(default=0.95, validator=_check_headroom)
    lease: float = attrs.field(default=130.0)
    yield_after: float | None = None
    default_hold: float = 5.0
    heartbeat: float | None = attrs.field(default=None)
    sleep: Callable[[float], None] = attrs.field(default=time.sleep, eq=False)

    @lease.validator
    def _check_lease(self, _attribute: attrs.Attribute[float], value: float) -> None:
        if not value > 0:
            raise InputError(f"budgets: lease must be positive, got {value}")

    @heartbeat.validator
    def _check_heartbeat(
        self, _attribute: attrs.Attribute[float | None], value: float | None
    ) -> None:
        if value is not None and not 0 < value < self.lease:
            raise InputError(
                f"budgets: heartbeat must be positive and below the lease ({self.lease}s), "
                f"got {value}"
            )

    def limits_for(self, backend: AccountingBackend) -> BudgetLimits:
        """What ``backend``'s companies are held to: declared, lowered, with headroom."""
        declared = declared_limits(backend)
        host = self.limits.get(backend.name)
        if declared is None and host is None:
            return BudgetLimits()
        merged = host if declared is None else declared.lowered(host)
        assert merged is not None
        return merged.scaled(self.headroom)

    def for_company(
        self,
        backend: AccountingBackend,
        company: str,
        *,
        cancel: threading.Event | None = None,
    ) -> SharedBudget:
        """The budget of ``company`` at ``backend``, for one run in this process."""
        return SharedBudget(
            self.store,
            BudgetScope(backend.name, company),
            self.limits_for(backend),
            lease=self.lease,
            yield_after=self.yield_after,
            default_hold=self.default_hold,
            heartbeat=self.heartbeat,
            sleep=self.sleep,
            cancel=cancel,
        )

    def held_for(self, backend: str, company: str) -> float:
        """Seconds a ``Retry-After`` still holds ``company`` back at ``backend`` (0: none)."""
        return self.store.usage(BudgetScope(backend, company)).held_for


class SharedBudget:
    """One company's budget as seen by one run; safe to share between its threads.

    :meth:`slot` wraps one request. A finished slot goes back with the run's next take
    (one round trip per request), or after :data:`LINGER` seconds when no take came;
    :meth:`flush` hands back the rest at the end of a run. While requests run, a
    heartbeat thread renews their slots' leases every ``heartbeat`` seconds.
    ``stats`` counts round trips, slots, takes that had to wait, seconds waited,
    renewals and slots lost (expired before their renewal).
    """

    def __init__(
        self,
        store: BudgetStore,
        scope: BudgetScope,
        limits: BudgetLimits,
        *,
        lease: float = 130.0,
        yield_after: float | None = None,
        default_hold: float = 5.0,
        heartbeat: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
        cancel: threading.Event | None = None,
        holder: str | None = None,
    ) -> None:
        self.store, self.scope, self.limits = store, scope, limits
        self.lease, self.yield_after, self.default_hold = lease, yield_after, default_hold
        self.heartbeat = lease / 3 if heartbeat is None else heartbeat
        # a store written before BudgetStore.renew: no heartbeat, leases as they were
        self._renews = callable(getattr(store, "renew", None))
        if not self._renews:
            log.warning("%r cannot renew leases: a request longer than %ss may lose its slot",
                        store, lease)  # fmt: skip
        self.holder = holder or _holder_name()
        self._sleep = sleep
        self._cancel = cancel
        self._lock = threading.Lock()
        self._pending: list[str] = []
        self._active = 0  # slots in use by this run's threads
        self._takers = 0  # threads asking the store for a slot right now
        self._timer: threading.Timer | None = None
        self._held: set[str] = set()  # slots whose request is in progress (renewed)
        self._beat: tuple[threading.Thread, threading.Event] | None = None
        #: seconds a hold still had to run when the run yielded its worker (None: it did not)
        self.yielded: float | None = None
        self.stats: dict[str, float] = {
            "round_trips": 0,
            "slots": 0,
            "waits": 0,
            "waited": 0.0,
            "renewals": 0,
            "lost": 0,
        }

    def __repr__(self) -> str:
        return f"SharedBudget({str(self.scope)!r}, {self.limits!r})"

    def _count(self, **deltas: float) -> None:
        with self._lock:
            for name, delta in deltas.items():
                self.stats[name] += delta

    def _wait(self, seconds: float) -> None:
        if seconds <= 0:
            return
        self._count(waited=seconds)
        if self._cancel is None:
            self._sleep(seconds)
            return
        deadline = time.monotonic() + seconds
        while not self._cancel.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return
            self._sleep(min(left, 0.25))

    def _take(self, *, batch: bool, cost: int) -> Grant:
        while True:
            if self._cancel is not None and self._cancel.is_set():
                raise Cancelled("export cancelled while waiting for the company's budget")
            with self._lock:
                release, self._pending = self._pending, []
                self._takers += 1
            try:
                grant = self.store.take(
                    self.scope,
                    self.limits,
                    holder=self.holder,
                    batch=batch,
                    cost=cost,
                    lease=self.lease,
                    release=release,
                )
            except StorageError as exc:
                with self._lock:
                    self._pending.extend(release)
                raise NotSent(f"the shared budget of {self.scope} is unavailable: {exc}") from exc
            finally:
                with self._lock:
                    self._takers -= 1
            self._count(round_trips=1)
            if grant.slot is not None:
                with self._lock:
                    self._active += 1
                self._count(slots=1)
                return grant
            self._count(waits=1)
            held = grant.reason == "held"
            if held and self.yield_after is not None and grant.wait > self.yield_after:
                self._yield(grant.wait)
            self._wait(grant.wait)

    @contextmanager
    def slot(self, *, batch: bool = False, cost: int = 1) -> Iterator[None]:
        """Hold a slot of the company for one request (``cost`` requests in a row)."""
        grant = self._take(batch=batch, cost=cost)
        assert grant.slot is not None
        with self._lock:
            self._held.add(grant.slot)
            self._start_beat()
        try:
            self._wait(grant.wait)
            if self._cancel is not None and self._cancel.is_set():  # stopped while waiting
                raise Cancelled("export cancelled while waiting for its turn in the rate")
            yield
        finally:
            # the slot goes back with the next take of this run; when no thread of the
            # run is sending or asking, it goes back by itself after LINGER seconds
            with self._lock:
                self._held.discard(grant.slot)
                self._pending.append(grant.slot)
                self._active -= 1
                idle = self._active == 0 and self._takers == 0
            if idle:
                self._flush_soon()

    def hold(self, seconds: float | None) -> None:
        """Hold every worker of the company back (a ``Retry-After`` was seen).

        Raises :class:`~syncstate.services.outcomes.Cancelled` (and cancels the run)
        when the hold is longer than ``yield_after``: the worker serves others meanwhile.
        """
        wait = self.default_hold if seconds is None else seconds
        log.info("%s held back for %.1fs after a throttled request", self.scope, wait)
        try:
            self.store.hold(self.scope, wait)
            self._count(round_trips=1)
        except StorageError as exc:  # the local retry still waits; others may not know
            log.warning("could not share the hold of %s: %s", self.scope, exc)
        if self.yield_after is not None and wait > self.yield_after:
            self._yield(wait)

    def _yield(self, wait: float) -> None:
        self.yielded = wait
        if self._cancel is not None:
            self._cancel.set()
        raise Cancelled(
            f"{self.scope} is held back for {wait:.1f}s (Retry-After); yielding the worker"
        )

    def _flush_soon(self) -> None:
        with self._lock:
            if self._timer is not None:
                return
            timer = self._timer = threading.Timer(LINGER, self._lingered)
        timer.daemon = True
        timer.start()

    def _lingered(self) -> None:
        with self._lock:
            self._timer = None
        self.flush()

    def _start_beat(self) -> None:  # under self._lock
        if self._beat is not None or not self._renews:
            return
        stop = threading.Event()
        thread = threading.Thread(
            target=self._heartbeat, args=(stop,), name=f"budget-heartbeat {self.scope}"
        )
        thread.daemon = True  # dies with the process: a killed worker renews nothing
        self._beat = (thread, stop)
        thread.start()

    def _heartbeat(self, stop: threading.Event) -> None:
        while not stop.wait(self.heartbeat):
            with self._lock:
                if stop.is_set():
                    return
                slots = sorted(self._held)
                if not slots:  # no request in progress: stop; the next slot starts another
                    self._beat = None
                    return
            self.renew(slots)

    def renew(self, slots: Sequence[str]) -> None:
        """Renew the leases of ``slots`` now (what the heartbeat does); one round trip."""
        try:
            kept = set(self.store.renew(self.scope, slots, lease=self.lease))
        except Exception as exc:  # a heartbeat must not die: at worst the lease runs out
            log.warning("could not renew %d slots of %s: %s", len(slots), self.scope, exc)
            return
        self._count(round_trips=1, renewals=1)
        with self._lock:  # those that ended meanwhile were released, not lost
            lost = [s for s in slots if s not in kept and s in self._held]
        if lost:
            log.warning(
                "%d slots of %s expired before their renewal (the heartbeat was late); "
                "their requests run on, and the company may briefly see one more at once",
                len(lost),
                self.scope,
            )
            self._count(lost=len(lost))

    def _stop_beat(self) -> None:
        with self._lock:
            if self._held or self._beat is None:
                return
            (_thread, stop), self._beat = self._beat, None
        stop.set()

    def flush(self) -> None:
        """Hand back every slot still waiting to go back (end of a run)."""
        with self._lock:
            slots, self._pending = self._pending, []
            timer, self._timer = self._timer, None
        if timer is not None:
            timer.cancel()
        self._stop_beat()
        if slots:
            try:
                self.store.release(self.scope, slots)
                self._count(round_trips=1)
            except StorageError as exc:  # their leases run out instead
                log.warning("could not release %d slots of %s: %s", len(slots), self.scope, exc)
