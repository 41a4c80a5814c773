"""Two Celery tasks over :mod:`syncstate.services.fanout`: a page, and the scheduler.

:func:`install` registers them on the host's Celery app (``app`` is not
imported here: any object with Celery's ``task`` decorator will do):

* ``<prefix>.export_page(company, first=False)`` exports one page of one company
  (:func:`~syncstate.services.fanout.export_page`) and, when the company has more,
  enqueues its next page at the back of the queue (``countdown``: a
  ``Retry-After`` or a dead worker's lease still to run), so one busy company
  never starves the others and a throttled company gives its worker away;
* ``<prefix>.schedule()`` enqueues the first page of every company with
  exportable records that has no chain yet (one :class:`Tickets` ticket per
  company). Run it from Celery beat, or after an ingest.

Worker loss: the tasks are ``acks_late`` with ``reject_on_worker_lost``: a worker
process killed mid-page (SIGKILL, OOM) gets its message back on the queue at
once, and a machine that vanished gets it back after the broker's visibility
timeout. Its records stay claimed until their lease runs out; the next page
looks them up by their idempotency key before anything is resent. Nothing is
lost and nothing is sent twice. See docs/celery.md.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

import attrs

from syncstate.ports import AccountingBackend, StateStore
from syncstate.services.export_report import ExportOptions
from syncstate.services.fanout import Tickets, companies_with_work, export_page

__all__ = ["CELERY_SETTINGS", "FanoutTasks", "WorkerServices", "install"]

log = logging.getLogger(__name__)

#: what the tasks rely on; ``app.conf.update(CELERY_SETTINGS)`` (the visibility timeout
#: must exceed the longest page plus the longest ``countdown``, or Redis redelivers
#: a message that is still being worked on: harmless, claims keep it exactly once)
CELERY_SETTINGS: Mapping[str, Any] = MappingProxyType(
    {
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "broker_transport_options": {"visibility_timeout": 3600},
    }
)


@attrs.frozen(kw_only=True)
class WorkerServices:
    """What a worker process needs, built once per process by the host's factory.

    ``options`` should carry the shared budget (``ExportOptions(budget=Budgets(...))``)
    so that every worker of a company keeps to the back end's limits together.
    """

    store: StateStore
    backend: AccountingBackend
    options: ExportOptions
    tickets: Tickets
    page_size: int = 100
    actor: str = "syncstate-celery"


class FanoutTasks:
    """The registered tasks and the per-process services they use."""

    def __init__(
        self,
        services: Callable[[], WorkerServices],
        *,
        ticket_ttl: float,
        max_countdown: float,
    ) -> None:
        self._factory = services
        self._built: tuple[int, WorkerServices] | None = None
        self._lock = threading.Lock()
        self.ticket_ttl = ticket_ttl
        self.max_countdown = max_countdown
        #: the Celery task objects (set by :func:`install`)
        self.export_page: Any = None
        self.schedule: Any = None

    def __repr__(self) -> str:
        return f"FanoutTasks(ticket_ttl={self.ticket_ttl}, max_countdown={self.max_countdown})"

    def services(self) -> WorkerServices:
        """This process's services (built after a fork, never shared across one)."""
        with self._lock:
            if self._built is None or self._built[0] != os.getpid():
                self._built = (os.getpid(), self._factory())
            return self._built[1]

    def run_page(self, company: str, *, first: bool = False) -> dict[str, object]:
        """The body of ``export_page``: one page, then the company's next turn."""
        svc = self.services()
        svc.tickets.renew(company, self.ticket_ttl)
        outcome = export_page(
            svc.store,
            svc.backend,
            company,
            page_size=svc.page_size,
            retry_failed=first,
            options=svc.options,
            actor=svc.actor,
        )
        result = outcome.to_dict()
        if outcome.more and outcome.retry_in <= self.max_countdown:
            countdown = outcome.retry_in if outcome.retry_in > 0 else None
            svc.tickets.renew(company, self.ticket_ttl + outcome.retry_in)
            self.export_page.apply_async(args=(company,), countdown=countdown)
            result["next"] = "queued"
        else:
            # done, or held back longer than a countdown should be: the scheduler
            # enqueues the company again when it has work it can do
            svc.tickets.drop(company)
            result["next"] = "scheduler" if outcome.more else "done"
        log.info("page of %s: %s", company, result, extra={"company": company})
        return result

    def run_schedule(self) -> dict[str, object]:
        """The body of ``schedule``: one chain for each company with work."""
        svc = self.services()
        queued = []
        for company in companies_with_work(svc.store):
            if svc.tickets.take(company, self.ticket_ttl):
                self.export_page.apply_async(args=(company,), kwargs={"first": True})
                queued.append(company)
        return {"queued": len(queued), "companies": queued}


def install(
    app: Any,
    services: Callable[[], WorkerServices],
    *,
    prefix: str = "syncstate",
    ticket_ttl: float = 3600.0,
    max_countdown: float = 300.0,
) -> FanoutTasks:
    """Register ``<prefix>.export_page`` and ``<prefix>.schedule`` on the Celery ``app``.

    ``services`` builds a :class:`WorkerServices` in each worker process (on the
    first task, after the fork). ``ticket_ttl`` bounds how long a company's chain
    may go unseen before the scheduler starts another (keep it above the longest
    wait in the queue); a company held back longer than ``max_countdown`` seconds
    leaves its chain to the scheduler.
    """
    tasks = FanoutTasks(services, ticket_ttl=ticket_ttl, max_countdown=max_countdown)

    def page(company: str, first: bool = False) -> dict[str, object]:
        return tasks.run_page(company, first=first)

    def schedule() -> dict[str, object]:
        return tasks.run_schedule()

    settings = {"acks_late": True, "reject_on_worker_lost": True}
    tasks.export_page = app.task(name=f"{prefix}.export_page", **settings)(page)
    tasks.schedule = app.task(name=f"{prefix}.schedule", **settings)(schedule)
    return tasks
