"""The Reset page: date range and employees, the plan with its warning, acknowledgement.

The plan comes from :func:`~syncstate.services.reset.plan_reset` (read-only, so a GET);
applying calls :func:`~syncstate.services.reset.apply_reset` with the acknowledgement
the operator ticked (without it the service refuses) and the user as the actor. The
form carries a fingerprint of the planned records: when they changed between review
and apply, nothing is applied and the operator reviews the new plan.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from starlette.datastructures import ImmutableMultiDict
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from syncstate.domain.records import TimeEntry
from syncstate.errors import InputError
from syncstate.periods import DateRange
from syncstate.ports import StateStore
from syncstate.services.reset import RESET_WARNING, RESETTABLE, ResetPlan, apply_reset, plan_reset
from syncstate.web.app import Panel, company_route
from syncstate.web.security import Viewer

__all__ = ["fingerprint", "routes"]

#: records scanned to offer employees to pick (others can be typed in)
EMPLOYEE_SCAN = 5000


def fingerprint(plan: ResetPlan) -> str:
    """A short digest of exactly which records ``plan`` resets."""
    text = "\n".join(sorted(str(key) for key in plan.keys))
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _employees_offered(store: StateStore, company: str) -> list[str]:
    found = store.find(company, kinds=[TimeEntry.KIND], states=RESETTABLE, limit=EMPLOYEE_SCAN)
    return sorted({stored.record.subject for stored in found})


def _chosen(values: ImmutableMultiDict[str, str] | Iterable[tuple[str, object]]) -> list[str]:
    pairs = values.multi_items() if isinstance(values, ImmutableMultiDict) else list(values)
    chosen: list[str] = []
    for name, value in pairs:
        if name == "employee" and isinstance(value, str):
            chosen.append(value.strip())
        elif name == "employees" and isinstance(value, str):
            chosen.extend(part.strip() for part in value.split(","))
    return sorted({c for c in chosen if c})


async def reset_page(request: Request, panel: Panel, viewer: Viewer, company: str) -> Response:
    """The selection form; with a selection, the plan and the acknowledgement."""
    params = request.query_params
    start, end = params.get("start", ""), params.get("end", "")
    employees = _chosen(params.multi_items())
    offered = await panel.call(_employees_offered, panel.store, company)
    plan = None
    if start or end or employees:
        if not (start and end):
            raise InputError("give both the first and the last day of the range to reset")
        plan = await panel.call(
            plan_reset, panel.store, company, DateRange.parse(start, end), employees
        )
    return panel.render(
        request,
        "reset.html",
        {
            "company": company,
            "start": start,
            "end": end,
            "employees": employees,
            "offered": offered,
            "plan": plan,
            "fingerprint": "" if plan is None else fingerprint(plan),
            "warning": RESET_WARNING,
        },
        viewer=viewer,
    )


async def apply_page(request: Request, panel: Panel, viewer: Viewer, company: str) -> Response:
    """Apply the reviewed plan: acknowledged, unchanged since review, all or nothing."""
    form = await panel.form(request, viewer, company)
    employees = _chosen(form.multi_items())
    date_range = DateRange.parse(str(form.get("start") or ""), str(form.get("end") or ""))
    plan = await panel.call(plan_reset, panel.store, company, date_range, employees)
    if fingerprint(plan) != form.get("fingerprint"):
        raise InputError(
            "the records to reset changed since the plan was shown; review the new plan "
            "and apply it again (nothing was reset)"
        )
    result = await panel.call(
        apply_reset,
        panel.store,
        plan,
        acknowledge=form.get("acknowledge") == "yes",
        actor=viewer.user,
        clock=panel.clock,
    )
    return panel.render(
        request,
        "reset_done.html",
        {"company": company, "plan": plan, "result": result, "warning": RESET_WARNING},
        viewer=viewer,
    )


def routes() -> list[BaseRoute]:
    """The routes of this page."""
    return [
        company_route("/reset", reset_page),
        company_route("/reset/apply", apply_page, methods=("POST",)),
    ]
