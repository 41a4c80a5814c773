"""Long operations started from the panel (exports), and their live progress.

A :class:`Job` runs a service call in a thread of its own; :class:`JobProgress` is the
:class:`~syncstate.ports.Progress` the service reports to. The job page reads
:meth:`Job.snapshot` (server-sent events when the browser runs JavaScript, a page that
refreshes itself when it does not). A job belongs to one company and one user: nobody
else sees it.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

from syncstate.errors import SyncStateError

__all__ = ["Job", "JobBoard", "JobProgress"]

log = logging.getLogger(__name__)

#: finished jobs kept for their pages (the oldest are forgotten first)
KEEP = 200


class JobProgress:
    """A :class:`~syncstate.ports.Progress` that keeps counts for the job page."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.label = ""
        self.total = 0
        self.done = 0
        self.outcomes: Counter[str] = Counter()
        self.notes: list[str] = []

    def __repr__(self) -> str:
        return f"JobProgress(done={self.done}, total={self.total})"

    def start(self, total: int, label: str) -> None:
        """The operation begins with ``total`` units."""
        with self._lock:
            # a run in phases (invoices, then payments) starts once per phase: totals add up
            self.total += total
            self.label = label

    def advance(self, n: int = 1, *, outcome: str = "") -> None:
        """``n`` more units are done."""
        with self._lock:
            self.done += n
            if outcome:
                self.outcomes[outcome] += n

    def note(self, message: str) -> None:
        """A retry, a throttle pause: the last few are shown."""
        with self._lock:
            self.notes = [*self.notes[-9:], message]

    def finish(self) -> None:
        """Nothing to do: the job marks itself finished when its call returns."""

    def counts(self) -> dict[str, Any]:
        """A consistent copy of the counts."""
        with self._lock:
            return {
                "label": self.label,
                "total": self.total,
                "done": self.done,
                "outcomes": dict(sorted(self.outcomes.items())),
                "notes": list(self.notes),
            }


class Job:
    """One long operation of one user on one company."""

    def __init__(self, *, company: str, user: str, title: str) -> None:
        self.id = secrets.token_urlsafe(12)
        self.company = company
        self.user = user
        self.title = title
        self.progress = JobProgress()
        self.finished = threading.Event()
        self.summary: dict[str, Any] = {}
        self.error = ""

    def __repr__(self) -> str:
        return f"Job(id={self.id!r}, company={self.company!r}, finished={self.finished.is_set()})"

    def run(self, work: Callable[[JobProgress], dict[str, Any]]) -> None:
        """Run ``work`` (in the job's thread); keep its summary or its error message."""
        try:
            self.summary = work(self.progress)
        except SyncStateError as exc:
            self.error = " ".join(str(exc).split())
        except Exception as exc:  # a thread must not die silently: the page says it failed
            log.exception("panel job %s failed", self.id, extra={"company": self.company})
            self.error = f"unexpected error: {type(exc).__name__}"
        finally:
            self.finished.set()

    def snapshot(self) -> dict[str, Any]:
        """Plain data for the page and the event stream."""
        return {
            "id": self.id,
            "title": self.title,
            "finished": self.finished.is_set(),
            "error": self.error,
            "summary": self.summary,
            **self.progress.counts(),
        }


class JobBoard:
    """The running and recently finished jobs of one panel."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: dict[str, Job] = {}

    def __repr__(self) -> str:
        return f"JobBoard(jobs={len(self._jobs)})"

    def start(
        self, *, company: str, user: str, title: str, work: Callable[[JobProgress], dict[str, Any]]
    ) -> Job:
        """Start ``work`` in a thread of its own and return its job."""
        job = Job(company=company, user=user, title=title)
        with self._lock:
            finished = [k for k, j in self._jobs.items() if j.finished.is_set()]
            for key in finished[: max(0, len(self._jobs) - KEEP)]:
                del self._jobs[key]
            self._jobs[job.id] = job
        threading.Thread(target=job.run, args=(work,), name=f"panel-{job.id}", daemon=True).start()
        return job

    def get(self, job_id: str, *, company: str, user: str) -> Job | None:
        """The job, if it is ``user``'s on ``company`` (``None`` otherwise)."""
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None or job.company != company or job.user != user:
            return None
        return job
