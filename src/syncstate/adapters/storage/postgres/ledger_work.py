"""Staff and project ledgers of the PostgreSQL repost ledger (the tables of
:mod:`syncstate.adapters.storage.sqlite.ledger_work`, with ``DATE`` and
``NUMERIC`` columns); :class:`PostgresWorkTables` is a mixin of
:class:`~syncstate.adapters.storage.postgres.ledger.PostgresLedgerStore`."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from typing import Any

from syncstate.adapters.storage.postgres.connections import Connection
from syncstate.adapters.storage.repost_journal_rows import (
    JOURNAL_COLUMNS,
    journal_entries,
    journal_insert,
    journal_rows,
)
from syncstate.domain.repost.journal import RepostJournalEntry
from syncstate.domain.repost.projects import BudgetOption, Project, ProjectBudget, StaffBudget
from syncstate.domain.repost.staff import ProjectWork, StaffMember, StaffPeriod, StaffRate
from syncstate.errors import EmptySelectionError
from syncstate.periods import FiscalCalendar, FiscalPeriod

__all__ = ["PostgresWorkTables"]


class PostgresWorkTables:
    """Staff and project reads and writes over the store's connections."""

    _q: str

    def _read(self, sql: str, params: Sequence[Any]) -> list[Sequence[Any]]:
        raise NotImplementedError

    def _write(self, what: str, op: Callable[[Connection], int]) -> int:
        raise NotImplementedError

    def fiscal_calendar(self, company: str) -> FiscalCalendar:
        """The company's fiscal calendar (calendar months if never set)."""
        rows = self._read(
            f"SELECT value FROM {self._q}.repost_settings WHERE company = %s"
            " AND name = 'fiscal_calendar'",
            (company,),
        )
        return FiscalCalendar.from_text(rows[0][0]) if rows else FiscalCalendar()

    def load_staff(
        self,
        company: str,
        members: Iterable[StaffMember],
        *,
        calendar: FiscalCalendar | None = None,
    ) -> int:
        """Insert or replace staff members and their whole rate tables."""
        data = list(members)
        q = self._q

        def op(conn: Connection) -> int:
            ids = [m.id for m in data]
            conn.execute(
                f"DELETE FROM {q}.staff_rates WHERE company = %s AND staff = ANY(%s)",
                (company, ids),
            )
            with conn.cursor() as cur:
                cur.executemany(
                    f"INSERT INTO {q}.staff_members (company, id) VALUES (%s, %s)"
                    " ON CONFLICT DO NOTHING",
                    [(company, i) for i in ids],
                )
                cur.executemany(
                    f"INSERT INTO {q}.staff_rates (company, staff, start_day, standard_hours,"
                    " overtime_rate, cost_rate) VALUES (%s, %s, %s, %s, %s, %s)",
                    [
                        (company, m.id, r.start, r.standard_hours, r.overtime_rate, r.cost_rate)
                        for m in data
                        for r in m.rates
                    ],
                )
            if calendar is not None:
                conn.execute(
                    f"INSERT INTO {q}.repost_settings (company, name, value)"
                    " VALUES (%s, 'fiscal_calendar', %s) ON CONFLICT (company, name)"
                    " DO UPDATE SET value = excluded.value",
                    (company, calendar.to_text()),
                )
            return len(data)

        return self._write("staff load", op)

    def staff_members(self, company: str) -> list[StaffMember]:
        """Every staff member, sorted by id, rates sorted by start."""
        ids = [
            r[0]
            for r in self._read(
                f"SELECT id FROM {self._q}.staff_members WHERE company = %s ORDER BY id",
                (company,),
            )
        ]
        rates: dict[str, list[StaffRate]] = {i: [] for i in ids}
        for staff, start, hours, overtime, cost in self._read(
            "SELECT staff, start_day, standard_hours, overtime_rate, cost_rate"
            f" FROM {self._q}.staff_rates WHERE company = %s ORDER BY staff, start_day",
            (company,),
        ):
            rates.setdefault(staff, []).append(
                StaffRate(start=start, standard_hours=hours, overtime_rate=overtime, cost_rate=cost)
            )
        return [StaffMember(i, tuple(rates[i])) for i in ids]

    def staff_periods(self, company: str) -> list[StaffPeriod]:
        """Stored staff periods, sorted by staff and period."""
        rows = self._read(
            "SELECT staff, year, number, start_day, end_day, standard_hours, overtime_rate,"
            f" cost_rate, hours_worked FROM {self._q}.staff_periods WHERE company = %s"
            " ORDER BY staff, start_day",
            (company,),
        )
        return [
            StaffPeriod(
                staff=r[0],
                period=FiscalPeriod(year=r[1], number=r[2], start=r[3], end=r[4]),
                standard_hours=r[5],
                overtime_rate=r[6],
                cost_rate=r[7],
                hours_worked=r[8],
            )
            for r in rows
        ]

    def project_work(self, company: str) -> list[ProjectWork]:
        """Stored work totals, sorted by project and subproject."""
        rows = self._read(
            "SELECT project, subproject, time_amount, expense_amount, hours"
            f" FROM {self._q}.project_work WHERE company = %s ORDER BY project, subproject",
            (company,),
        )
        return [
            ProjectWork(
                project=r[0],
                subproject=r[1] or None,
                time_amount=r[2],
                expense_amount=r[3],
                hours=r[4],
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
        q = self._q
        entries = list(journal)
        period_rows = [
            (
                company,
                p.staff,
                p.period.year,
                p.period.number if isinstance(p.period, FiscalPeriod) else p.period.month,
                p.period.start,
                p.period.end,
                p.standard_hours,
                p.overtime_rate,
                p.cost_rate,
                p.hours_worked,
            )
            for p in periods
        ]
        work_rows = [
            (company, w.project, w.subproject or "", w.time_amount, w.expense_amount, w.hours)
            for w in work
        ]

        def op(conn: Connection) -> int:
            conn.execute(
                f"DELETE FROM {q}.staff_periods WHERE company = %s AND staff = ANY(%s)",
                (company, list(staff)),
            )
            conn.execute(
                f"DELETE FROM {q}.project_work WHERE company = %s AND project = ANY(%s)",
                (company, list(projects)),
            )
            with conn.cursor() as cur:
                cur.executemany(
                    f"INSERT INTO {q}.staff_periods (company, staff, year, number, start_day,"
                    " end_day, standard_hours, overtime_rate, cost_rate, hours_worked)"
                    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    period_rows,
                )
                cur.executemany(
                    f"INSERT INTO {q}.project_work (company, project, subproject, time_amount,"
                    " expense_amount, hours) VALUES (%s, %s, %s, %s, %s, %s)",
                    work_rows,
                )
            self._journal(conn, company, entries)
            return len(period_rows) + len(work_rows)

        return self._write("staff write", op)

    def load_projects(self, company: str, projects: Iterable[Project]) -> int:
        """Insert or replace projects and their staff budgets."""
        data = list(projects)
        q = self._q

        def op(conn: Connection) -> int:
            ids = [p.id for p in data]
            for table, column in (("project_staff_budgets", "project"), ("projects", "id")):
                conn.execute(
                    f"DELETE FROM {q}.{table} WHERE company = %s AND {column} = ANY(%s)",
                    (company, ids),
                )
            with conn.cursor() as cur:
                cur.executemany(
                    f"INSERT INTO {q}.projects (company, id, parent, option, budget_hours,"
                    " budget_amount) VALUES (%s, %s, %s, %s, %s, %s)",
                    [
                        (company, p.id, p.parent, p.option.value, p.budget_hours, p.budget_amount)
                        for p in data
                    ],
                )
                cur.executemany(
                    f"INSERT INTO {q}.project_staff_budgets (company, project, seq, staff,"
                    " hours, amount) VALUES (%s, %s, %s, %s, %s, %s)",
                    [
                        (company, p.id, n, b.staff, b.hours, b.amount)
                        for p in data
                        for n, b in enumerate(p.staff_budgets)
                    ],
                )
            return len(data)

        return self._write("project load", op)

    def projects(self, company: str) -> list[Project]:
        """Every stored project, sorted by id."""
        budgets: dict[str, list[StaffBudget]] = {}
        for project, staff, hours, amount in self._read(
            f"SELECT project, staff, hours, amount FROM {self._q}.project_staff_budgets"
            " WHERE company = %s ORDER BY project, seq",
            (company,),
        ):
            budgets.setdefault(project, []).append(StaffBudget(staff, hours, amount))
        rows = self._read(
            "SELECT id, parent, option, budget_hours, budget_amount"
            f" FROM {self._q}.projects WHERE company = %s ORDER BY id",
            (company,),
        )
        return [
            Project(
                id=r[0],
                parent=r[1],
                option=BudgetOption(r[2]),
                budget_hours=r[3],
                budget_amount=r[4],
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
        data, entries = list(budgets), list(journal)

        def op(conn: Connection) -> int:
            self._journal(conn, company, entries)
            for b in data:
                done = conn.execute(
                    f"UPDATE {self._q}.projects SET budget_hours = %s, budget_amount = %s"
                    " WHERE company = %s AND id = %s",
                    (b.budget_hours, b.budget_amount, company, b.id),
                )
                if done.rowcount != 1:
                    raise EmptySelectionError(f"company {company!r} has no project {b.id!r}")
            return len(data)

        return self._write("budget write", op)

    def _journal(self, conn: Connection, company: str, entries: list[RepostJournalEntry]) -> None:
        with conn.cursor() as cur:
            cur.executemany(
                journal_insert(f"{self._q}.repost_journal", "%s"), journal_rows(company, entries)
            )

    def repost_journal(self, company: str) -> list[RepostJournalEntry]:
        """The company's staff and project repost journal, oldest first."""
        rows = self._read(
            f"SELECT {JOURNAL_COLUMNS} FROM {self._q}.repost_journal"
            " WHERE company = %s ORDER BY seq",
            (company,),
        )
        return journal_entries(company, rows)
