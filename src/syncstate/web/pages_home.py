"""The panel's front page (the viewer's companies) and one company's overview."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from syncstate.domain.state import ExportState
from syncstate.periods import DateRange
from syncstate.ports import StateStore
from syncstate.web.app import Panel, company_route, panel_of
from syncstate.web.security import Viewer

__all__ = ["MONTHS", "SCAN", "months_by_state", "routes", "state_bars"]

#: months the "records per export state over time" chart covers, ending with this month
MONTHS = 12
#: records read at most for that chart (it says when it shows only part)
SCAN = 20_000
#: a colour per export state (the chart's legend repeats them)
COLOURS = {
    "not_exported": "#9aa5b1",
    "in_flight": "#e0a800",
    "exported": "#3b6ea5",
    "failed": "#c0392b",
    "outdated": "#8e6cc2",
    "unlinked": "#555555",
    "historical": "#6aa36f",
}


def state_bars(counts: dict[ExportState, int]) -> list[dict[str, Any]]:
    """One bar per export state (every state, in the state machine's order)."""
    return [{"label": state.value, "value": counts.get(state, 0)} for state in ExportState]


def months_by_state(store: StateStore, company: str, today: dt.date) -> dict[str, Any]:
    """Records per export state for each of the last :data:`MONTHS` months (by record date)."""
    first = dt.date(today.year, today.month, 1)
    for _ in range(MONTHS - 1):
        first = (first - dt.timedelta(days=1)).replace(day=1)
    nxt = dt.date(today.year + today.month // 12, today.month % 12 + 1, 1)
    found = store.find(company, date_range=DateRange(first, nxt - dt.timedelta(days=1)), limit=SCAN)
    months: dict[str, Counter[str]] = {}
    day = first
    while day < nxt:
        months[f"{day:%Y-%m}"] = Counter()
        day = (day + dt.timedelta(days=32)).replace(day=1)
    for stored in found:
        months[f"{stored.record.on:%Y-%m}"][stored.state.value] += 1
    columns = [
        {
            "label": month,
            "parts": [(s, n[s], COLOURS[s]) for s in COLOURS if n[s]],
            "total": sum(n.values()),
        }
        for month, n in months.items()
    ]
    return {"columns": columns, "partial": len(found) >= SCAN, "legend": list(COLOURS.items())}


async def home(request: Request) -> Response:
    """The companies this viewer may see, with their records per state."""
    panel = panel_of(request)
    viewer = await panel.viewer(request)
    known = set(await panel.call(panel.store.companies))
    rows = []
    for company in sorted(viewer.companies & known):
        counts = await panel.call(panel.store.counts, company)
        rows.append({"company": company, "total": sum(counts.values()), "bars": state_bars(counts)})
    return panel.render(request, "home.html", {"rows": rows}, viewer=viewer)


async def overview(request: Request, panel: Panel, viewer: Viewer, company: str) -> Response:
    """One company: records per export state (a bar chart) and the workflows."""
    counts = await panel.call(panel.store.counts, company)
    today = panel.clock.now().date()
    history = await panel.call(months_by_state, panel.store, company, today)
    return panel.render(
        request,
        "company.html",
        {
            "company": company,
            "bars": state_bars(counts),
            "total": sum(counts.values()),
            "history": history,
        },
        viewer=viewer,
    )


def routes() -> list[BaseRoute]:
    """The routes of this page."""
    return [Route("/", home, methods=["GET"]), company_route("/", overview)]
