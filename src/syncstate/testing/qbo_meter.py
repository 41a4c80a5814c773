"""A :class:`~syncstate.testing.qbo_server.QboServer` that notes every request it answers.

The proof that many workers keep to a company's limits is counted where the
limits apply: at the server. :class:`MeteredQboServer` records, per realm, when
each request came in and went out and whether it was throttled;
:meth:`MeteredQboServer.report` gives the peak number of requests in progress at
once, the most requests in any window, and the 429s::

    with MeteredQboServer() as server:
        server.faults.rate_limit, server.faults.rate_window = 20, 1.0
        ... run workers ...
        figures = server.report(realm, window=1.0)
        assert figures.throttled == 0 and figures.peak_concurrent <= 10
"""

from __future__ import annotations

import bisect
import threading
import time
from collections.abc import Mapping
from typing import Any

import attrs

from syncstate.testing.qbo_server import QboServer

__all__ = ["MeteredQboServer", "RealmFigures"]


@attrs.frozen(kw_only=True)
class RealmFigures:
    """What one realm saw: requests, 429s, peak in progress, most in any window."""

    requests: int
    throttled: int
    peak_concurrent: int
    most_in_window: int
    first: float
    last: float


class MeteredQboServer(QboServer):
    """The local QuickBooks-like server, noting (realm, start, end, status) per request."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._notes: dict[str, list[tuple[float, float, int]]] = {}
        self._notes_lock = threading.Lock()

    def handle(
        self, method: str, path: str, query: Mapping[str, str], auth: str, body: bytes
    ) -> Any:
        """Answer as the server does, and note the request."""
        start = time.monotonic()
        answer = super().handle(method, path, query, auth, body)
        end = time.monotonic()
        parts = path.strip("/").split("/")
        realm = parts[2] if len(parts) > 2 else ""
        with self._notes_lock:
            self._notes.setdefault(realm, []).append((start, end, int(answer.status)))
        return answer

    def realms(self) -> list[str]:
        """Realms that were sent requests."""
        with self._notes_lock:
            return sorted(self._notes)

    def report(self, realm: str, *, window: float) -> RealmFigures:
        """Figures for ``realm``; ``window`` in seconds for :attr:`RealmFigures.most_in_window`."""
        with self._notes_lock:
            notes = sorted(self._notes.get(realm, []))
        served = [(s, e) for s, e, status in notes if status != 429]
        edges = sorted([(s, 1) for s, _ in served] + [(e, -1) for _, e in served])
        peak = now = 0
        for _, step in edges:
            now += step
            peak = max(peak, now)
        starts = [s for s, _ in served]
        most = 0
        for i, s in enumerate(starts):
            most = max(most, bisect.bisect_left(starts, s + window) - i)
        return RealmFigures(
            requests=len(notes),
            throttled=sum(1 for *_, status in notes if status == 429),
            peak_concurrent=peak,
            most_in_window=most,
            first=notes[0][0] if notes else 0.0,
            last=notes[-1][1] if notes else 0.0,
        )
