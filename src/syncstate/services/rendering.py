"""Turn stored records into back-end-neutral :class:`~syncstate.ports.Document` s.

A *renderer* is a plain function ``(StoredRecord) -> Document``. The export
engine looks one up by the record's kind in a mapping the caller passes
(``ExportOptions.renderers``), merged over :func:`default_renderers`. There is
no global registry: a host (or the bundling service) adds its kinds by passing
its own mapping.

A renderer raises an :class:`~syncstate.errors.InputError` (a missing mapping,
a malformed field) naming the record; the engine then marks that record
``failed`` with the message and sends nothing for it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from syncstate.domain.records import TimeEntry
from syncstate.errors import InputError
from syncstate.ports import Document, StoredRecord

__all__ = ["Renderer", "default_renderers", "render", "render_time_entry"]

#: a function that renders one stored record as a document
Renderer = Callable[[StoredRecord], Document]


def render_time_entry(stored: StoredRecord) -> Document:
    """A time entry as a ``time_activity`` document; the party is the employee.

    Fields: ``hours`` (decimal string), ``description`` (the notes), and where
    set ``customer`` (the job) and ``item`` (the cost code), plus the entry's
    own ``job``, ``cost_code`` and ``pay_type`` for back ends that want them.
    """
    entry = TimeEntry.from_record(stored.record)
    return Document(
        kind="time_activity",
        source=stored.key,
        date=entry.date,
        party=entry.employee,
        fields=_time_fields(entry),
        memo=entry.notes,
    )


def _time_fields(entry: TimeEntry) -> dict[str, str]:
    fields = {
        "employee": entry.employee,
        "hours": str(entry.hours),
        "job": entry.job,
        "cost_code": entry.cost_code,
        "pay_type": entry.pay_type,
        "description": entry.notes,
    }
    # the neutral names back ends map: the job is the customer, the cost code the item
    if entry.job:
        fields["customer"] = entry.job
    if entry.cost_code:
        fields["item"] = entry.cost_code
    return fields


def default_renderers() -> dict[str, Renderer]:
    """The renderers syncstate ships: ``time_entry`` → ``time_activity``."""
    return {TimeEntry.KIND: render_time_entry}


def render(stored: StoredRecord, renderers: Mapping[str, Renderer]) -> Document:
    """Render ``stored`` with the renderer registered for its kind."""
    renderer = renderers.get(stored.key.kind)
    if renderer is None:
        known = ", ".join(sorted(renderers)) or "none"
        raise InputError(
            f"record {stored.key}: no renderer for kind {stored.key.kind!r} (known: {known})"
        )
    return renderer(stored)
