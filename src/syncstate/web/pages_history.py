"""The History page: records per export state over time, as an inline SVG chart.

Stacked columns, one per day (per week for a long range), of the records of the company
in each export state at the end of that day, rebuilt from the journal of state
transitions by :func:`~syncstate.web.history.state_history`. The chart is plain SVG
drawn on the server (no JavaScript, no charting library), with a ``<title>`` and a
``<desc>`` for screen readers and the same numbers in a table beneath it.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from syncstate.errors import InputError
from syncstate.periods import parse_date
from syncstate.web.app import Panel, company_route
from syncstate.web.history import STATES, StateHistory, state_history
from syncstate.web.pages_home import COLOURS
from syncstate.web.security import Viewer

__all__ = ["DEFAULT_DAYS", "chart", "describe", "routes"]

#: the range shown when none is chosen: the last 30 days
DEFAULT_DAYS = 30
#: quick choices of range, in days ending today
PRESETS = ((30, "Last 30 days"), (90, "Last 90 days"), (365, "Last year, by week"))
WIDTH, HEIGHT = 760, 240
LEFT, RIGHT, TOP, BOTTOM = 44, 8, 16, 34
#: at most this many labels under the columns (every k-th column is labelled)
LABELS = 12


def _label(unit: str, first: dt.date) -> str:
    return first.isoformat() if unit == "day" else f"week of {first.isoformat()}"


def _ticks(top: int) -> list[int]:
    """Round values for the y axis, 0 .. at least ``top``."""
    if top <= 0:
        return [0]
    raw = top / 4
    magnitude = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    return list(range(0, top + step, step)) if top % step else list(range(0, top + 1, step))


def chart(history: StateHistory) -> dict[str, Any]:
    """The geometry of the stacked-column chart (every number the template draws)."""
    buckets = history.buckets
    top = max((b.total for b in buckets), default=0)
    ticks = _ticks(top)
    scale_top = ticks[-1] or 1
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(buckets), 1)
    bar = max(slot * 0.8, 1.0)
    every = max(1, math.ceil(len(buckets) / LABELS))
    columns = []
    for i, bucket in enumerate(buckets):
        x = LEFT + i * slot + (slot - bar) / 2
        y = float(TOP + plot_h)
        parts = []
        for state, n in zip(STATES, bucket.counts, strict=True):
            if not n:
                continue
            h = plot_h * n / scale_top
            y -= h
            parts.append(
                {"state": state.value, "n": n, "colour": COLOURS[state.value], "y": y, "h": h}
            )
        label = _label(history.unit, bucket.first)
        columns.append(
            {
                "label": label,
                "x": x,
                "width": bar,
                "centre": x + bar / 2,
                "total": bucket.total,
                "parts": parts,
                "axis": bucket.first.strftime("%m-%d") if i % every == 0 else "",
            }
        )
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "left": LEFT,
        "right": WIDTH - RIGHT,
        "baseline": TOP + plot_h,
        "ticks": [(t, TOP + plot_h - plot_h * t / scale_top) for t in ticks],
        "columns": columns,
        "legend": [(state.value, COLOURS[state.value]) for state in STATES],
    }


def describe(history: StateHistory) -> str:
    """The chart in one paragraph, for its ``<desc>``."""
    per = "day" if history.unit == "day" else "week (at the end of each week)"
    text = (
        f"Stacked columns, one per {per}, from {history.start.isoformat()} to "
        f"{history.end.isoformat()}: how many records were in each export state."
    )
    if history.buckets:
        last = history.buckets[-1]
        now = ", ".join(f"{n} {state}" for state, n in last.by_state().items() if n)
        text += f" On {last.last.isoformat()}: {now or 'no records'}."
    return text + " The table below lists every number."


def _range(request: Request, today: dt.date) -> tuple[dt.date, dt.date, bool]:
    """The chosen range (default: the last :data:`DEFAULT_DAYS` days), cut at today."""
    start_text = request.query_params.get("start", "").strip()
    end_text = request.query_params.get("end", "").strip()
    end = parse_date(end_text, what="end") if end_text else today
    cut = end > today
    end = min(end, today)
    if start_text:
        start = parse_date(start_text, what="start")
    else:
        start = end - dt.timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        raise InputError(
            f"the range starts {start.isoformat()}, after {end.isoformat()}"
            + (" (today: the history has no future)" if cut else "")
        )
    return start, end, cut


async def history_page(request: Request, panel: Panel, viewer: Viewer, company: str) -> Response:
    """Records of ``company`` per export state over the chosen range."""
    today = panel.clock.now().astimezone(dt.UTC).date()
    start, end, cut = _range(request, today)
    history = await panel.call(state_history, panel.store, company, start, end)
    presets = [
        (label, (today - dt.timedelta(days=days - 1)).isoformat(), today.isoformat())
        for days, label in PRESETS
    ]
    return panel.render(
        request,
        "history.html",
        {
            "company": company,
            "history": history,
            "chart": chart(history),
            "description": describe(history),
            "caption": (
                f"Records per export state, per {history.unit}, "
                f"{start.isoformat()} to {end.isoformat()}"
            ),
            "rows": [(_label(history.unit, b.first), b) for b in history.buckets],
            "states": [state.value for state in STATES],
            "cut": cut,
            "presets": presets,
        },
        viewer=viewer,
    )


def routes() -> list[BaseRoute]:
    """The routes of this page."""
    return [company_route("/history", history_page)]
