"""Leases on claimed records: hand back a dead worker's claims, renew live ones.

An export run claims records with a lease (``ExportOptions.lease``); a record whose
lease ran out is claimed again as a *takeover*, looked up by its idempotency key
before anything is resent. Two operations around that:

* :func:`release_worker` is for an operator who knows a worker is dead (its machine
  is gone): every record it holds becomes claimable at once instead of after the
  lease. It is still a takeover for the next claim, never a plain resend, because
  the dead worker may have sent the document.
* :func:`renew_leases` extends the leases of records a live worker is still sending
  (the export engine calls it as a heartbeat during long sends, so a slow page does
  not lose its claims).

Both are journaled transitions; neither touches the back end.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable

from syncstate.domain.records import RecordKey
from syncstate.domain.state import Event, EventKind, ExportState
from syncstate.errors import InputError, InvalidTransition, RecordNotFound
from syncstate.ports import Clock, StateStore, SystemClock

__all__ = ["release_worker", "renew_leases"]

log = logging.getLogger(__name__)


def release_worker(
    store: StateStore,
    company: str,
    worker: str,
    *,
    reason: str = "",
    actor: str = "syncstate",
    clock: Clock | None = None,
) -> tuple[RecordKey, ...]:
    """End the leases of every record ``worker`` holds in ``company``; return their keys.

    The next export run takes them over (a lookup by key before any resend).
    """
    if not worker:
        raise InputError("name the worker whose claims to release")
    now = (clock or SystemClock()).now()
    held = [
        s.key
        for s in store.find(company, states=[ExportState.IN_FLIGHT])
        if s.status.worker == worker
    ]
    if not held:
        return ()
    why = reason or f"claims of worker {worker} handed back by {actor}"
    store.apply(company, [(key, Event.of(EventKind.RECOVER, why)) for key in held], at=now,
                actor=actor)  # fmt: skip
    log.warning(
        "released %d claim(s) of worker %s in %s; the next run looks them up before sending",
        len(held),
        worker,
        company,
        extra={"company": company, "records": len(held)},
    )
    return tuple(held)


def renew_leases(
    store: StateStore,
    company: str,
    keys: Iterable[RecordKey],
    *,
    worker: str,
    lease_until: dt.datetime,
    at: dt.datetime,
    actor: str = "syncstate",
) -> tuple[RecordKey, ...]:
    """Extend the leases ``worker`` holds on ``keys`` to ``lease_until``; return those renewed.

    A record another worker took over (or that is no longer in flight) is left alone.
    """
    event = Event(kind=EventKind.RENEW, worker=worker, lease_until=lease_until)
    wanted = list(dict.fromkeys(keys))
    try:
        store.apply(company, [(key, event) for key in wanted], at=at, actor=actor)
        return tuple(wanted)
    except (InvalidTransition, RecordNotFound):
        renewed: list[RecordKey] = []
        for key in wanted:
            try:
                store.apply(company, [(key, event)], at=at, actor=actor)
            except (InvalidTransition, RecordNotFound) as exc:
                log.warning("lease of %s not renewed: %s", key, exc)
            else:
                renewed.append(key)
        return tuple(renewed)
