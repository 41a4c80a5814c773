"""Staff and project ledgers of the SQLite repost ledger.

Staff members and their rate tables (``staff_members``, ``staff_rates``), the
stored per-period staff balances (``staff_periods``: fiscal year, period
number, first and last day), project work totals (``project_work``, a
project's own row under subproject ``""``), projects with their options and
budgets (``projects``, ``project_staff_budgets``). Dates are day ordinals,
decimals exact text; the fiscal calendar is the ``fiscal_calendar`` setting.
:class:`WorkTables` is the part of
:class:`~syncstate.adapters.storage.sqlite.ledger.SQLiteLedgerStore` that
reads and writes them, every write one transaction.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
from collections.abc import Collection, Iterable, Sequence
from decimal import Decimal

from syncstate.adapters.storage.repost_journal_rows import (
    JOURNAL_COLUMNS,
    journal_entries,
    journal_insert,
    journal_rows,
)
from syncstate.adapters.storage.sqlite.ledger_schema import chunks
from syncstate.domain.repost.journal import RepostJournalEntry
from syncstate.domain.repost.projects import BudgetOption, Project, ProjectBudget, StaffBudget
from syncstate.domain.repost.staff import ProjectWork, StaffMember, StaffPeriod, StaffRate
from syncstate.errors import EmptySelectionError
from syncstate.periods import FiscalCalendar, FiscalPeriod

__all__ = ["WorkTables"]


def _dec(value: object) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _need(value: Decimal | None) -> Decimal:
    if value is None:  # pragma: no cover - NOT NULL columns
        raise ValueError("a required amount is missing")
    return value


def _day(value: int) -> dt.date:
    return dt.date.fromordinal(value)


def _journal(conn: sqlite3.Connection, company: str, entries: Sequence[RepostJournalEntry]) -> None:
    conn.executemany(
        journal_insert("repost_journal", "?"), journal_rows(company, entries, iso_at=True)
    )


class WorkTables:
    """Staff and project reads and writes (a mixin of the SQLite ledger store)."""

    def writing(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        """One write transaction (the store's)."""
        raise NotImplementedError

    def reading(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        """A read on the store's connection."""
        raise NotImplementedError

    def setting(self, company: str, name: str) -> str | None:
        """A named setting (the store's)."""
        raise NotImplementedError

    def fiscal_calendar(self, company: str) -> FiscalCalendar:
        """The company's fiscal calendar (calendar months if never set)."""
        text = self.setting(company, "fiscal_calendar")
        return FiscalCalendar() if text is None else FiscalCalendar.from_text(text)

    def load_staff(
        self,
        company: str,
        members: Iterable[StaffMember],
        *,
        calendar: FiscalCalendar | None = None,
    ) -> int:
        """Insert or replace staff members and their whole rate tables."""
        count = 0
        with self.writing() as conn:
            for member in members:
                count += 1
                conn.execute(
                    "INSERT OR REPLACE INTO staff_members (company, id) VALUES (?, ?)",
                    (company, member.id),
                )
                conn.execute(
                    "DELETE FROM staff_rates WHERE company = ? AND staff = ?", (company, member.id)
                )
                conn.executemany(
                    "INSERT OR REPLACE INTO staff_rates (company, staff, start_day,"
                    " standard_hours, overtime_rate, cost_rate) VALUES (?, ?, ?, ?, ?, ?)",
                    [
                        (
                            company,
                            member.id,
                            r.start.toordinal(),
                            str(r.standard_hours),
                            str(r.overtime_rate),
                            str(r.cost_rate),
                        )
                        for r in member.rates
                    ],
                )
            if calendar is not None:
                conn.execute(
                    "INSERT OR REPLACE INTO repost_settings (company, name, value)"
                    " VALUES (?, 'fiscal_calendar', ?)",
                    (company, calendar.to_text()),
                )
        return count

    def staff_members(self, company: str) -> list[StaffMember]:
        """Every staff member, sorted by id, rates sorted by start."""
        with self.reading() as conn:
            ids = [
                r[0]
                for r in conn.execute(
                    "SELECT id FROM staff_members WHERE company = ? ORDER BY id", (company,)
                )
            ]
            rates: dict[str, list[StaffRate]] = {i: [] for i in ids}
            for staff, start, hours, overtime, cost in conn.execute(
                "SELECT staff, start_day, standard_hours, overtime_rate, cost_rate"
                " FROM staff_rates WHERE company = ? ORDER BY staff, start_day",
                (company,),
            ):
                rates.setdefault(staff, []).append(
                    StaffRate(
                        start=_day(start),
                        standard_hours=Decimal(hours),
                        overtime_rate=Decimal(overtime),
                        cost_rate=Decimal(cost),
                    )
                )
        return [StaffMember(i, tuple(rates[i])) for i in ids]

    def staff_periods(self, company: str) -> list[StaffPeriod]:
        """Stored staff periods, sorted by staff and period."""
        with self.reading() as conn:
            rows = conn.execute(
                "SELECT staff, year, number, start_day, end_day, standard_hours, overtime_rate,"
                " cost_rate, hours_worked FROM staff_periods WHERE company = ?"
                " ORDER BY staff, start_day",
                (company,),
            ).fetchall()
        return [
            StaffPeriod(
                staff=r[0],
                period=FiscalPeriod(year=r[1], number=r[2], start=_day(r[3]), end=_day(r[4])),
                standard_hours=_dec(r[5]),
                overtime_rate=_dec(r[6]),
                cost_rate=_dec(r[7]),
                hours_worked=_need(_dec(r[8])),
            )
            for r in rows
        ]

    def project_work(self, company: str) -> list[ProjectWork]:
        """Stored work totals, sorted by project and subproject."""
        with self.reading() as conn:
            rows = conn.execute(
                "SELECT project, subproject, time_amount, expense_amount, hours FROM project_work"
                " WHERE company = ? ORDER BY project, subproject",
                (company,),
            ).fetchall()
        return [
            ProjectWork(
                project=r[0],
                subproject=r[1] or None,
                time_amount=Decimal(r[2]),
                expense_amount=Decimal(r[3]),
                hours=Decimal(r[4]),
            )
            for r in rows
        ]

    def write_staff(
        self,
        company: str,
        *,
        staff: Collection[str],
        periods: Iterable[StaffPeriod],
        projects: Collection[str],
        work: Iterable[ProjectWork],
        journal: Sequence[RepostJournalEntry] = (),
    ) -> int:
        """Replace the staff members' periods and the projects' work totals (and journal)."""
        written = 0
        with self.writing() as conn:
            _journal(conn, company, journal)
            for table, column, keys in (
                ("staff_periods", "staff", staff),
                ("project_work", "project", projects),
            ):
                for chunk in chunks(sorted(keys)):
                    marks = ",".join("?" * len(chunk))
                    conn.execute(
                        f"DELETE FROM {table} WHERE company = ? AND {column} IN ({marks})",
                        (company, *chunk),
                    )
            for p in periods:
                written += 1
                conn.execute(
                    "INSERT OR REPLACE INTO staff_periods (company, staff, year, number,"
                    " start_day, end_day, standard_hours, overtime_rate, cost_rate,"
                    " hours_worked) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        company,
                        p.staff,
                        p.period.year,
                        p.period.number if isinstance(p.period, FiscalPeriod) else p.period.month,
                        p.period.start.toordinal(),
                        p.period.end.toordinal(),
                        _text(p.standard_hours),
                        _text(p.overtime_rate),
                        _text(p.cost_rate),
                        str(p.hours_worked),
                    ),
                )
            for w in work:
                written += 1
                conn.execute(
                    "INSERT OR REPLACE INTO project_work (company, project, subproject,"
                    " time_amount, expense_amount, hours) VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        company,
                        w.project,
                        w.subproject or "",
                        str(w.time_amount),
                        str(w.expense_amount),
                        str(w.hours),
                    ),
                )
        return written

    def load_projects(self, company: str, projects: Iterable[Project]) -> int:
        """Insert or replace projects and their staff budgets."""
        count = 0
        with self.writing() as conn:
            for p in projects:
                count += 1
                conn.execute(
                    "INSERT OR REPLACE INTO projects (company, id, parent, option, budget_hours,"
                    " budget_amount) VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        company,
                        p.id,
                        p.parent,
                        p.option.value,
                        str(p.budget_hours),
                        str(p.budget_amount),
                    ),
                )
                conn.execute(
                    "DELETE FROM project_staff_budgets WHERE company = ? AND project = ?",
                    (company, p.id),
                )
                conn.executemany(
                    "INSERT INTO project_staff_budgets (company, project, seq, staff, hours,"
                    " amount) VALUES (?, ?, ?, ?, ?, ?)",
                    [
                        (company, p.id, n, b.staff, str(b.hours), str(b.amount))
                        for n, b in enumerate(p.staff_budgets)
                    ],
                )
        return count

    def projects(self, company: str) -> list[Project]:
        """Every stored project, sorted by id."""
        with self.reading() as conn:
            budgets: dict[str, list[StaffBudget]] = {}
            for project, staff, hours, amount in conn.execute(
                "SELECT project, staff, hours, amount FROM project_staff_budgets"
                " WHERE company = ? ORDER BY project, seq",
                (company,),
            ):
                budgets.setdefault(project, []).append(
                    StaffBudget(staff, Decimal(hours), Decimal(amount))
                )
            rows = conn.execute(
                "SELECT id, parent, option, budget_hours, budget_amount FROM projects"
                " WHERE company = ? ORDER BY id",
                (company,),
            ).fetchall()
        return [
            Project(
                id=r[0],
                parent=r[1],
                option=BudgetOption(r[2]),
                budget_hours=Decimal(r[3]),
                budget_amount=Decimal(r[4]),
                staff_budgets=tuple(budgets.get(r[0], ())),
            )
            for r in rows
        ]

    def write_budgets(
        self,
        company: str,
        budgets: Iterable[ProjectBudget],
        *,
        journal: Sequence[RepostJournalEntry] = (),
    ) -> int:
        """Store restored budgets (and journal); an unknown project rolls it all back."""
        count = 0
        with self.writing() as conn:
            _journal(conn, company, journal)
            for b in budgets:
                count += 1
                done = conn.execute(
                    "UPDATE projects SET budget_hours = ?, budget_amount = ?"
                    " WHERE company = ? AND id = ?",
                    (str(b.budget_hours), str(b.budget_amount), company, b.id),
                )
                if done.rowcount != 1:
                    raise EmptySelectionError(f"company {company!r} has no project {b.id!r}")
        return count

    def repost_journal(self, company: str) -> list[RepostJournalEntry]:
        """The company's staff and project repost journal, oldest first."""
        with self.reading() as conn:
            rows = conn.execute(
                f"SELECT {JOURNAL_COLUMNS} FROM repost_journal WHERE company = ? ORDER BY seq",
                (company,),
            ).fetchall()
        return journal_entries(company, rows)
