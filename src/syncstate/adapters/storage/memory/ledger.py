"""An in-memory :class:`~syncstate.ports.ledger.WorkLedger` (tests, notebooks).

Receivables live in a :class:`~syncstate.domain.repost.ledger.MemoryLedger`
per company (so scoped reposts read only a neighbourhood, as on SQLite);
balances, WIP entries and invoices in dictionaries. A write builds its result
from rows already checked, so it cannot stop half-way; the index object a
company's :meth:`MemoryRepostLedger.index` returns stays the same across loads.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence

import attrs

from syncstate.domain.repost.findings import Calculator
from syncstate.domain.repost.journal import RepostJournalEntry
from syncstate.domain.repost.ledger import MemoryLedger
from syncstate.domain.repost.projects import Project, ProjectBudget
from syncstate.domain.repost.receivables import AllocRow, BalanceRow, DocRow
from syncstate.domain.repost.staff import ProjectWork, StaffMember, StaffPeriod
from syncstate.domain.repost.wip import WipEntry
from syncstate.errors import EmptySelectionError
from syncstate.periods import FiscalCalendar

__all__ = ["MemoryRepostLedger"]


def _client_key(client: str | None) -> tuple[bool, str]:
    return (client is not None, client or "")


@attrs.define
class _Company:
    index: MemoryLedger = attrs.field(factory=MemoryLedger)
    balances: dict[str, BalanceRow] = attrs.field(factory=dict)
    periods: dict[str, dt.date] = attrs.field(factory=dict)
    wip: dict[str, WipEntry] = attrs.field(factory=dict)
    invoices: dict[str, dt.date] = attrs.field(factory=dict)
    calendar: FiscalCalendar | None = None
    staff: dict[str, StaffMember] = attrs.field(factory=dict)
    periods_stored: dict[tuple[str, str], StaffPeriod] = attrs.field(factory=dict)
    work: dict[tuple[str, str], ProjectWork] = attrs.field(factory=dict)
    projects: dict[str, Project] = attrs.field(factory=dict)
    journal: list[RepostJournalEntry] = attrs.field(factory=list)


class MemoryRepostLedger:
    """Repost ledgers of any number of companies, held in memory."""

    def __init__(self) -> None:
        self._companies: dict[str, _Company] = {}

    def __repr__(self) -> str:
        return f"MemoryRepostLedger(companies={sorted(self._companies)!r})"

    @property
    def location(self) -> str:
        """``memory``."""
        return "memory"

    def _get(self, company: str) -> _Company:
        found = self._companies.get(company)
        return _Company() if found is None else found

    def companies(self) -> list[str]:
        """Companies with anything stored, sorted."""
        return sorted(self._companies)

    def period_start(self, company: str, calculator: Calculator) -> dt.date | None:
        """The stored period start of a calculator, or ``None``."""
        return self._get(company).periods.get(calculator)

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
        """Delete, replace and set the period as one change."""
        mine: dict[str, list[AllocRow]] = {row[0]: [] for row in docs}
        for alloc in allocs:
            mine.setdefault(alloc[0], []).append(alloc)
        target = self._companies.setdefault(company, _Company())
        target.index.apply([(row, mine[row[0]]) for row in docs], deletes)
        for doc_id in deletes:
            target.balances.pop(doc_id, None)
        if period_start is not None:
            target.periods["receivables"] = period_start
        return len(docs)

    def index(self, company: str) -> MemoryLedger:
        """The company's receivables index (live: it sees later loads)."""
        return self._companies.setdefault(company, _Company()).index

    def clients(self, company: str) -> list[str | None]:
        """Clients with receivable documents, ``None`` first."""
        found = {row[2] for row in self._get(company).index.all_documents()}
        return sorted(found, key=_client_key)

    def client_documents(self, company: str, client: str | None) -> list[str]:
        """Ids of one client's documents, sorted."""
        return sorted(self._get(company).index.client_documents(client))

    def balances(self, company: str, ids: Collection[str]) -> dict[str, BalanceRow]:
        """Stored balance rows of these documents."""
        stored = self._get(company).balances
        return {i: stored[i] for i in ids if i in stored}

    def write_balances(self, company: str, rows: Iterable[BalanceRow]) -> int:
        """Insert or replace balance rows."""
        data = list(rows)
        self._companies.setdefault(company, _Company()).balances.update((r[0], r) for r in data)
        return len(data)

    # --------------------------------------------------------------------- WIP

    def load_wip(
        self,
        company: str,
        entries: Iterable[WipEntry],
        invoices: Mapping[str, dt.date],
        *,
        period_start: dt.date | None = None,
    ) -> int:
        """Insert or replace entries and invoices, and set the period."""
        data = list(entries)
        target = self._companies.setdefault(company, _Company())
        target.wip.update((e.id, e) for e in data)
        target.invoices.update(invoices)
        if period_start is not None:
            target.periods["wip"] = period_start
        return len(data)

    def wip_clients(self, company: str) -> list[str | None]:
        """Clients with WIP entries, ``None`` first."""
        return sorted({e.client for e in self._get(company).wip.values()}, key=_client_key)

    def _wip(self, company: str, keep: Callable[[WipEntry], bool]) -> list[WipEntry]:
        wip = self._get(company).wip
        return [wip[i] for i in sorted(wip) if keep(wip[i])]

    def wip_by_client(self, company: str, clients: Collection[str | None]) -> list[WipEntry]:
        """The entries of these clients, sorted by id."""
        wanted = set(clients)
        return self._wip(company, lambda e: e.client in wanted)

    def wip_by_invoice(self, company: str, invoice: str) -> list[WipEntry]:
        """The entries billed on one invoice, sorted by id."""
        return self._wip(company, lambda e: e.invoice == invoice)

    def wip_by_id(self, company: str, ids: Collection[str]) -> list[WipEntry]:
        """The entries with these ids, sorted by id."""
        wip = self._get(company).wip
        return [wip[i] for i in sorted(set(ids)) if i in wip]

    def wip_invoices(self, company: str, ids: Collection[str]) -> dict[str, dt.date]:
        """Billing dates of these invoices."""
        known = self._get(company).invoices
        return {i: known[i] for i in ids if i in known}

    def write_wip(self, company: str, updates: Iterable[WipEntry], deletes: Collection[str]) -> int:
        """Replace ``updates`` and delete ``deletes`` as one change."""
        data = list(updates)
        target = self._companies.setdefault(company, _Company())
        for doc_id in deletes:
            target.wip.pop(doc_id, None)
        target.wip.update((e.id, e) for e in data)
        return len(data) + len(deletes)

    # ------------------------------------------------------- staff and projects

    def fiscal_calendar(self, company: str) -> FiscalCalendar:
        """The company's fiscal calendar."""
        return self._get(company).calendar or FiscalCalendar()

    def load_staff(
        self,
        company: str,
        members: Iterable[StaffMember],
        *,
        calendar: FiscalCalendar | None = None,
    ) -> int:
        """Insert or replace staff members (and set the calendar)."""
        data = list(members)
        target = self._companies.setdefault(company, _Company())
        target.staff.update((m.id, m) for m in data)
        if calendar is not None:
            target.calendar = calendar
        return len(data)

    def staff_members(self, company: str) -> list[StaffMember]:
        """Every staff member, sorted by id, rates sorted by start."""
        staff = self._get(company).staff
        return [
            attrs.evolve(staff[i], rates=tuple(sorted(staff[i].rates, key=lambda r: r.start)))
            for i in sorted(staff)
        ]

    def staff_periods(self, company: str) -> list[StaffPeriod]:
        """Stored staff periods, sorted by staff and period."""
        rows = self._get(company).periods_stored
        return [rows[k] for k in sorted(rows, key=lambda k: (k[0], rows[k].period.start))]

    def project_work(self, company: str) -> list[ProjectWork]:
        """Stored work totals, sorted by project and subproject."""
        work = self._get(company).work
        return [work[k] for k in sorted(work)]

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
        new_periods, new_work, entries = list(periods), list(work), list(journal)
        target = self._companies.setdefault(company, _Company())
        gone, dropped = set(staff), set(projects)
        target.periods_stored = {k: v for k, v in target.periods_stored.items() if k[0] not in gone}
        target.periods_stored.update(((p.staff, str(p.period)), p) for p in new_periods)
        target.work = {k: v for k, v in target.work.items() if k[0] not in dropped}
        target.work.update(((w.project, w.subproject or ""), w) for w in new_work)
        target.journal.extend(entries)
        return len(new_periods) + len(new_work)

    def load_projects(self, company: str, projects: Iterable[Project]) -> int:
        """Insert or replace projects."""
        data = list(projects)
        self._companies.setdefault(company, _Company()).projects.update((p.id, p) for p in data)
        return len(data)

    def projects(self, company: str) -> list[Project]:
        """Every stored project, sorted by id."""
        stored = self._get(company).projects
        return [stored[i] for i in sorted(stored)]

    def write_budgets(
        self,
        company: str,
        budgets: Iterable[ProjectBudget],
        *,
        journal: Sequence[RepostJournalEntry] = (),
    ) -> int:
        """Store restored budgets (and their journal entries)."""
        data, entries = list(budgets), list(journal)
        target = self._companies.setdefault(company, _Company())
        missing = [b.id for b in data if b.id not in target.projects]
        if missing:
            raise EmptySelectionError(f"company {company!r} has no project {missing[0]!r}")
        for b in data:
            target.projects[b.id] = attrs.evolve(
                target.projects[b.id], budget_hours=b.budget_hours, budget_amount=b.budget_amount
            )
        target.journal.extend(entries)
        return len(data)

    def repost_journal(self, company: str) -> list[RepostJournalEntry]:
        """The company's staff and project repost journal, oldest first."""
        return list(self._get(company).journal)
