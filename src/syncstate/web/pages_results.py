"""The Sync Results page: filter, search, error flags, unlink, relink, export selected.

Rows come from :func:`~syncstate.services.results.sync_results`; unlink and relink
call :func:`~syncstate.services.results.unlink` / :func:`~syncstate.services.results.relink`
with the signed-in user as the journal's actor. A record is named in forms as
``KIND:SOURCE_ID`` and always read as a record of the company in the path.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from syncstate.domain.records import RecordKey
from syncstate.errors import InputError
from syncstate.services.results import ResultFilter, relink, sync_results, unlink
from syncstate.web.app import Panel, company_route
from syncstate.web.security import Viewer

__all__ = ["RELINK_REMINDER", "parse_keys", "routes"]

#: the seed's advice, shown beside the relink button and on its result
RELINK_REMINDER = (
    "Before relinking, fix whatever made the record fail: without that it will most "
    "likely fail to sync again."
)
PAGE_SIZE = 50


def key_text(key: RecordKey) -> str:
    """How a record is named in the panel's forms and links."""
    return f"{key.kind}:{key.source_id}"


def parse_keys(company: str, values: Iterable[str]) -> list[RecordKey]:
    """Records of ``company`` named as ``KIND:SOURCE_ID``; one clear error for a bad one."""
    keys = []
    for value in values:
        kind, sep, source_id = value.partition(":")
        if not sep or not kind or not source_id:
            raise InputError(f"record {value!r} is not named as KIND:SOURCE_ID")
        keys.append(RecordKey(company, kind, source_id))
    return keys


async def results(request: Request, panel: Panel, viewer: Viewer, company: str) -> Response:
    """The sync results of ``company``: one page, filtered and searched."""
    chosen = request.query_params.get("filter", ResultFilter.ALL.value)
    if chosen not in {f.value for f in ResultFilter}:
        raise InputError(f"unknown filter {chosen!r}")
    search = request.query_params.get("q", "").strip() or None
    after_text = request.query_params.get("after", "")
    after = parse_keys(company, [after_text])[0] if after_text else None
    page = await panel.call(
        sync_results,
        panel.store,
        company,
        filter=chosen,
        search=search,
        after=after,
        limit=PAGE_SIZE,
    )
    return panel.render(
        request,
        "results.html",
        {
            "company": company,
            "filters": [f.value for f in ResultFilter],
            "chosen": chosen,
            "search": search or "",
            "rows": page.items,
            "key_text": key_text,
            "next_after": None if page.next_after is None else key_text(page.next_after),
            "reminder": RELINK_REMINDER,
        },
        viewer=viewer,
    )


async def _change(
    request: Request, panel: Panel, viewer: Viewer, company: str, action: str
) -> Response:
    form = await panel.form(request, viewer, company)
    keys = parse_keys(company, [str(v) for v in form.getlist("key")])
    reason = str(form.get("reason") or "").strip()
    if action == "unlink":
        entries = await panel.call(
            unlink, panel.store, company, keys, reason=reason, actor=viewer.user, clock=panel.clock
        )
    else:
        entries = await panel.call(
            relink,
            panel.store,
            company,
            keys,
            reason=reason or "relinked",
            actor=viewer.user,
            clock=panel.clock,
        )
    return panel.render(
        request,
        "changed.html",
        {
            "company": company,
            "action": action,
            "entries": entries,
            "reminder": RELINK_REMINDER if action == "relink" else "",
        },
        viewer=viewer,
    )


async def unlink_records(request: Request, panel: Panel, viewer: Viewer, company: str) -> Response:
    """Take the selected records out of future syncs (a reason is required)."""
    return await _change(request, panel, viewer, company, "unlink")


async def relink_records(request: Request, panel: Panel, viewer: Viewer, company: str) -> Response:
    """Put the selected unlinked records back into future syncs."""
    return await _change(request, panel, viewer, company, "relink")


def routes() -> list[BaseRoute]:
    """The routes of this page."""
    return [
        company_route("/results", results),
        company_route("/results/unlink", unlink_records, methods=("POST",)),
        company_route("/results/relink", relink_records, methods=("POST",)),
    ]
