"""The Repost page: findings by code (a bar chart), drill-down, plan preview, apply.

Findings come from :func:`~syncstate.services.repost.diagnose_ledger` (reads only);
a drill-down shows the findings of one code and, for one of them, the plan
:func:`~syncstate.services.repost.drill_down` would write. Applying needs the
confirmation box ticked and the plan unchanged since it was shown
(:func:`~syncstate.services.repost.apply_plan`); it is logged with the user as actor.
Needs ``ledger=`` in :func:`~syncstate.web.create_app`.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from syncstate.domain.repost.findings import Finding
from syncstate.errors import ConfirmationError, InputError
from syncstate.ports import RepostLedger
from syncstate.web.app import Panel, company_route
from syncstate.web.security import Refused, Viewer

__all__ = ["routes"]

log = logging.getLogger(__name__)


def _ledger(panel: Panel) -> RepostLedger:
    if panel.ledger is None:
        raise Refused(404, "This panel has no repost ledger (create_app(..., ledger=...)).")
    return panel.ledger


def _plan_print(plan: Any) -> str:
    """A digest of what ``plan`` (receivables or WIP) would write."""
    text = json.dumps([plan.calculator, plan.scope, plan.to_records()], default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _findings(ledger: RepostLedger, company: str) -> list[Finding]:
    from syncstate.services.repost import diagnose_ledger

    if company not in ledger.companies():
        return []
    return list(diagnose_ledger(ledger, company))


async def findings_page(request: Request, panel: Panel, viewer: Viewer, company: str) -> Response:
    """Findings of ``company`` by code, with counts and a bar chart."""
    found = await panel.call(_findings, _ledger(panel), company)
    counts = Counter(f.code.value for f in found)
    bars = [{"label": code, "value": n} for code, n in sorted(counts.items())]
    return panel.render(
        request,
        "repost.html",
        {"company": company, "bars": bars, "total": len(found)},
        viewer=viewer,
    )


def _chosen(found: list[Finding], code: str, where: str) -> Finding:
    for finding in found:
        if finding.code.value == code and finding.where == where:
            return finding
    raise InputError(f"no {code} finding at {where!r} any more (it may have been repaired)")


async def drill_page(request: Request, panel: Panel, viewer: Viewer, company: str) -> Response:
    """The findings of one code; with ``where``, the plan of its drill-down."""
    from syncstate.services.repost import drill_down

    ledger = _ledger(panel)
    code = str(request.path_params["code"])
    found = [f for f in await panel.call(_findings, ledger, company) if f.code.value == code]
    where = request.query_params.get("where", "")
    plan = None
    if where:
        plan = await panel.call(drill_down, ledger, company, _chosen(found, code, where))
    return panel.render(
        request,
        "repost_drill.html",
        {
            "company": company,
            "code": code,
            "found": found,
            "where": where,
            "plan": plan,
            "rows": [] if plan is None else plan.to_records(),
            "fingerprint": "" if plan is None else _plan_print(plan),
        },
        viewer=viewer,
    )


async def apply_page(request: Request, panel: Panel, viewer: Viewer, company: str) -> Response:
    """Apply the reviewed drill-down plan (confirmed, unchanged since shown)."""
    from syncstate.services.repost import apply_plan, drill_down

    form = await panel.form(request, viewer, company)
    ledger = _ledger(panel)
    code, where = str(form.get("code") or ""), str(form.get("where") or "")
    found = await panel.call(_findings, ledger, company)
    plan = await panel.call(drill_down, ledger, company, _chosen(found, code, where))
    if _plan_print(plan) != form.get("fingerprint"):
        raise InputError("the plan changed since it was shown; review it again (nothing written)")
    if form.get("confirm") != "yes":
        raise ConfirmationError(f"tick the box to confirm the repost of {plan.scope}")
    written = await panel.call(apply_plan, ledger, plan)
    log.info(
        "repost of %s applied from the panel: %d rows",
        plan.scope,
        written,
        extra={"company": company, "actor": viewer.user, "records": written},
    )
    return panel.render(
        request,
        "repost_done.html",
        {"company": company, "plan": plan, "written": written, "code": code},
        viewer=viewer,
    )


def routes() -> list[BaseRoute]:
    """The routes of this page."""
    return [
        company_route("/repost", findings_page),
        company_route("/repost/apply", apply_page, methods=("POST",)),
        company_route("/repost/{code}", drill_page),
    ]
