"""Relink with checks: before a record goes back into future syncs, check what can be checked.

The sync results workflow asks the user to fix the cause of a sync error first, then
relink. :func:`relink_checked` checks each record before relinking any:

* it is unlinked (only unlinked records can be relinked);
* it is still present at the source, when the host passes ``present`` (a callback that
  asks the host application);
* it still renders as a document (its fields are valid for its kind), for kinds that
  are exported on their own (a bundled transaction is checked when its bundle is);
* the back end would accept its references, when the host passes ``validate`` (for
  example a function that resolves the document's customer, employee and item
  mappings and raises :class:`~syncstate.errors.UnmappedReference`).

If any record fails a check, nothing is relinked and :class:`~syncstate.errors.InputError`
names every record with its failed check. Otherwise all are relinked atomically and the
report says which checks ran.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

import attrs

from syncstate.domain.records import RecordKey
from syncstate.domain.state import Event, EventKind, ExportState, JournalEntry
from syncstate.errors import InputError, RecordNotFound, SyncStateError
from syncstate.ports import Clock, Document, StateStore, SystemClock
from syncstate.services.rendering import Renderer, default_renderers, render

__all__ = ["RelinkReport", "relink_checked"]


@attrs.frozen(kw_only=True)
class RelinkReport:
    """What :func:`relink_checked` checked and changed."""

    company: str
    checks: tuple[str, ...]
    entries: tuple[JournalEntry, ...]

    def __repr__(self) -> str:
        return (
            f"RelinkReport(company={self.company!r}, relinked={len(self.entries)}, "
            f"checks={list(self.checks)!r})"
        )


def relink_checked(
    store: StateStore,
    company: str,
    keys: Iterable[RecordKey],
    *,
    reason: str = "relinked",
    actor: str = "syncstate",
    clock: Clock | None = None,
    renderers: Mapping[str, Renderer] | None = None,
    validate: Callable[[Document], object] | None = None,
    present: Callable[[RecordKey], bool] | None = None,
) -> RelinkReport:
    """Check ``keys`` (see the module docstring), then relink them all, or none."""
    table = {**default_renderers(), **(renderers or {})}
    wanted = list(dict.fromkeys(keys))
    checks = ["unlinked"]
    if present is not None:
        checks.append("present at the source")
    checks.append("renders as a document")
    if validate is not None:
        checks.append("accepted by the back end's mappings")
    problems: list[str] = []
    for key in wanted:
        if key.company != company:
            raise InputError(f"record {key} does not belong to company {company!r}")
        try:
            stored = store.get(key)
        except RecordNotFound:
            problems.append(f"{key}: no such record")
            continue
        if stored.status.state is not ExportState.UNLINKED:
            problems.append(f"{key}: it is {stored.status.state.value}, not unlinked")
            continue
        if present is not None and not present(key):
            problems.append(f"{key}: no longer present at the source")
            continue
        if key.kind not in table:
            continue  # not exported on its own (a bundled transaction): nothing to render
        try:
            document = render(stored, table)
            if validate is not None:
                validate(document)
        except SyncStateError as exc:
            problems.append(f"{key}: {exc}")
    if problems:
        raise InputError(f"nothing relinked; fix these first: {'; '.join(problems)}")
    if not wanted:
        return RelinkReport(company=company, checks=tuple(checks), entries=())
    entries = store.apply(
        company,
        [(key, Event.of(EventKind.RELINK, reason)) for key in wanted],
        at=(clock or SystemClock()).now(),
        actor=actor,
    )
    return RelinkReport(company=company, checks=tuple(checks), entries=tuple(entries))
