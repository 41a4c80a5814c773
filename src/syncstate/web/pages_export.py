"""Export from the panel: a preview, then a job with live progress (server-sent events).

The preview is :func:`~syncstate.services.preview.preview_export` (reads only). Starting
an export runs :func:`~syncstate.services.export.export_records` in a job thread with a
:class:`~syncstate.web.jobs.JobProgress`; the job page follows it through
``/jobs/{id}/events`` (``text/event-stream``, one JSON snapshot per event) and, without
JavaScript, refreshes itself until the job is done.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse
from starlette.routing import BaseRoute

from syncstate.errors import InputError
from syncstate.ports import AccountingBackend
from syncstate.services.export import export_records
from syncstate.services.preview import preview_export
from syncstate.web.app import Panel, company_route
from syncstate.web.jobs import Job, JobProgress
from syncstate.web.pages_results import parse_keys
from syncstate.web.security import Refused, Viewer

__all__ = ["routes"]

#: seconds between two progress events
TICK = 0.2


async def export_page(request: Request, panel: Panel, viewer: Viewer, company: str) -> Response:
    """What the next export would send, and the button that starts it."""
    preview = await panel.call(preview_export, panel.store, company, clock=panel.clock)
    return panel.render(
        request,
        "export.html",
        {"company": company, "preview": preview, "counts": preview.counts()},
        viewer=viewer,
    )


def _backend(panel: Panel, name: str) -> AccountingBackend:
    if name not in panel.backends:
        raise InputError(f"no back end named {name!r} is set up for this panel")
    return panel.backends[name]


async def start_export(request: Request, panel: Panel, viewer: Viewer, company: str) -> Response:
    """Start exporting the selected records (or all exportable ones) and show the job."""
    form = await panel.form(request, viewer, company)
    backend = _backend(panel, str(form.get("backend") or ""))
    keys = parse_keys(company, [str(v) for v in form.getlist("key")]) or None
    store, clock, user = panel.store, panel.clock, viewer.user

    def work(progress: JobProgress) -> dict[str, Any]:
        report = export_records(
            store, backend, company, keys=keys, actor=user, clock=clock, progress=progress
        )
        return {
            "selected": report.total,
            "exported": report.exported,
            "updated": report.updated,
            "failed": [f"{key.source_id}: {message}" for key, message in report.failed],
            "pending": len(report.pending),
            "released": report.released,
            "ok": report.ok,
        }

    title = f"Export {len(keys) if keys else 'all exportable'} records to {backend.name}"
    job = panel.jobs.start(company=company, user=viewer.user, title=title, work=work)
    return RedirectResponse(panel.url(request, company, f"/jobs/{job.id}"), status_code=303)


def _job(request: Request, panel: Panel, viewer: Viewer, company: str) -> Job:
    job = panel.jobs.get(str(request.path_params["job"]), company=company, user=viewer.user)
    if job is None:
        raise Refused(404, "There is no such job in your panel.")
    return job


async def job_page(request: Request, panel: Panel, viewer: Viewer, company: str) -> Response:
    """A job's progress (live with JavaScript; refreshing itself without)."""
    job = _job(request, panel, viewer, company)
    return panel.render(
        request, "job.html", {"company": company, "job": job.snapshot()}, viewer=viewer
    )


async def job_events(request: Request, panel: Panel, viewer: Viewer, company: str) -> Response:
    """The job's progress as server-sent events, until it finishes."""
    job = _job(request, panel, viewer, company)

    async def stream() -> AsyncIterator[str]:
        while True:
            finished = job.finished.is_set()  # read before the snapshot: the last one is full
            yield f"event: progress\ndata: {json.dumps(job.snapshot())}\n\n"
            if finished or await request.is_disconnected():
                return
            await asyncio.sleep(TICK)

    return StreamingResponse(
        stream(), media_type="text/event-stream", headers={"x-accel-buffering": "no"}
    )


def routes() -> list[BaseRoute]:
    """The routes of this page."""
    return [
        company_route("/export", export_page),
        company_route("/export", start_export, methods=("POST",)),
        company_route("/jobs/{job}", job_page),
        company_route("/jobs/{job}/events", job_events),
    ]
