"""The journal of applied staff and project reposts: what changed, before and after.

An applied staff or project plan (:func:`syncstate.services.repost_work.apply_work_plan`)
writes one :class:`RepostJournalEntry` per stored value it changes, in the same
transaction as the change: the row (``target``), the field, the stored value
before and the value after (plain decimal text; ``None`` when the row did not
exist before or no longer exists after), who applied it and when. An apply that
changes nothing journals nothing. :func:`staff_changes` and :func:`budget_changes`
compute the entries from the stored rows and the plan's rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping
from decimal import Decimal
from typing import Any

import attrs

from syncstate.domain.repost.projects import Project, ProjectBudget
from syncstate.domain.repost.staff import ProjectWork, StaffPeriod
from syncstate.money import format_amount

__all__ = ["RepostJournalEntry", "budget_changes", "staff_changes"]

_PERIOD_FIELDS = ("standard_hours", "overtime_rate", "cost_rate", "hours_worked")
_WORK_FIELDS = ("time_amount", "expense_amount", "hours")
_BUDGET_FIELDS = ("budget_hours", "budget_amount")


@attrs.frozen(kw_only=True)
class RepostJournalEntry:
    """One stored value an applied staff or project repost changed.

    ``target`` names the row: ``staff S1 period 2024-P03``, ``work P1/P1A``
    (``work P2`` for a project's own total) or ``project P1``; ``before`` and
    ``after`` are plain decimal strings, ``None`` for a row that did not exist
    before or was removed.
    """

    company: str
    calculator: str
    scope: str
    target: str
    field: str
    before: str | None
    after: str | None
    actor: str
    at: dt.datetime

    def to_record(self) -> dict[str, Any]:
        """A plain row (``at`` as ISO text)."""
        return {**attrs.asdict(self), "at": self.at.isoformat()}


def _text(value: Decimal | None) -> str | None:
    return None if value is None else format_amount(value)


def _diff(
    old: Mapping[str, Any], new: Mapping[str, Any], fields: tuple[str, ...]
) -> Iterable[tuple[str, str, str | None, str | None]]:
    for key in sorted(old.keys() | new.keys()):
        for field in fields:
            before = _text(getattr(old[key], field)) if key in old else None
            after = _text(getattr(new[key], field)) if key in new else None
            if before != after or (key in old) != (key in new):
                yield key, field, before, after


def _work_key(w: ProjectWork) -> str:
    return f"work {w.project}" + (f"/{w.subproject}" if w.subproject else "")


def staff_changes(
    *,
    company: str,
    scope: str,
    stored_periods: Iterable[StaffPeriod],
    stored_work: Iterable[ProjectWork],
    staff: Collection[str],
    periods: Iterable[StaffPeriod],
    projects: Collection[str],
    work: Iterable[ProjectWork],
    actor: str,
    at: dt.datetime,
) -> list[RepostJournalEntry]:
    """The entries of a staff write that replaces ``staff``'s periods and ``projects``' work."""
    staff_ids, project_ids = set(staff), set(projects)

    def period_key(p: StaffPeriod) -> str:
        return f"staff {p.staff} period {p.period}"

    old_p = {period_key(p): p for p in stored_periods if p.staff in staff_ids}
    new_p = {period_key(p): p for p in periods}
    old_w = {_work_key(w): w for w in stored_work if w.project in project_ids}
    new_w = {_work_key(w): w for w in work}
    changes = [*_diff(old_p, new_p, _PERIOD_FIELDS), *_diff(old_w, new_w, _WORK_FIELDS)]
    return [
        RepostJournalEntry(
            company=company,
            calculator="staff",
            scope=scope,
            target=target,
            field=field,
            before=before,
            after=after,
            actor=actor,
            at=at,
        )
        for target, field, before, after in changes
    ]


def budget_changes(
    *,
    company: str,
    scope: str,
    stored: Iterable[Project],
    budgets: Iterable[ProjectBudget],
    actor: str,
    at: dt.datetime,
) -> list[RepostJournalEntry]:
    """The entries of a budget write (a budget of an unknown project is not journaled:
    the write itself refuses it)."""
    old = {f"project {p.id}": p for p in stored}
    new = {f"project {b.id}": b for b in budgets if f"project {b.id}" in old}
    kept = {k: old[k] for k in new}
    return [
        RepostJournalEntry(
            company=company,
            calculator="projects",
            scope=scope,
            target=target,
            field=field,
            before=before,
            after=after,
            actor=actor,
            at=at,
        )
        for target, field, before, after in _diff(kept, new, _BUDGET_FIELDS)
    ]
