"""Documents changed at the back end: an edit or a void there never passes silently.

:func:`apply_remote_changes` takes :class:`~syncstate.ports.changes.RemoteChange`
s (from QuickBooks' change data capture or its webhooks, or any back end's
feed), finds the exported record linked to each document, and applies an event
of the state machine (:mod:`syncstate.domain.state`) so the change shows in the
Sync Results with what changed:

================  ==========================================================
remote change     what the record gets, by policy
================  ==========================================================
edited            ``hold`` (default): **unlink**, reason ``remote_changed: ...``
(version moved)   (out of future syncs, nothing overwritten; the host decides
                  with :func:`resolve_remote_change`); ``overwrite``: **outdated**
                  (``source_changed``): the next export overwrites QuickBooks'
                  edit from the source; ``accept``: **exported** at the new
                  version (claim + succeed), the source is not sent again;
                  ``reexport``: **reset**, the next export creates a new document
voided/deleted    ``hold`` (default): **unlink**, reason ``remote_deleted: ...``;
                  ``reexport``: **reset** (a new document is created next time)
================  ==========================================================

A change whose version equals the one syncstate recorded is its own write
(``own``); an older version is ``stale``; a webhook change without a version is
``unverified`` (resolve versions first, e.g. with QuickBooks'
``resolve_versions``); a record being sent right now is ``deferred`` (apply the
change again later); a change of a document no record links to is ``unlinked_doc``.
Everything is applied in one atomic call of the store per company.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Literal

import attrs

from syncstate.domain.records import RecordKey
from syncstate.domain.state import Event, EventKind, ExportState
from syncstate.errors import InputError
from syncstate.ports import Clock, StateStore, StoredRecord, SystemClock
from syncstate.ports.changes import RemoteChange

__all__ = [
    "DEFAULT_RECORD_KINDS",
    "RemoteChangeOutcome",
    "RemoteChangesReport",
    "RemotePolicy",
    "apply_remote_changes",
    "resolve_remote_change",
]

RemotePolicy = Literal["hold", "overwrite", "accept", "reexport"]
_POLICIES = ("hold", "overwrite", "accept", "reexport")
#: document kind → record kinds that export as it (plain records and bundles)
DEFAULT_RECORD_KINDS: Mapping[str, tuple[str, ...]] = {
    "invoice": ("invoice", "bundle.invoice"),
    "sales_receipt": ("sales_receipt", "bundle.sales_receipt"),
    "payment": ("bundle.payment",),
    "time_activity": ("time_entry", "time_activity"),
}
_LINKED = (ExportState.EXPORTED, ExportState.OUTDATED, ExportState.IN_FLIGHT)


@attrs.frozen(kw_only=True)
class RemoteChangeOutcome:
    """What one change meant: ``mark`` and the events applied to ``key`` (if any).

    ``mark``: ``remote_changed``, ``remote_deleted``, ``own``, ``stale``,
    ``unverified``, ``deferred``, ``ignored`` or ``unlinked_doc``.
    """

    change: RemoteChange
    mark: str
    key: RecordKey | None = None
    events: tuple[str, ...] = ()
    detail: str = ""

    def to_dict(self) -> dict[str, object]:
        """Plain data for JSON output and results views."""
        return {
            "mark": self.mark,
            "record": None if self.key is None else str(self.key),
            "kind": self.change.kind,
            "remote_id": self.change.remote_id,
            "operation": self.change.operation,
            "version": self.change.version,
            "events": list(self.events),
            "detail": self.detail,
        }


@attrs.frozen(kw_only=True)
class RemoteChangesReport:
    """Every change's outcome, in the order given."""

    outcomes: tuple[RemoteChangeOutcome, ...]

    def marked(self, mark: str) -> list[RemoteChangeOutcome]:
        """The outcomes with this mark."""
        return [o for o in self.outcomes if o.mark == mark]

    def summary(self) -> dict[str, int]:
        """How many changes got each mark."""
        counts: dict[str, int] = {}
        for outcome in self.outcomes:
            counts[outcome.mark] = counts.get(outcome.mark, 0) + 1
        return counts


def _newer(version: str, than: str | None) -> bool | None:
    """Whether ``version`` is after ``than`` (None: cannot tell; tokens are numbers)."""
    if than is None:
        return None
    try:
        return int(version) > int(than)
    except ValueError:
        return version != than


def _describe(change: RemoteChange, stored: StoredRecord) -> str:
    what: str = "deleted" if change.operation == "delete" else change.operation
    if change.operation == "update":
        what = f"edited (version {stored.status.remote_version} -> {change.version})"
    at = f" at {change.at.isoformat()}" if change.at else ""
    extra = f"; {change.detail}" if change.detail else ""
    return f"{change.kind} {change.remote_id} {what} at the back end{at}{extra}"


def _events(
    change: RemoteChange, stored: StoredRecord, policy: RemotePolicy
) -> tuple[str, list[Event], str]:
    """The mark, the events and the description for one linked record."""
    status = stored.status
    if status.state is ExportState.IN_FLIGHT:
        return "deferred", [], "the record is being sent; apply the change again later"
    if change.removes:
        reason = f"remote_deleted: {_describe(change, stored)}"
        if policy == "reexport":
            return "remote_deleted", [Event.of(EventKind.RESET, reason)], reason
        return "remote_deleted", [Event.of(EventKind.UNLINK, reason)], reason
    if change.operation != "update":
        return "ignored", [], f"{change.operation} does not change an exported document"
    if change.version is None:
        return "unverified", [], "no version: resolve the document's version first"
    newer = _newer(change.version, status.remote_version)
    if newer is False or change.version == status.remote_version:
        mark = "own" if change.version == status.remote_version else "stale"
        return mark, [], f"version {change.version}, recorded {status.remote_version}"
    reason = f"remote_changed: {_describe(change, stored)}"
    if policy == "overwrite":
        return "remote_changed", [Event.of(EventKind.SOURCE_CHANGED, reason)], reason
    if policy == "accept" and status.state is ExportState.OUTDATED:
        # changed on both sides: accepting would drop the source's change unseen
        reason += "; the source changed too, so it is held"
    elif policy == "accept":
        remote_id = status.remote_id or change.remote_id
        events = [Event.of(EventKind.SOURCE_CHANGED, reason), Event.claim()]
        return "remote_changed", [*events, Event.succeed(remote_id, change.version)], reason
    if policy == "reexport":
        return "remote_changed", [Event.of(EventKind.RESET, reason)], reason
    return "remote_changed", [Event.of(EventKind.UNLINK, reason)], reason


def _linked_records(
    store: StateStore, company: str, record_kinds: Collection[str], remote_ids: set[str]
) -> dict[tuple[str, str], StoredRecord]:
    """(record kind, remote id) → the linked record, for the ids asked about."""
    found: dict[tuple[str, str], StoredRecord] = {}
    for stored in store.find(company, kinds=sorted(record_kinds), states=_LINKED):
        remote = stored.status.remote_id
        if remote is not None and remote in remote_ids:
            found[(stored.key.kind, remote)] = stored
    return found


def apply_remote_changes(
    store: StateStore,
    changes: Iterable[RemoteChange],
    *,
    policy: RemotePolicy = "hold",
    record_kinds: Mapping[str, Sequence[str]] | None = None,
    actor: str = "remote-changes",
    clock: Clock | None = None,
) -> RemoteChangesReport:
    """Apply back-end changes to the linked records; see the module for the table.

    ``record_kinds`` maps a document kind to the record kinds exported as it
    (default :data:`DEFAULT_RECORD_KINDS`; other kinds map to themselves). A
    document changed several times counts once, by its latest change.
    """
    if policy not in _POLICIES:
        raise InputError(f"policy must be one of {', '.join(_POLICIES)}, got {policy!r}")
    kinds = dict(DEFAULT_RECORD_KINDS if record_kinds is None else record_kinds)
    at = (clock or SystemClock()).now()
    latest: dict[tuple[str, str, str], RemoteChange] = {}
    order: list[RemoteChange] = []
    for change in changes:
        order.append(change)
        ident = (change.company, change.kind, change.remote_id)
        before = latest.get(ident)
        if before is None or _later(change, before):
            latest[ident] = change
    outcomes: list[RemoteChangeOutcome] = []
    by_company: dict[str, list[tuple[RecordKey, Event]]] = {}
    done: set[tuple[str, str, str]] = set()
    index: dict[str, dict[tuple[str, str], StoredRecord]] = {}
    for company in sorted({c.company for c in order}):
        wanted = [c for c in latest.values() if c.company == company]
        record_set = {k for c in wanted for k in kinds.get(c.kind, (c.kind,))}
        index[company] = _linked_records(store, company, record_set, {c.remote_id for c in wanted})
    for change in order:
        ident = (change.company, change.kind, change.remote_id)
        if latest[ident] is not change or ident in done:
            outcomes.append(RemoteChangeOutcome(change=change, mark="ignored", detail="superseded"))
            continue
        done.add(ident)
        linked = [
            index[change.company][(kind, change.remote_id)]
            for kind in kinds.get(change.kind, (change.kind,))
            if (kind, change.remote_id) in index[change.company]
        ]
        if not linked:
            outcomes.append(RemoteChangeOutcome(change=change, mark="unlinked_doc"))
            continue
        for stored in linked:
            mark, events, detail = _events(change, stored, policy)
            by_company.setdefault(change.company, []).extend((stored.key, e) for e in events)
            outcomes.append(
                RemoteChangeOutcome(
                    change=change,
                    mark=mark,
                    key=stored.key,
                    events=tuple(e.kind.value for e in events),
                    detail=detail,
                )
            )
    for company, pairs in sorted(by_company.items()):
        if pairs:
            store.apply(company, pairs, at=at, actor=actor)
    return RemoteChangesReport(outcomes=tuple(outcomes))


def _later(change: RemoteChange, than: RemoteChange) -> bool:
    if change.removes != than.removes:
        return change.removes  # a deletion outlives any edit before it
    if change.at is not None and than.at is not None and change.at != than.at:
        return change.at > than.at
    if change.version is not None and than.version is not None:
        return bool(_newer(change.version, than.version))
    return True


def resolve_remote_change(
    store: StateStore,
    key: RecordKey,
    decision: Literal["overwrite", "accept", "reexport"],
    *,
    version: str | None = None,
    actor: str = "remote-changes",
    clock: Clock | None = None,
    at: dt.datetime | None = None,
) -> ExportState:
    """The host's decision on a record held (unlinked) by a remote change.

    ``overwrite``: relink and mark outdated (the next export overwrites the
    back end's version); ``accept``: relink at the back end's ``version``
    (required); ``reexport``: relink and reset (a new document next time).
    Returns the record's new state.
    """
    stored = store.get(key)
    if stored.state is not ExportState.UNLINKED:
        raise InputError(f"record {key} is {stored.state.value}, not held by a remote change")
    reason = f"remote change resolved: {decision}"
    events = [Event.of(EventKind.RELINK, reason)]
    if decision == "overwrite":
        events.append(Event.of(EventKind.SOURCE_CHANGED, reason))
    elif decision == "accept":
        if not version:
            raise InputError(f"record {key}: accepting the back end's version needs the version")
        events += [
            Event.of(EventKind.SOURCE_CHANGED, reason),  # exported → outdated, so claimable
            Event.claim(),
            Event.succeed(stored.status.remote_id or "", version),
        ]
    elif decision == "reexport":
        events.append(Event.of(EventKind.RESET, reason))
    else:
        raise InputError(f"decision must be overwrite, accept or reexport, got {decision!r}")
    when = at or (clock or SystemClock()).now()
    entries = store.apply(key.company, [(key, e) for e in events], at=when, actor=actor)
    return entries[-1].to_state if entries else store.get(key).state
