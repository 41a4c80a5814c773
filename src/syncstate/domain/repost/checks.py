"""Stored staff and project balances against recomputed ones.

:func:`diagnose_staff` compares a staff repost's periods and project totals
with the stored ones and reports one ``STAFF-BALANCE`` finding per field that
differs (and per row that is missing or no longer produced), with the
recomputed value as ``expected`` and the stored one as ``actual``.
:func:`diagnose_projects` does the same for project budgets
(``PROJECT-BUDGET``). Staff rows are keyed by staff member and period label
(``2024-P03``), project totals by project and subproject.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal

from syncstate.domain.repost.findings import Code, Finding, Scope
from syncstate.domain.repost.projects import Project, ProjectBudget
from syncstate.domain.repost.staff import ProjectWork, StaffPeriod

__all__ = [
    "PERIOD_FIELDS",
    "WORK_FIELDS",
    "diagnose_projects",
    "diagnose_staff",
    "period_key",
    "work_key",
]

PERIOD_FIELDS = ("standard_hours", "overtime_rate", "cost_rate", "hours_worked")
WORK_FIELDS = ("time_amount", "expense_amount", "hours")


def period_key(row: StaffPeriod) -> tuple[str, str]:
    """``(staff, period label)``."""
    return row.staff, str(row.period)


def work_key(row: ProjectWork) -> tuple[str, str]:
    """``(project, subproject or "")``."""
    return row.project, row.subproject or ""


def _show(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _same(a: Decimal | None, b: Decimal | None) -> bool:
    return a == b


def diagnose_staff(
    company: str,
    stored_periods: Iterable[StaffPeriod],
    stored_work: Iterable[ProjectWork],
    periods: Iterable[StaffPeriod],
    work: Iterable[ProjectWork],
) -> list[Finding]:
    """One ``STAFF-BALANCE`` finding per stored staff value that differs."""
    findings: list[Finding] = []
    old = {period_key(r): r for r in stored_periods}
    new = {period_key(r): r for r in periods}
    for key in sorted(old.keys() | new.keys()):
        staff, label = key
        scope = Scope(company=company, staff=staff)
        before, after = old.get(key), new.get(key)
        if before is None or after is None:
            findings.append(
                Finding(
                    code=Code.STAFF_BALANCE,
                    scope=scope,
                    message=f"staff {staff} period {label} is "
                    + ("not stored" if before is None else "stored but has no WIP year"),
                    expected=None if after is None else "stored",
                    actual=None if before is None else "stored",
                )
            )
            continue
        for name in PERIOD_FIELDS:
            want, have = getattr(after, name), getattr(before, name)
            if not _same(want, have):
                findings.append(
                    Finding(
                        code=Code.STAFF_BALANCE,
                        scope=scope,
                        message=f"staff {staff} period {label}: stored {name} is wrong",
                        expected=_show(want),
                        actual=_show(have),
                    )
                )
    old_work = {work_key(r): r for r in stored_work}
    new_work = {work_key(r): r for r in work}
    for key in sorted(old_work.keys() | new_work.keys()):
        project, sub = key
        scope = Scope(company=company, project=project)
        what = f"project {project}" + (f" subproject {sub}" if sub else "")
        was, now = old_work.get(key), new_work.get(key)
        for name in WORK_FIELDS:
            want = None if now is None else getattr(now, name)
            have = None if was is None else getattr(was, name)
            if not _same(want, have):
                findings.append(
                    Finding(
                        code=Code.STAFF_BALANCE,
                        scope=scope,
                        message=f"{what}: stored {name} worked is wrong",
                        expected=_show(want),
                        actual=_show(have),
                    )
                )
    return findings


def diagnose_projects(
    company: str, stored: Iterable[Project], budgets: Iterable[ProjectBudget]
) -> list[Finding]:
    """One ``PROJECT-BUDGET`` finding per stored budget field that differs."""
    by_id: Mapping[str, Project] = {p.id: p for p in stored}
    findings: list[Finding] = []
    for budget in budgets:
        project = by_id[budget.id]
        for name in ("budget_hours", "budget_amount"):
            want, have = getattr(budget, name), getattr(project, name)
            if not _same(want, have):
                findings.append(
                    Finding(
                        code=Code.PROJECT_BUDGET,
                        scope=Scope(company=company, project=project.id),
                        message=f"project {project.id}: stored {name} is wrong",
                        expected=_show(want),
                        actual=_show(have),
                    )
                )
    return findings
