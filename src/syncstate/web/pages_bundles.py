"""The Bundles page: open transactions per client, bundles, export, PDFs, un-bundle, cutoff.

Everything goes through :class:`~syncstate.services.bundling.BundleService` (made per
request, with the signed-in user as its actor) and
:mod:`~syncstate.services.bundle_export`: export one bundle, the bundles on the page, or
all of a client (a job with live progress, ``overwrite`` to update reconciled
documents); un-bundle (ticked confirmation; optionally reversing the remote documents);
mark a historical backlog (previewed first, then confirmed). Needs ``bundles=`` in
:func:`~syncstate.web.create_app`.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute

from syncstate.errors import ConfirmationError, InputError
from syncstate.periods import parse_date
from syncstate.services.bundle_export import (
    export_bundles,
    fetch_bundle_pdf,
    unbundle_and_reverse,
)
from syncstate.services.bundling import BundleService
from syncstate.web.app import Panel, company_route
from syncstate.web.jobs import JobProgress
from syncstate.web.security import Refused, Viewer

__all__ = ["PAGE_SIZE", "routes"]

#: bundles per page (the unit of "export this page")
PAGE_SIZE = 25


def service(panel: Panel, viewer: Viewer) -> BundleService:
    """The bundling service, journaling as ``viewer``."""
    if panel.bundles is None:
        raise Refused(404, "This panel has no bundle store (create_app(..., bundles=...)).")
    return BundleService(panel.store, panel.bundles, clock=panel.clock, actor=viewer.user)


def _page_number(text: str) -> int:
    if not text.isdigit():
        raise InputError(f"page {text!r} is not a page number")
    return int(text)


def _overview(svc: BundleService, company: str, client: str, page: int) -> dict[str, Any]:
    clients = [client] if client else None
    open_records = svc.open_records(company, clients=clients)
    per_client = Counter(s.record.subject for s in open_records)
    views = svc.list_bundles(company, clients=clients, offset=page * PAGE_SIZE, limit=PAGE_SIZE + 1)
    return {
        "open": sorted(per_client.items()),
        "bundles": views[:PAGE_SIZE],
        "more": len(views) > PAGE_SIZE,
    }


async def bundles_page(request: Request, panel: Panel, viewer: Viewer, company: str) -> Response:
    """Open transactions per client and the bundles, one page at a time."""
    client = request.query_params.get("client", "").strip()
    page = _page_number(request.query_params.get("page", "0"))
    found = await panel.call(_overview, service(panel, viewer), company, client, page)
    pdf = {name for name, b in panel.backends.items() if "pdf" in {c.value for c in b.capabilities}}
    return panel.render(
        request,
        "bundles.html",
        {"company": company, "client": client, "page": page, "pdf": sorted(pdf), **found},
        viewer=viewer,
    )


async def make_bundles(request: Request, panel: Panel, viewer: Viewer, company: str) -> Response:
    """Bundle the open transactions (of one client, or all)."""
    form = await panel.form(request, viewer, company)
    client = str(form.get("client") or "").strip()
    svc = service(panel, viewer)
    report = await panel.call(svc.bundle, company, clients=[client] if client else None)
    return panel.render(
        request,
        "bundles_done.html",
        {
            "company": company,
            "heading": f"{len(report.bundles)} bundles made",
            "lines": [
                f"{b.client}: {b.kind.value} {b.bundle_id}, {b.total} {b.currency}"
                for b in report.bundles
            ],
        },
        viewer=viewer,
    )


async def export(request: Request, panel: Panel, viewer: Viewer, company: str) -> Response:
    """Export the selected bundles, the page, or all bundles of the client (a job)."""
    form = await panel.form(request, viewer, company)
    name = str(form.get("backend") or "")
    if name not in panel.backends:
        raise InputError(f"no back end named {name!r} is set up for this panel")
    backend = panel.backends[name]
    scope = str(form.get("scope") or "selected")
    client = str(form.get("client") or "").strip()
    selection: dict[str, Any] = {}
    if scope == "selected":
        ids = [str(v) for v in form.getlist("bundle")]
        if not ids:
            raise InputError("no bundle selected to export")
        selection["bundle_ids"] = ids
    elif scope == "page":
        page = _page_number(str(form.get("page") or "0"))
        selection.update(offset=page * PAGE_SIZE, limit=PAGE_SIZE)
        if client:
            selection["clients"] = [client]
    elif scope == "client" and client:
        selection["clients"] = [client]
    else:
        raise InputError("choose the selected bundles, this page, or one client to export")
    overwrite = form.get("overwrite") == "yes"
    svc = service(panel, viewer)

    def work(progress: JobProgress) -> dict[str, Any]:
        report = export_bundles(
            svc, backend, company, overwrite=overwrite, progress=progress, **selection
        )
        return {
            "selected": len(report.outcomes),
            "exported": report.count("exported"),
            "updated": report.count("updated"),
            "failed": [
                f"{o.bundle.source_id}: {o.message}"
                for o in report.outcomes
                if o.outcome == "failed"
            ],
            "pending": report.count("pending") + report.count("waiting"),
            "released": report.count("released"),
            "ok": report.ok,
        }

    title = f"Export bundles ({scope}{': ' + client if client else ''}) to {backend.name}"
    job = panel.jobs.start(company=company, user=viewer.user, title=title, work=work)
    return RedirectResponse(panel.url(request, company, f"/jobs/{job.id}"), status_code=303)


async def unbundle(request: Request, panel: Panel, viewer: Viewer, company: str) -> Response:
    """Un-bundle the selected bundles (confirmed); optionally reverse their documents."""
    form = await panel.form(request, viewer, company)
    ids = [str(v) for v in form.getlist("bundle")]
    if form.get("confirm") != "yes":
        raise ConfirmationError(
            f"tick the box to confirm un-bundling {len(ids)} bundle(s): their transactions "
            "become open again"
        )
    reverse = form.get("reverse") == "yes"
    backend = panel.backends.get(str(form.get("backend") or "")) if reverse else None
    report = await panel.call(
        unbundle_and_reverse,
        service(panel, viewer),
        company,
        ids,
        backend=backend,
        reverse=reverse,
        cascade=form.get("cascade") == "yes",
    )
    lines = [f"{key.source_id} un-bundled" for key in report.removed]
    lines += [f"{key.source_id} is open again" for key in report.reopened]
    return panel.render(
        request,
        "bundles_done.html",
        {
            "company": company,
            "heading": f"{len(report.removed)} bundles un-bundled",
            "lines": lines,
            "warning": report.warning,
        },
        viewer=viewer,
    )


async def historical(request: Request, panel: Panel, viewer: Viewer, company: str) -> Response:
    """Mark open transactions up to a cutoff as already accounted for (preview first)."""
    form = await panel.form(request, viewer, company)
    cutoff: dt.date = parse_date(str(form.get("cutoff") or ""), what="cutoff")
    client = str(form.get("client") or "").strip()
    apply = form.get("confirm") == "yes"
    svc = service(panel, viewer)
    report = await panel.call(
        svc.mark_historical,
        company,
        cutoff=cutoff,
        clients=[client] if client else None,
        dry_run=not apply,
    )
    return panel.render(
        request,
        "bundles_historical.html",
        {"company": company, "report": report, "applied": apply, "client": client},
        viewer=viewer,
    )


async def pdf(request: Request, panel: Panel, viewer: Viewer, company: str) -> Response:
    """The PDF of a reconciled bundle's remote document."""
    name = request.query_params.get("backend", "")
    if name not in panel.backends:
        raise InputError(f"no back end named {name!r} is set up for this panel")
    bundle_id = str(request.path_params["bundle"])
    data = await panel.call(
        fetch_bundle_pdf, service(panel, viewer), panel.backends[name], company, bundle_id
    )
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in bundle_id)
    return Response(
        data,
        media_type="application/pdf",
        headers={"content-disposition": f'inline; filename="{safe}.pdf"'},
    )


def routes() -> list[BaseRoute]:
    """The routes of this page."""
    return [
        company_route("/bundles", bundles_page),
        company_route("/bundles/make", make_bundles, methods=("POST",)),
        company_route("/bundles/export", export, methods=("POST",)),
        company_route("/bundles/unbundle", unbundle, methods=("POST",)),
        company_route("/bundles/historical", historical, methods=("POST",)),
        company_route("/bundles/{bundle}/pdf", pdf),
    ]
