"""The Mirror page: fiscal years with counts, clear with confirmation, reload from SIE files.

Uses :class:`~syncstate.services.mirror.MirrorService`: the loaded years of the company
(:meth:`~syncstate.ports.MirrorStore.loaded_years`), the plan of a clear
(:meth:`~syncstate.services.mirror.MirrorService.plan_clear`, with its token), and the
clear itself, which needs the company id typed again **and** the plan's token (so a
stale plan, or the wrong company, changes nothing). Uploaded SIE files (one per fiscal
year) reload the cleared years: they are staged beside the old ones and swapped in at
once, or the old years stay live. The run is a job with progress; it is logged with the
user as actor. Uploaded files can also just be compared with the mirror (the drift
report: vouchers added, deleted and changed at the source, account differences per
period), which changes nothing. Needs ``mirror=`` in :func:`~syncstate.web.create_app`.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute

from syncstate.errors import ConfirmationError, InputError
from syncstate.periods import FiscalYear, parse_date
from syncstate.services.mirror import MirrorService
from syncstate.web.app import Panel, company_route
from syncstate.web.jobs import JobProgress
from syncstate.web.security import Refused, Viewer

__all__ = ["parse_year", "routes"]

log = logging.getLogger(__name__)

#: the guarantee the page states beside the clear
ATOMIC_SWAP = (
    "Reloaded years are staged beside the live ones and swapped in at once: readers never "
    "see a gap or half a year, and if the reload fails the old years stay live. Only "
    "mirrored amounts are cleared (documents, budget versions and report templates stay); "
    "the accounting system is never changed."
)


def parse_year(text: str) -> FiscalYear:
    """A fiscal year written ``YYYY-MM-DD..YYYY-MM-DD``."""
    start, sep, end = text.partition("..")
    if not sep:
        raise InputError(f"fiscal year {text!r} is not written as YYYY-MM-DD..YYYY-MM-DD")
    return FiscalYear(parse_date(start, what="fiscal year start"), parse_date(end, what="end"))


def _service(panel: Panel) -> MirrorService:
    if panel.mirror is None:
        raise Refused(404, "This panel has no mirror store (create_app(..., mirror=...)).")
    return MirrorService(panel.mirror, clock=panel.clock)


async def mirror_page(request: Request, panel: Panel, viewer: Viewer, company: str) -> Response:
    """The company's loaded years; with ``year`` chosen, the plan of clearing them."""
    svc = _service(panel)
    loaded = await panel.call(svc.store.loaded_years, company)
    chosen = [parse_year(text) for text in request.query_params.getlist("year")]
    plan = await panel.call(svc.plan_clear, company, chosen) if chosen else None
    return panel.render(
        request,
        "mirror.html",
        {
            "company": company,
            "loaded": loaded,
            "chosen": {str(y) for y in chosen},
            "plan": plan,
            "guarantee": ATOMIC_SWAP,
        },
        viewer=viewer,
    )


async def clear(request: Request, panel: Panel, viewer: Viewer, company: str) -> Response:
    """Clear the planned years (company typed again, plan token) and reload from uploads."""
    form = await panel.form(request, viewer, company)
    svc = _service(panel)
    years = [parse_year(str(text)) for text in form.getlist("year")]
    typed = str(form.get("typed") or "").strip()
    if typed != company:
        raise ConfirmationError(
            f"type the company id {company!r} to confirm the clear (got {typed!r}); "
            "nothing was cleared"
        )
    token = str(form.get("token") or "")
    contents = await _saved(form)
    org = str(form.get("org_number") or "").strip() or None
    user = viewer.user

    def work(progress: JobProgress) -> dict[str, Any]:
        from syncstate.adapters.backends.sie.source import SieSource

        with tempfile.TemporaryDirectory(prefix="syncstate-sie-") as folder:
            paths = []
            for n, (name, data) in enumerate(contents):
                path = Path(folder) / f"{n:03d}-{name}"
                path.write_bytes(data)
                paths.append(path)
            source = SieSource(paths, org_number=org) if paths else None
            run = svc.clear(company, years, confirm=token, reload_from=source, progress=progress)
        log.info(
            "mirror of %s cleared from the panel (reloaded: %s)",
            ", ".join(str(y) for y in years),
            run.reloaded,
            extra={"company": company, "actor": user},
        )
        return {
            "cleared": run.cleared,
            "reloaded": run.reloaded,
            "removed": dict(sorted(run.removed.items())),
            "loaded_vouchers": None if run.load is None else run.load.vouchers,
            "ok": run.ok,
            "error": run.error,
        }

    title = f"Clear {', '.join(str(y) for y in years)}" + (" and reload" if contents else "")
    job = panel.jobs.start(company=company, user=viewer.user, title=title, work=work)
    return RedirectResponse(panel.url(request, company, f"/jobs/{job.id}"), status_code=303)


async def _saved(form: Any) -> list[tuple[str, bytes]]:
    uploads = [f for f in form.getlist("sie") if isinstance(f, UploadFile) and f.filename]
    return [(Path(f.filename or "upload.se").name, await f.read()) for f in uploads]


def _drift(
    svc: MirrorService, company: str, contents: list[tuple[str, bytes]], org: str | None
) -> list[dict[str, Any]]:
    from syncstate.adapters.backends.sie.source import SieSource

    with tempfile.TemporaryDirectory(prefix="syncstate-sie-") as folder:
        paths = []
        for n, (name, data) in enumerate(contents):
            path = Path(folder) / f"{n:03d}-{name}"
            path.write_bytes(data)
            paths.append(path)
        drifts = svc.drift(company, SieSource(paths, org_number=org))
    return [
        {
            "year": str(d.year),
            "new": d.new_year,
            "same": d.is_empty,
            "added": len(d.added),
            "deleted": len(d.deleted),
            "changed": len(d.changed),
            "accounts": [
                (a.account, str(a.period), a.mirror, a.source, a.difference)
                for a in d.account_differences
            ],
        }
        for d in drifts
    ]


async def drift(request: Request, panel: Panel, viewer: Viewer, company: str) -> Response:
    """Compare the mirror with uploaded SIE files (reads only: nothing is changed)."""
    form = await panel.form(request, viewer, company, act=False)
    contents = await _saved(form)
    if not contents:
        raise InputError("upload the SIE files (one per fiscal year) to compare with")
    org = str(form.get("org_number") or "").strip() or None
    years = await panel.call(_drift, _service(panel), company, contents, org)
    return panel.render(
        request, "mirror_drift.html", {"company": company, "years": years}, viewer=viewer
    )


def routes() -> list[BaseRoute]:
    """The routes of this page."""
    return [
        company_route("/mirror", mirror_page),
        company_route("/mirror/clear", clear, methods=("POST",)),
        company_route("/mirror/drift", drift, methods=("POST",)),
    ]
