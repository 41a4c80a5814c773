"""Records per export state over time, rebuilt from the journal of state transitions.

For every day (or week, when the range is longer than :data:`DAILY_UP_TO` days) of a
range, how many records of a company were in each export state at the end of that day
(of the week's last day in the range), in UTC. Read through the state store's public
API only: :meth:`~syncstate.ports.StateStore.find` for the company's records and
:meth:`~syncstate.ports.StateStore.journal` for each record's transitions (their dates
are the journal entries' ``at``).

The journal starts with a record's first transition: an ingest writes no entry. So a
record counts from its own date (``SourceRecord.on``) or its first transition, whichever
is earlier, and before its first transition it counts in that transition's starting
state (a record never changed: in its current state). At most :data:`SCAN` records are
read (the history says when it shows only part).
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Sequence

import attrs

from syncstate.domain.state import ExportState, JournalEntry
from syncstate.errors import InputError
from syncstate.ports import StateStore, StoredRecord

__all__ = [
    "DAILY_UP_TO",
    "LONGEST",
    "SCAN",
    "STATES",
    "Bucket",
    "StateHistory",
    "spans_of",
    "state_history",
    "timeline",
]

#: ranges up to this many days are shown per day, longer ones per week
DAILY_UP_TO = 92
#: the longest range shown, in days (about three years of weeks)
LONGEST = 3 * 366
#: records read at most (each needs its journal)
SCAN = 10_000
#: the export states, in the order of the counts of a :class:`Bucket`
STATES = tuple(ExportState)


@attrs.frozen(kw_only=True)
class Bucket:
    """One day or week of the history: records per state at the end of ``last``."""

    first: dt.date
    last: dt.date
    #: records per export state, in :class:`~syncstate.domain.state.ExportState` order
    counts: tuple[int, ...]

    @property
    def total(self) -> int:
        """Records counted in this bucket."""
        return sum(self.counts)

    def by_state(self) -> dict[str, int]:
        """Records per state name (every state, zeros included)."""
        return {state.value: n for state, n in zip(STATES, self.counts, strict=True)}


@attrs.frozen(kw_only=True)
class StateHistory:
    """The buckets of a range, and how much of the company they cover."""

    start: dt.date
    end: dt.date
    #: ``"day"`` or ``"week"``
    unit: str
    buckets: tuple[Bucket, ...]
    #: records whose journal was read
    records: int
    #: True when the company has more records than :data:`SCAN` (the rest is left out)
    partial: bool


def spans_of(start: dt.date, end: dt.date) -> tuple[str, list[tuple[dt.date, dt.date]]]:
    """The unit and the ``(first, last)`` days of each bucket of ``start`` .. ``end``.

    Days up to :data:`DAILY_UP_TO` days, else weeks from Monday to Sunday (the first and
    last cut at the range). Raises :class:`~syncstate.errors.InputError` for an inverted
    range or one longer than :data:`LONGEST` days.
    """
    if end < start:
        raise InputError(f"the range is inverted: {start.isoformat()} is after {end.isoformat()}")
    days = (end - start).days + 1
    if days > LONGEST:
        raise InputError(f"the range is {days} days long; choose at most {LONGEST} days")
    if days <= DAILY_UP_TO:
        return "day", [(start + dt.timedelta(n), start + dt.timedelta(n)) for n in range(days)]
    spans = []
    first = start
    while first <= end:
        sunday = first + dt.timedelta(days=6 - first.weekday())
        spans.append((first, min(sunday, end)))
        first = sunday + dt.timedelta(days=1)
    return "week", spans


def _day(moment: dt.datetime) -> dt.date:
    return (moment.astimezone(dt.UTC) if moment.tzinfo else moment).date()


def timeline(
    stored: StoredRecord, entries: Sequence[JournalEntry]
) -> tuple[dt.date, ExportState, list[tuple[dt.date, ExportState]]]:
    """When a record starts to count, its state then, and each change ``(day, new state)``.

    ``entries`` is the record's journal, oldest first.
    """
    if not entries:
        return stored.record.on, stored.state, []
    changes = [(_day(e.at), e.to_state) for e in entries]
    return min(stored.record.on, changes[0][0]), entries[0].from_state, changes


def state_history(
    store: StateStore, company: str, start: dt.date, end: dt.date, *, limit: int = SCAN
) -> StateHistory:
    """Records of ``company`` per export state for each day or week of ``start`` .. ``end``."""
    unit, spans = spans_of(start, end)
    lasts = [last for _, last in spans]
    n = len(spans)
    # per state, +1 where a record enters it and -1 where it leaves (a difference array)
    steps = [[0] * (n + 1) for _ in STATES]
    index = {state: i for i, state in enumerate(STATES)}
    found = store.find(company, limit=limit + 1)
    partial = len(found) > limit
    found = found[:limit]
    for stored in found:
        begin, state, changes = timeline(stored, store.journal(stored.key))
        since = begin
        for day, after in changes:
            _count(steps[index[state]], lasts, since, day)
            since, state = max(since, day), after
        _count(steps[index[state]], lasts, since, None)
    buckets = []
    running = [0] * len(STATES)
    for b, (first, last) in enumerate(spans):
        for s in range(len(STATES)):
            running[s] += steps[s][b]
        buckets.append(Bucket(first=first, last=last, counts=tuple(running)))
    return StateHistory(
        start=start,
        end=end,
        unit=unit,
        buckets=tuple(buckets),
        records=len(found),
        partial=partial,
    )


def _count(steps: list[int], lasts: list[dt.date], since: dt.date, until: dt.date | None) -> None:
    """Count a state held from the end of day ``since`` until the end of day ``until``
    (exclusive; ``None``: still held) in every bucket whose last day falls in it."""
    a = bisect.bisect_left(lasts, since)
    b = len(lasts) if until is None else bisect.bisect_left(lasts, until)
    if a < b:
        steps[a] += 1
        steps[b] -= 1
