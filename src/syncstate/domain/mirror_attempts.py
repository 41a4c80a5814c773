"""The record of mirror runs (load, clear, reload, drift): what was tried, and how it ended.

A run that changes the mirror leaves one :class:`MirrorAttempt` per fiscal year it
was asked for (one with ``year=None`` when it took every year the source holds),
written when it starts and updated when it ends. An operator reads them
(``syncstate mirror status``, :meth:`~syncstate.services.mirror.MirrorService.attempts`)
to see what failed and why, and runs it again.

Outcomes (:data:`OUTCOMES`):

* ``running`` - started, not ended; shown as ``interrupted`` once no run holds the
  company's lock any more (:func:`settle`): a reload killed with ``SIGKILL``
  cannot write its own end.
* ``ok`` - done; ``failed`` - the input or the store refused it, the old data was
  kept (``reason`` says why); ``refused`` - another run held the company;
  ``interrupted`` - stopped before it ended (Ctrl-C, a crash, a kill).

Stores keep the newest :data:`ATTEMPTS_KEPT` per company and fiscal year.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import attrs

from syncstate.periods import FiscalYear

__all__ = ["ATTEMPTS_KEPT", "INTERRUPTED_REASON", "OUTCOMES", "MirrorAttempt", "settle"]

#: how many attempts a store keeps per company and fiscal year (older ones are dropped)
ATTEMPTS_KEPT = 20

#: every outcome an attempt can have
OUTCOMES = ("running", "ok", "failed", "refused", "interrupted")

#: the reason given for a run that never wrote its end
INTERRUPTED_REASON = "the run stopped before it ended (killed or crashed); run it again"


@attrs.frozen(kw_only=True)
class MirrorAttempt:
    """One fiscal year of one mirror run: when it started and ended, and how.

    ``attempt`` groups the years of one run; ``year`` is None when the run took
    every year its source holds; ``ended_at`` is None while it runs (or when it
    was killed).
    """

    attempt: int
    company: str
    year: FiscalYear | None
    operation: str
    holder: str
    started_at: dt.datetime
    ended_at: dt.datetime | None = None
    outcome: str = "running"
    reason: str = ""

    def to_record(self) -> dict[str, Any]:
        """A plain row (JSON-ready except the two datetimes)."""
        return {
            "attempt": self.attempt,
            "year": "all" if self.year is None else str(self.year),
            "operation": self.operation,
            "outcome": self.outcome,
            "reason": self.reason,
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "holder": self.holder,
        }


def settle(attempts: Iterable[MirrorAttempt], *, lock_held: bool) -> list[MirrorAttempt]:
    """``attempts`` (newest first) with each ``running`` one that cannot be running any
    more shown as ``interrupted``.

    When nobody holds the company's lock no run is going on, so every ``running``
    attempt was killed. When someone holds it, the newest running attempt is theirs
    and older running ones were killed.
    """
    out: list[MirrorAttempt] = []
    live: int | None = None
    for found in attempts:
        if found.outcome == "running":
            if lock_held and live is None:
                live = found.attempt
            if found.attempt != live:
                found = attrs.evolve(found, outcome="interrupted", reason=INTERRUPTED_REASON)
        out.append(found)
    return out
