"""Fan companies out to workers: "export a page of company X" and who goes next.

Engine-agnostic: a task queue (Celery, Dramatiq, RQ, Procrastinate) only needs
two jobs built on this module, each one service call:

* :func:`export_page` exports the next page of one company (at most
  ``page_size`` records, exactly once, through :func:`~syncstate.export_records`)
  and answers whether the company has more (:attr:`PageOutcome.more`) and how
  long to wait before its next page (:attr:`PageOutcome.retry_in`: a
  ``Retry-After`` still holding the company back, or the lease of records that a
  dead worker held). The job re-enqueues the company *at the back of the queue*
  with that delay: a busy company gets one page, then every other waiting
  company gets one, so it cannot starve them, and a throttled company gives its
  worker away instead of sleeping on it.
* :func:`companies_with_work` lists the companies with exportable records; a
  scheduler enqueues each once, keeping one chain per company with
  :class:`Tickets` (a ticket per company with a time to live, e.g. a Redis key).

A record that failed is retried by the first page of a round (``retry_failed``),
not by every page, so a record the back end keeps refusing cannot loop a chain.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterable
from typing import Protocol

import attrs

from syncstate.domain.state import ExportState
from syncstate.ports import AccountingBackend, Clock, StateStore, StoredRecord, SystemClock
from syncstate.services.export import export_records
from syncstate.services.export_report import ExportOptions, ExportReport
from syncstate.services.rendering import default_renderers

__all__ = [
    "MemoryTickets",
    "PageOutcome",
    "Tickets",
    "companies_with_work",
    "export_page",
    "next_page",
]

_FRESH = (ExportState.NOT_EXPORTED, ExportState.OUTDATED, ExportState.IN_FLIGHT)


@attrs.frozen(kw_only=True)
class PageOutcome:
    """What one page of a company did, and what the company needs next.

    ``report`` is None when nothing was sent (nothing to do, or the company is held
    back). ``more``: exportable records remain; enqueue the company again after
    ``retry_in`` seconds (0: at once).
    """

    company: str
    report: ExportReport | None
    more: bool
    retry_in: float = 0.0

    def to_dict(self) -> dict[str, object]:
        """Plain totals for a task result or a log line."""
        report = self.report
        return {
            "company": self.company,
            "exported": 0 if report is None else report.exported + report.updated,
            "failed": 0 if report is None else len(report.failed),
            "released": 0 if report is None else report.released,
            "more": self.more,
            "retry_in": round(self.retry_in, 3),
        }


def next_page(
    store: StateStore,
    company: str,
    *,
    size: int,
    now: dt.datetime,
    kinds: Iterable[str],
    retry_failed: bool = False,
) -> tuple[list[StoredRecord], float | None]:
    """Up to ``size`` records a run could claim now, and when held ones free up.

    The second value is the seconds until the earliest live lease of an in-flight
    record runs out (None when no record is held): a dead worker's records come
    back then, and are looked up by their key before anything is resent.
    """
    states = [*_FRESH, ExportState.FAILED] if retry_failed else list(_FRESH)
    page: list[StoredRecord] = []
    soonest: float | None = None
    after = None
    kind_list = sorted(set(kinds))
    while len(page) < size:
        rows = store.find(company, kinds=kind_list, states=states, after=after, limit=size * 2)
        for row in rows:
            lease = row.status.lease_until
            if row.state is ExportState.IN_FLIGHT and lease is not None and lease > now:
                left = (lease - now).total_seconds()
                soonest = left if soonest is None else min(soonest, left)
                continue
            page.append(row)
            if len(page) == size:
                break
        if len(rows) < size * 2:
            break
        after = rows[-1].key
    return page, soonest


def export_page(
    store: StateStore,
    backend: AccountingBackend,
    company: str,
    *,
    page_size: int = 100,
    retry_failed: bool = False,
    options: ExportOptions | None = None,
    actor: str = "syncstate",
    clock: Clock | None = None,
    cancel: threading.Event | None = None,
) -> PageOutcome:
    """Export the next page of ``company`` (see the module docstring)."""
    opts = options or ExportOptions()
    if cancel is not None:
        opts = attrs.evolve(opts, cancel=cancel)
    clock = clock or SystemClock()
    budget = opts.budget
    if budget is not None and budget.yield_after is not None:
        held = budget.held_for(backend.name, company)
        if held > budget.yield_after:
            return PageOutcome(company=company, report=None, more=True, retry_in=held)
    kinds = sorted({**default_renderers(), **opts.renderers})
    page, soonest = next_page(
        store, company, size=page_size, now=clock.now(), kinds=kinds, retry_failed=retry_failed
    )
    if not page:
        return PageOutcome(
            company=company, report=None, more=soonest is not None, retry_in=soonest or 0.0
        )
    # a fresh event per page: a yield cancels this page only
    run_opts = opts if opts.cancel is not None else attrs.evolve(opts, cancel=threading.Event())
    report = export_records(
        store,
        backend,
        company,
        keys=[s.key for s in page],
        options=run_opts,
        actor=actor,
        clock=clock,
    )
    rest, soonest = next_page(store, company, size=1, now=clock.now(), kinds=kinds)
    retry_in = 0.0 if rest else (soonest or 0.0)
    if budget is not None:
        retry_in = max(retry_in, budget.held_for(backend.name, company))
    return PageOutcome(
        company=company, report=report, more=bool(rest) or soonest is not None, retry_in=retry_in
    )


def companies_with_work(store: StateStore, *, retry_failed: bool = True) -> list[str]:
    """Companies that have records an export would select, in a stable order."""
    wanted = {ExportState.NOT_EXPORTED, ExportState.OUTDATED, ExportState.IN_FLIGHT}
    if retry_failed:
        wanted.add(ExportState.FAILED)
    out = []
    for company in store.companies():
        counts = store.counts(company)
        if any(counts.get(state, 0) for state in wanted):
            out.append(company)
    return out


class Tickets(Protocol):
    """One queued chain per company: a ticket with a time to live."""

    def take(self, company: str, ttl: float) -> bool:
        """Take the company's ticket unless someone holds it; True when taken."""
        ...

    def renew(self, company: str, ttl: float) -> None:
        """Keep the ticket (the chain goes on)."""
        ...

    def drop(self, company: str) -> None:
        """Give the ticket back (the chain ended)."""
        ...


class MemoryTickets:
    """:class:`Tickets` for one process (tests, a thread-pool host)."""

    def __init__(self) -> None:
        self._until: dict[str, float] = {}
        self._lock = threading.Lock()

    def take(self, company: str, ttl: float) -> bool:
        """Take the ticket if free or expired."""
        with self._lock:
            now = time.monotonic()
            if self._until.get(company, 0.0) > now:
                return False
            self._until[company] = now + ttl
            return True

    def renew(self, company: str, ttl: float) -> None:
        """Keep the ticket for ``ttl`` more seconds."""
        with self._lock:
            self._until[company] = time.monotonic() + ttl

    def drop(self, company: str) -> None:
        """Free the ticket."""
        with self._lock:
            self._until.pop(company, None)
