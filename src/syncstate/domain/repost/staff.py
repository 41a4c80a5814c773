"""Staff repost: restore per-period staff balances and per-project work totals.

For every fiscal year in which a staff member has WIP (past, current or
future), each of the year's twelve periods gets the standard hours, overtime
rate and cost rate in effect (the last row of the staff member's dated rate
table starting on or before the period's last day) and the hours worked (time
entries dated in the period). Per project and per subproject, the amounts
worked (time and expense) and the hours (time) are summed; the project row
(``subproject`` ``None``) includes its subprojects.

Periods follow the host's :class:`~syncstate.periods.FiscalCalendar` when one
is given (:class:`~syncstate.periods.FiscalPeriod` values); without one they
are calendar months of calendar years (:class:`~syncstate.periods.Period`).

Staff reposts are never run from a diagnostic drill-down.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import attrs

from syncstate.domain.repost.findings import Code, Finding, Scope
from syncstate.domain.repost.wip import WipEntry
from syncstate.notebook import Tabular, records_html
from syncstate.periods import FiscalCalendar, FiscalPeriod, Period

__all__ = ["ProjectWork", "StaffMember", "StaffPeriod", "StaffRate", "StaffResult", "repost_staff"]

_ZERO = Decimal("0.00")


@attrs.frozen(kw_only=True)
class StaffRate:
    """One row of a staff member's rate table, in effect from ``start``."""

    start: dt.date
    standard_hours: Decimal
    overtime_rate: Decimal
    cost_rate: Decimal


@attrs.frozen
class StaffMember:
    """A staff member and their dated rate table."""

    id: str
    rates: tuple[StaffRate, ...] = ()

    def rate_on(self, day: dt.date) -> StaffRate | None:
        """The rate row in effect on ``day`` (the latest starting on or before it)."""
        found = None
        for rate in sorted(self.rates, key=lambda r: r.start):
            if rate.start <= day:
                found = rate
        return found


@attrs.frozen(kw_only=True)
class StaffPeriod:
    """A staff member's restored balances for one period."""

    staff: str
    period: Period | FiscalPeriod
    standard_hours: Decimal | None
    overtime_rate: Decimal | None
    cost_rate: Decimal | None
    hours_worked: Decimal


@attrs.frozen(kw_only=True)
class ProjectWork:
    """Amounts and hours worked on a project (``subproject`` None) or a subproject."""

    project: str
    subproject: str | None
    time_amount: Decimal
    expense_amount: Decimal
    hours: Decimal


@attrs.frozen
class StaffResult(Tabular):
    """Per-period staff balances, per-project totals, findings.

    :meth:`to_records` gives the periods; :meth:`project_records` the project
    totals. In Jupyter both show, one table each.
    """

    periods: tuple[StaffPeriod, ...]
    projects: tuple[ProjectWork, ...]
    findings: tuple[Finding, ...]

    def to_records(self) -> list[dict[str, Any]]:
        """One plain row per staff member and period (``period`` as ``YYYY-MM``)."""
        return [{**attrs.asdict(p), "period": str(p.period)} for p in self.periods]

    def project_records(self) -> list[dict[str, Any]]:
        """One plain row per project or subproject."""
        return [attrs.asdict(w) for w in self.projects]

    def _repr_html_(self) -> str:
        periods = records_html(
            self.to_records(),
            caption=f"staff repost: {len(self.periods)} periods, {len(self.findings)} findings",
        )
        projects = records_html(
            self.project_records(), caption=f"{len(self.projects)} project totals"
        )
        return periods + projects


def _year(year: int, calendar: FiscalCalendar | None) -> tuple[Period | FiscalPeriod, ...]:
    if calendar is None:
        return tuple(Period(year, month) for month in range(1, 13))
    return calendar.periods(year)


def _periods(
    member: StaffMember,
    years: set[int],
    hours: dict[tuple[str, Period | FiscalPeriod], Decimal],
    calendar: FiscalCalendar | None,
) -> tuple[list[StaffPeriod], Finding | None]:
    out: list[StaffPeriod] = []
    missing: list[str] = []
    for year in sorted(years):
        for period in _year(year, calendar):
            rate = member.rate_on(period.end)
            if rate is None:
                missing.append(str(period))
            out.append(
                StaffPeriod(
                    staff=member.id,
                    period=period,
                    standard_hours=None if rate is None else rate.standard_hours,
                    overtime_rate=None if rate is None else rate.overtime_rate,
                    cost_rate=None if rate is None else rate.cost_rate,
                    hours_worked=hours.get((member.id, period), _ZERO),
                )
            )
    finding = None
    if missing:
        finding = Finding(
            code=Code.STAFF_NO_RATE,
            scope=Scope(staff=member.id),
            message=f"staff {member.id} has no rate for {', '.join(missing)}",
        )
    return out, finding


def repost_staff(
    staff: Iterable[StaffMember],
    entries: Iterable[WipEntry],
    *,
    calendar: FiscalCalendar | None = None,
) -> StaffResult:
    """Restore staff period balances and project totals from WIP entries.

    ``calendar`` cuts years into periods; without it, calendar months.
    """
    members = {m.id: m for m in staff}
    years: dict[str, set[int]] = {}
    hours: dict[tuple[str, Period | FiscalPeriod], Decimal] = {}
    work: dict[tuple[str, str | None], list[Decimal]] = {}
    findings: list[Finding] = []
    for entry in entries:
        if entry.type not in ("time", "expense"):
            continue
        is_time = entry.type == "time"
        qty = (entry.quantity or _ZERO) if is_time else _ZERO
        amount = entry.amount or _ZERO
        if entry.staff is not None:
            if entry.staff not in members:
                findings.append(
                    Finding(
                        code=Code.STAFF_UNKNOWN,
                        scope=Scope(staff=entry.staff, document=entry.id),
                        message=f"WIP {entry.id} names unknown staff {entry.staff}",
                    )
                )
            else:
                period: Period | FiscalPeriod
                if calendar is None:
                    year, period = entry.date.year, Period.of(entry.date)
                else:
                    period = calendar.period_of(entry.date)
                    year = period.year
                years.setdefault(entry.staff, set()).add(year)
                key = (entry.staff, period)
                hours[key] = hours.get(key, _ZERO) + qty
        if entry.project is None:
            continue
        keys: list[tuple[str, str | None]] = [(entry.project, None)]
        if entry.subproject is not None:
            keys.append((entry.project, entry.subproject))
        for key2 in keys:
            totals = work.setdefault(key2, [_ZERO, _ZERO, _ZERO])
            totals[0 if is_time else 1] += amount
            totals[2] += qty
    periods: list[StaffPeriod] = []
    for staff_id in sorted(years):
        rows, finding = _periods(members[staff_id], years[staff_id], hours, calendar)
        periods.extend(rows)
        if finding is not None:
            findings.append(finding)
    projects = tuple(
        ProjectWork(project=p, subproject=s, time_amount=t[0], expense_amount=t[1], hours=t[2])
        for (p, s), t in sorted(work.items(), key=lambda kv: (kv[0][0], kv[0][1] or ""))
    )
    return StaffResult(tuple(periods), projects, tuple(findings))
