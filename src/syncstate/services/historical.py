"""Undo a historical mark: records wrongly declared "already accounted for".

Marking a backlog historical (``BundleService.mark_historical`` for transactions, or an
``mark_historical`` event) hides records from every export. A wrong cutoff can be
undone with :func:`unmark_historical`: the records become exportable again. Only
records that were never sent can be unmarked (a record with a remote document was
exported before it was marked, and unmarking it would send it a second time); the
refusal names the record. The change is journaled like every other transition.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from syncstate.domain.records import RecordKey
from syncstate.domain.state import Event, EventKind, JournalEntry
from syncstate.errors import InputError
from syncstate.ports import Clock, StateStore, SystemClock

__all__ = ["unmark_historical"]


def unmark_historical(
    store: StateStore,
    company: str,
    keys: Iterable[RecordKey],
    *,
    reason: str = "historical mark undone",
    actor: str = "syncstate",
    clock: Clock | None = None,
) -> Sequence[JournalEntry]:
    """Return historical records that were never sent to ``not_exported``, atomically.

    Raises :class:`~syncstate.errors.InvalidTransition` (nothing changed) when one of
    them is not historical or has a remote document.
    """
    wanted = list(dict.fromkeys(keys))
    for key in wanted:
        if key.company != company:
            raise InputError(f"record {key} does not belong to company {company!r}")
    if not wanted:
        return []
    event = Event.of(EventKind.UNMARK_HISTORICAL, reason)
    return store.apply(
        company, [(key, event) for key in wanted], at=(clock or SystemClock()).now(), actor=actor
    )
