"""The repost ledger port: where a host's receivables and WIP live.

:class:`RepostLedger` is everything the repost services
(:mod:`syncstate.services.repost`) read and write: a host whose receivables
and work in progress live in its own database implements it and gets
diagnose, plan, apply and drill-down. syncstate ships three implementations
(memory, SQLite, PostgreSQL) and a conformance kit,
:class:`syncstate.testing.ledger_contract.LedgerContract`, that any
implementation must pass unchanged.

Rules every implementation keeps:

* every call is scoped to one company; nothing of another company is read or
  changed;
* every method that writes is one transaction: on any error nothing of it is
  stored (``load_*``, ``write_*``);
* amounts are integer cents and dates day ordinals for receivables (the rows
  of :mod:`syncstate.domain.repost.receivables`); WIP entries are
  :class:`~syncstate.domain.repost.wip.WipEntry` values;
* lists come back sorted by id (clients sorted with ``None`` first), so plans
  are the same on every implementation.

:class:`WorkLedger` adds the stored staff and project ledgers (staff rate
tables and per-period balances, project work totals, projects and their
budgets) and the company's fiscal calendar; the staff and project services
(:mod:`syncstate.services.repost_work`) need it. The shipped ledgers implement both.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Protocol, runtime_checkable

from syncstate.domain.repost.findings import Calculator
from syncstate.domain.repost.ledger import LedgerIndex
from syncstate.domain.repost.projects import Project, ProjectBudget
from syncstate.domain.repost.receivables import AllocRow, BalanceRow, DocRow
from syncstate.domain.repost.staff import ProjectWork, StaffMember, StaffPeriod
from syncstate.domain.repost.wip import WipEntry
from syncstate.periods import FiscalCalendar

__all__ = ["RepostLedger", "WorkLedger"]


@runtime_checkable
class RepostLedger(Protocol):
    """Stored receivables, their balances and WIP entries, per company."""

    @property
    def location(self) -> str:
        """Where the ledger lives, for messages (a path, a masked DSN, ``memory``)."""
        ...

    def companies(self) -> list[str]:
        """Companies with anything stored, sorted."""
        ...

    def period_start(self, company: str, calculator: Calculator) -> dt.date | None:
        """The current period's first day for a calculator, or ``None`` when never loaded."""
        ...

    # ------------------------------------------------------------ receivables

    def load_receivables(
        self,
        company: str,
        docs: Sequence[DocRow],
        allocs: Iterable[AllocRow],
        *,
        deletes: Collection[str] = (),
        period_start: dt.date | None = None,
    ) -> int:
        """In one transaction: delete ``deletes`` (with their allocations and
        balances), insert or replace ``docs`` (each document's allocations are
        replaced as a whole), and set the period start when given.

        Returns how many documents were written.
        """
        ...

    def index(self, company: str) -> LedgerIndex:
        """The company's receivables as the look-ups a scoped repost needs."""
        ...

    def clients(self, company: str) -> list[str | None]:
        """Clients with receivable documents (``None`` for those without one)."""
        ...

    def client_documents(self, company: str, client: str | None) -> list[str]:
        """Ids of one client's documents (``None``: documents with no client)."""
        ...

    def balances(self, company: str, ids: Collection[str]) -> dict[str, BalanceRow]:
        """Stored balance rows of these documents (ids without one are left out)."""
        ...

    def write_balances(self, company: str, rows: Iterable[BalanceRow]) -> int:
        """Insert or replace balance rows in one transaction; return how many."""
        ...

    # --------------------------------------------------------------------- WIP

    def load_wip(
        self,
        company: str,
        entries: Iterable[WipEntry],
        invoices: Mapping[str, dt.date],
        *,
        period_start: dt.date | None = None,
    ) -> int:
        """Insert or replace entries and invoices (and set the period) in one
        transaction; return how many entries were written."""
        ...

    def wip_clients(self, company: str) -> list[str | None]:
        """Clients with WIP entries (``None`` for entries without one)."""
        ...

    def wip_by_client(self, company: str, clients: Collection[str | None]) -> list[WipEntry]:
        """The entries of these clients, sorted by id."""
        ...

    def wip_by_invoice(self, company: str, invoice: str) -> list[WipEntry]:
        """The entries billed on one invoice, sorted by id."""
        ...

    def wip_by_id(self, company: str, ids: Collection[str]) -> list[WipEntry]:
        """The entries with these ids (unknown ids are skipped), sorted by id."""
        ...

    def wip_invoices(self, company: str, ids: Collection[str]) -> dict[str, dt.date]:
        """Billing dates of these invoices (unknown ids are left out)."""
        ...

    def write_wip(self, company: str, updates: Iterable[WipEntry], deletes: Collection[str]) -> int:
        """Replace ``updates`` and delete ``deletes`` in one transaction; return
        the entries touched."""
        ...


@runtime_checkable
class WorkLedger(RepostLedger, Protocol):
    """A :class:`RepostLedger` that also stores staff and project ledgers."""

    def fiscal_calendar(self, company: str) -> FiscalCalendar:
        """The company's fiscal calendar (calendar months of calendar years if never set)."""
        ...

    def load_staff(
        self,
        company: str,
        members: Iterable[StaffMember],
        *,
        calendar: FiscalCalendar | None = None,
    ) -> int:
        """Insert or replace staff members with their rate tables (and set the
        calendar) in one transaction; return how many members."""
        ...

    def staff_members(self, company: str) -> list[StaffMember]:
        """Every staff member, sorted by id, rates sorted by start."""
        ...

    def staff_periods(self, company: str) -> list[StaffPeriod]:
        """Stored per-period staff balances (``period`` a
        :class:`~syncstate.periods.FiscalPeriod`), sorted by staff and period."""
        ...

    def project_work(self, company: str) -> list[ProjectWork]:
        """Stored project and subproject work totals, sorted by project, subproject."""
        ...

    def write_staff(
        self,
        company: str,
        *,
        staff: Collection[str],
        periods: Iterable[StaffPeriod],
        projects: Collection[str],
        work: Iterable[ProjectWork],
    ) -> int:
        """In one transaction: replace every stored period of the staff members
        ``staff`` with ``periods`` and every work total of ``projects`` with
        ``work``; return the rows written."""
        ...

    def load_projects(self, company: str, projects: Iterable[Project]) -> int:
        """Insert or replace projects with their staff budgets in one transaction."""
        ...

    def projects(self, company: str) -> list[Project]:
        """Every stored project and subproject, sorted by id."""
        ...

    def write_budgets(self, company: str, budgets: Iterable[ProjectBudget]) -> int:
        """Store restored budget hours and amounts in one transaction; return how many."""
        ...
