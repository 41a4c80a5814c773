"""Reset exported records so they can be exported again.

Two steps, so that a reset is never a surprise:

1. :func:`plan_reset` selects the exported records of some employees in a date
   range and returns a :class:`ResetPlan`: how many records per employee, the
   range, and the warning that the accounting or payroll system is **not**
   changed. Nothing is written.
2. :func:`apply_reset` applies a plan, only with ``acknowledge=True``, in one
   transaction: every record in the plan goes back to ``not_exported`` in a new
   export generation (so the next export uses a fresh idempotency key and does
   not collide with the old remote document), or nothing changes at all.

A plan is single-use: applying it again fails because its records are no
longer exported. No selection survives a reset; the next export selects anew.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

import attrs

from syncstate.domain.records import RecordKey, TimeEntry
from syncstate.domain.state import Event, EventKind, ExportState, JournalEntry
from syncstate.errors import AcknowledgementRequired, EmptySelectionError
from syncstate.notebook import Tabular, compact_repr
from syncstate.periods import DateRange
from syncstate.ports import Clock, StateStore, SystemClock

__all__ = ["RESET_WARNING", "ResetPlan", "ResetResult", "apply_reset", "plan_reset"]

#: what every reset plan says, and what the caller acknowledges
RESET_WARNING = (
    "Records already in your accounting or payroll system are NOT removed there. "
    "Remove them in that system yourself before exporting again, or they will be duplicated."
)

#: states a reset returns to ``not_exported``
RESETTABLE = frozenset({ExportState.EXPORTED, ExportState.OUTDATED, ExportState.FAILED})

log = logging.getLogger(__name__)


@attrs.frozen(kw_only=True)
class ResetPlan(Tabular):
    """What a reset would do. Inspect it, then pass it to :func:`apply_reset`.

    In Jupyter it shows as a table of records per employee, under a caption
    that carries the warning.
    """

    company: str
    date_range: DateRange
    employees: tuple[str, ...]
    kinds: tuple[str, ...]
    keys: tuple[RecordKey, ...]
    per_employee: tuple[tuple[str, int], ...]
    warning: str = RESET_WARNING

    @property
    def total(self) -> int:
        """Number of records the reset would make exportable again."""
        return len(self.keys)

    def __repr__(self) -> str:
        return compact_repr(
            self,
            company=self.company,
            date_range=self.date_range,
            employees=len(self.employees),
            records=self.total,
        )

    def to_records(self) -> list[dict[str, Any]]:
        """One plain row per employee: ``{"employee", "records"}``."""
        return [{"employee": e, "records": n} for e, n in self.per_employee]

    def to_dict(self) -> dict[str, Any]:
        """The plan as plain data (for ``--json``)."""
        return {
            "company": self.company,
            "from": self.date_range.start.isoformat(),
            "to": self.date_range.end.isoformat(),
            "employees": list(self.employees),
            "per_employee": dict(self.per_employee),
            "total": self.total,
            "warning": self.warning,
        }

    def _html_caption(self) -> str:
        return (
            f"Reset plan for {self.company}, {self.date_range}: {self.total} records. "
            f"{self.warning}"
        )


@attrs.frozen(kw_only=True)
class ResetResult(Tabular):
    """What a reset did; :meth:`to_records` gives one row per employee.

    ``entries`` are the journal entries the reset wrote, one per record (a
    store may build them when they are read).
    """

    company: str
    reset: int
    per_employee: tuple[tuple[str, int], ...]
    entries: Sequence[JournalEntry] = attrs.field(repr=False, eq=False)

    def __repr__(self) -> str:
        return compact_repr(
            self, company=self.company, reset=self.reset, employees=len(self.per_employee)
        )

    @property
    def generations(self) -> tuple[tuple[RecordKey, int], ...]:
        """Each reset record with the export generation it starts afresh in."""
        return tuple((e.key, e.generation) for e in self.entries)

    def to_dict(self) -> dict[str, Any]:
        """Plain data (for ``--json``)."""
        return {
            "company": self.company,
            "reset": self.reset,
            "per_employee": dict(self.per_employee),
            "selected": 0,
        }

    def to_records(self) -> list[dict[str, Any]]:
        """One plain row per employee: ``{"employee", "reset"}``."""
        return [{"employee": e, "reset": n} for e, n in self.per_employee]

    def _html_caption(self) -> str:
        return f"Reset {self.reset} records of {self.company}"


def plan_reset(
    store: StateStore,
    company: str,
    date_range: DateRange,
    employees: Iterable[str],
    *,
    kinds: Iterable[str] = (TimeEntry.KIND,),
) -> ResetPlan:
    """Plan a reset of ``employees``' exported records in ``date_range``.

    Raises :class:`EmptySelectionError` when no employee is given or nothing
    in the selection has been exported.
    """
    chosen = tuple(sorted(set(employees)))
    if not chosen:
        raise EmptySelectionError("select at least one employee to reset")
    kind_list = tuple(kinds)
    found = store.find(
        company, kinds=kind_list, date_range=date_range, subjects=chosen, states=RESETTABLE
    )
    if not found:
        raise EmptySelectionError(
            f"company {company!r}: no exported records for {', '.join(chosen)} in {date_range}"
        )
    counts = Counter(s.record.subject for s in found)
    log.info(
        "reset planned: %d records of %d employees in %s",
        len(found),
        len(counts),
        date_range,
        extra={"company": company, "records": len(found)},
    )
    return ResetPlan(
        company=company,
        date_range=date_range,
        employees=chosen,
        kinds=kind_list,
        keys=tuple(s.key for s in found),
        per_employee=tuple(sorted(counts.items())),
    )


def apply_reset(
    store: StateStore,
    plan: ResetPlan,
    *,
    acknowledge: bool = False,
    actor: str = "syncstate",
    reason: str = "reset for re-export",
    clock: Clock | None = None,
) -> ResetResult:
    """Apply ``plan`` atomically. ``acknowledge=True`` confirms :data:`RESET_WARNING`."""
    if acknowledge is not True:
        raise AcknowledgementRequired(
            f"reset of {plan.total} records of {plan.company!r} needs acknowledge=True: "
            + plan.warning
        )
    now = (clock or SystemClock()).now()
    event = Event.of(EventKind.RESET, reason)
    # a generator: the store builds its batch while its bulk path has the collector paused
    entries = store.apply(plan.company, ((key, event) for key in plan.keys), at=now, actor=actor)
    log.info(
        "reset applied: %d records back to not_exported",
        len(entries),
        extra={"company": plan.company, "records": len(entries), "actor": actor},
    )
    if log.isEnabledFor(logging.DEBUG):
        for entry in entries:
            log.debug(
                "record %s reset to generation %d (it was exported with key %s)",
                entry.key,
                entry.generation,
                entry.idempotency_key,
                extra={
                    "company": plan.company,
                    "record": str(entry.key),
                    "idempotency_key": entry.idempotency_key,
                },
            )
    return ResetResult(
        company=plan.company,
        reset=len(entries),
        per_employee=plan.per_employee,
        entries=entries,
    )
