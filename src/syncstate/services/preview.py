"""What the next export would send, without sending or claiming anything.

:func:`preview_export` selects exactly as :func:`~syncstate.export_records` does
(kinds, date range, subjects, keys; ``not_exported``, ``failed``, ``outdated``, and
``in_flight`` records whose lease ran out) and reports, per record, what the run would
do with it: ``create``, ``update`` (an outdated record overwrites its document),
``resolve`` (a takeover: looked up by its key before anything is sent) or ``held``
(another worker's lease is still running). It only reads.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

import attrs

from syncstate.domain.records import RecordKey
from syncstate.domain.state import EXPORTABLE, ExportState
from syncstate.errors import InputError
from syncstate.notebook import Tabular
from syncstate.periods import DateRange
from syncstate.ports import Clock, StateStore, StoredRecord, SystemClock

__all__ = ["ExportPreview", "PreviewRow", "preview_export", "select_exportable"]

_SELECTABLE = frozenset(EXPORTABLE | {ExportState.IN_FLIGHT})


def select_exportable(
    store: StateStore,
    company: str,
    *,
    kinds: Sequence[str],
    date_range: DateRange | None,
    subjects: Iterable[str] | None,
    keys: Iterable[RecordKey] | None,
) -> list[StoredRecord]:
    """The records an export of ``company`` selects (before claims and leases)."""
    subject_list = None if subjects is None else list(subjects)
    if keys is None:
        return store.find(
            company, kinds=kinds, date_range=date_range, subjects=subject_list, states=_SELECTABLE
        )
    by_kind: dict[str, set[str]] = {}
    for key in keys:
        if key.company != company:
            raise InputError(f"record {key} does not belong to company {company!r}")
        if key.kind not in kinds:
            raise InputError(f"record {key}: no renderer for kind {key.kind!r}")
        by_kind.setdefault(key.kind, set()).add(key.source_id)
    found: list[StoredRecord] = []
    for kind, ids in sorted(by_kind.items()):
        found += store.find(
            company,
            kinds=[kind],
            source_ids=sorted(ids),
            date_range=date_range,
            subjects=subject_list,
            states=_SELECTABLE,
        )
    return found


@attrs.frozen(kw_only=True)
class PreviewRow:
    """One record the next export would handle, and how."""

    key: RecordKey
    state: ExportState
    action: str
    idempotency_key: str
    remote_id: str | None = None
    note: str = ""


@attrs.frozen(kw_only=True)
class ExportPreview(Tabular):
    """The records the next export of ``company`` would send, in a stable order."""

    company: str
    rows: tuple[PreviewRow, ...]

    def __repr__(self) -> str:
        counts = {a: sum(1 for r in self.rows if r.action == a) for a in _ACTIONS}
        shown = ", ".join(f"{a}={n}" for a, n in counts.items() if n)
        return f"ExportPreview(company={self.company!r}, records={len(self.rows)}, {shown})"

    def __len__(self) -> int:
        return len(self.rows)

    def counts(self) -> dict[str, int]:
        """Records per action (``create``, ``update``, ``resolve``, ``held``)."""
        return {a: sum(1 for r in self.rows if r.action == a) for a in _ACTIONS}

    def to_records(self) -> list[dict[str, Any]]:
        """One plain row per record."""
        return [
            {
                "kind": r.key.kind,
                "source_id": r.key.source_id,
                "state": r.state.value,
                "action": r.action,
                "idempotency_key": r.idempotency_key,
                "remote_id": r.remote_id,
                "note": r.note,
            }
            for r in self.rows
        ]


_ACTIONS = ("create", "update", "resolve", "held")


def preview_export(
    store: StateStore,
    company: str,
    *,
    kinds: Iterable[str] | None = None,
    date_range: DateRange | None = None,
    subjects: Iterable[str] | None = None,
    keys: Iterable[RecordKey] | None = None,
    clock: Clock | None = None,
) -> ExportPreview:
    """What :func:`~syncstate.export_records` would send now; reads only.

    ``kinds`` defaults to every kind with a default renderer.
    """
    from syncstate.services.rendering import default_renderers

    kind_list = sorted(default_renderers()) if kinds is None else sorted(set(kinds))
    now = (clock or SystemClock()).now()
    rows = [
        _row(stored, now)
        for stored in select_exportable(
            store, company, kinds=kind_list, date_range=date_range, subjects=subjects, keys=keys
        )
    ]
    rows.sort(key=lambda r: (r.key.kind, r.key.source_id))
    return ExportPreview(company=company, rows=tuple(rows))


def _row(stored: StoredRecord, now: dt.datetime) -> PreviewRow:
    status = stored.status
    action, note = "create", ""
    if status.state is ExportState.IN_FLIGHT:
        if status.lease_until is not None and status.lease_until > now:
            action = "held"
            note = f"held by {status.worker or 'another worker'} until {status.lease_until}"
        else:
            action = "resolve"
            note = "an earlier run may have sent it: looked up by its key first"
    elif status.remote_id is not None:
        action = "update"
    return PreviewRow(
        key=stored.key,
        state=status.state,
        action=action,
        idempotency_key=status.key_for(stored.key),
        remote_id=status.remote_id,
        note=note,
    )
