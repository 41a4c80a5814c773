"""Staff and project reposts over a stored :class:`~syncstate.ports.ledger.WorkLedger`.

* :func:`plan_staff_repost` recomputes staff period balances (standard hours,
  overtime and cost rates, hours worked, per period of the company's fiscal
  calendar in every fiscal year with WIP) and project work totals from the
  stored WIP entries and staff rate tables; for the whole company, one staff
  member (``staff``: their periods only) or one project (``project``: its
  and its subprojects' work totals only);
* :func:`plan_projects_repost` recomputes project budgets; for the whole
  company or one project (it and its subprojects);
* the plans carry ``STAFF-BALANCE`` / ``PROJECT-BUDGET`` findings with the
  stored and recomputed values, and :func:`apply_work_plan` writes a plan in
  one transaction, touching only the rows of its scope;
* on a :class:`~syncstate.ports.repost_journal.JournaledWorkLedger` (the
  memory, SQLite and PostgreSQL ledgers) an applied plan also journals every
  stored value it changes (:class:`~syncstate.domain.repost.journal.RepostJournalEntry`:
  row, field, before, after, actor, time) in the same transaction;
  :func:`work_journal` reads the journal back.

As the product documents say, staff and project reposts are not run from a
diagnostic drill-down: their findings name the scoped repost to run instead.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import attrs

from syncstate.domain.repost.checks import diagnose_projects, diagnose_staff
from syncstate.domain.repost.findings import Finding, Findings
from syncstate.domain.repost.journal import RepostJournalEntry, budget_changes, staff_changes
from syncstate.domain.repost.projects import Project, ProjectBudget, repost_projects
from syncstate.domain.repost.staff import ProjectWork, StaffMember, StaffPeriod, repost_staff
from syncstate.errors import EmptySelectionError, InputError
from syncstate.notebook import Tabular
from syncstate.periods import FiscalCalendar
from syncstate.ports.ledger import WorkLedger
from syncstate.ports.repost_journal import JournaledWorkLedger

__all__ = [
    "WorkPlan",
    "apply_work_plan",
    "diagnose_work",
    "import_projects",
    "import_staff",
    "plan_projects_repost",
    "plan_staff_repost",
    "work_journal",
]

log = logging.getLogger(__name__)


@attrs.frozen(kw_only=True)
class WorkPlan(Tabular):
    """A staff or project repost of one scope: the rows it writes, and findings.

    A staff plan replaces every stored period of ``staff_ids`` with
    ``periods`` and every work total of ``project_ids`` with ``work``; a
    project plan writes ``budgets``. :meth:`to_records` lists the findings.
    """

    company: str
    calculator: str
    scope: str
    findings: tuple[Finding, ...]
    periods: tuple[StaffPeriod, ...] = ()
    work: tuple[ProjectWork, ...] = ()
    staff_ids: tuple[str, ...] = ()
    project_ids: tuple[str, ...] = ()
    budgets: tuple[ProjectBudget, ...] = ()

    @property
    def is_empty(self) -> bool:
        """True when the stored values already equal the recomputed ones."""
        codes = {"STAFF-BALANCE", "PROJECT-BUDGET"}
        return not any(f.code.value in codes for f in self.findings)

    def to_records(self) -> list[dict[str, Any]]:
        """One row per finding (:meth:`Finding.to_record`)."""
        return Findings(self.findings).to_records()

    def _html_caption(self) -> str:
        return (
            f"{self.calculator} repost of {self.scope} ({self.company}): "
            f"{len(self.findings)} findings"
        )


def import_staff(
    ledger: WorkLedger,
    company: str,
    members: list[StaffMember],
    *,
    calendar: FiscalCalendar | None = None,
) -> int:
    """Store staff members with their rate tables (and the fiscal calendar) atomically."""
    return ledger.load_staff(company, members, calendar=calendar)


def import_projects(ledger: WorkLedger, company: str, projects: list[Project]) -> int:
    """Store projects with their options, budgets and staff budgets atomically."""
    return ledger.load_projects(company, projects)


def plan_staff_repost(
    ledger: WorkLedger, company: str, *, staff: str | None = None, project: str | None = None
) -> WorkPlan:
    """Plan a staff repost of the company, one staff member or one project (dry run)."""
    if staff is not None and project is not None:
        raise InputError("a staff repost takes one scope: a staff member or a project, not both")
    members = ledger.staff_members(company)
    if not members:
        raise EmptySelectionError(f"company {company!r} has no staff ledger in {ledger.location}")
    if staff is not None and staff not in {m.id for m in members}:
        raise EmptySelectionError(f"company {company!r} has no staff member {staff!r}")
    entries = ledger.wip_by_client(company, ledger.wip_clients(company))
    if staff is not None:
        entries = [e for e in entries if e.staff == staff]
        members = [m for m in members if m.id == staff]
    if project is not None:
        entries = [e for e in entries if e.project == project]
        if not entries and not any(w.project == project for w in ledger.project_work(company)):
            raise EmptySelectionError(f"company {company!r} has no work on project {project!r}")
    result = repost_staff(members, entries, calendar=ledger.fiscal_calendar(company))
    stored_periods = ledger.staff_periods(company)
    stored_work = ledger.project_work(company)
    staff_ids: tuple[str, ...]
    project_ids: tuple[str, ...]
    periods: tuple[StaffPeriod, ...]
    work: tuple[ProjectWork, ...]
    if staff is not None:
        scope, staff_ids, project_ids = f"staff {staff}", (staff,), ()
        periods, work = result.periods, ()
        stored_periods = [p for p in stored_periods if p.staff == staff]
        stored_work = []
    elif project is not None:
        scope, staff_ids, project_ids = f"project {project}", (), (project,)
        periods, work = (), result.projects
        stored_periods, stored_work = [], [w for w in stored_work if w.project == project]
    else:
        scope = "company"
        staff_ids = tuple(sorted({m.id for m in members} | {p.staff for p in stored_periods}))
        project_ids = tuple(
            sorted({w.project for w in result.projects} | {w.project for w in stored_work})
        )
        periods, work = result.periods, result.projects
    findings = [f.in_company(company) for f in result.findings]
    if project is not None:  # rates and unknown staff are not a project's business
        findings = []
    findings += diagnose_staff(company, stored_periods, stored_work, periods, work)
    log.info(
        "staff repost of %s planned: %d periods, %d work totals, %d findings",
        scope,
        len(periods),
        len(work),
        len(findings),
        extra={"company": company, "records": len(periods) + len(work)},
    )
    return WorkPlan(
        company=company,
        calculator="staff",
        scope=scope,
        findings=tuple(findings),
        periods=tuple(periods),
        work=tuple(work),
        staff_ids=staff_ids,
        project_ids=project_ids,
    )


def plan_projects_repost(
    ledger: WorkLedger, company: str, *, project: str | None = None
) -> WorkPlan:
    """Plan a project budget repost of the company or one project and its subprojects."""
    stored = ledger.projects(company)
    if not stored:
        raise EmptySelectionError(f"company {company!r} has no projects in {ledger.location}")
    result = repost_projects(stored)
    budgets = list(result.budgets)
    found = list(result.findings)
    scope = "company"
    if project is not None:
        if project not in {p.id for p in stored}:
            raise EmptySelectionError(f"company {company!r} has no project {project!r}")
        family = {project} | {p.id for p in stored if p.parent == project}
        budgets = [b for b in budgets if b.id in family]
        found = [f for f in found if f.scope.project in family]
        scope = f"project {project}"
    findings = [f.in_company(company) for f in found]
    findings += diagnose_projects(company, stored, budgets)
    return WorkPlan(
        company=company,
        calculator="projects",
        scope=scope,
        findings=tuple(findings),
        project_ids=tuple(b.id for b in budgets),
        budgets=tuple(b for b in budgets if b.changed),
    )


def apply_work_plan(
    ledger: WorkLedger,
    plan: WorkPlan,
    *,
    actor: str = "syncstate",
    at: dt.datetime | None = None,
) -> int:
    """Write a staff or project plan in one transaction; return the rows written.

    On a :class:`~syncstate.ports.repost_journal.JournaledWorkLedger` the same
    transaction stores one journal entry per changed value, naming ``actor``
    and ``at`` (now, in UTC, by default).
    """
    when = at if at is not None else dt.datetime.now(dt.UTC)
    entries: list[RepostJournalEntry] = []
    if plan.calculator == "projects":
        if isinstance(ledger, JournaledWorkLedger):
            entries = budget_changes(
                company=plan.company, scope=plan.scope, stored=ledger.projects(plan.company),
                budgets=plan.budgets, actor=actor, at=when,
            )  # fmt: skip
            written = ledger.write_budgets(plan.company, plan.budgets, journal=entries)
        else:
            written = ledger.write_budgets(plan.company, plan.budgets)
    else:
        rows: dict[str, Any] = {
            "staff": plan.staff_ids, "periods": plan.periods,
            "projects": plan.project_ids, "work": plan.work,
        }  # fmt: skip
        if isinstance(ledger, JournaledWorkLedger):
            entries = staff_changes(
                company=plan.company, scope=plan.scope, actor=actor, at=when,
                stored_periods=ledger.staff_periods(plan.company),
                stored_work=ledger.project_work(plan.company), **rows,
            )  # fmt: skip
            written = ledger.write_staff(plan.company, journal=entries, **rows)
        else:
            written = ledger.write_staff(plan.company, **rows)
    log.info(
        "%s repost of %s applied by %s: %d rows written, %d values journaled",
        plan.calculator,
        plan.scope,
        actor,
        written,
        len(entries),
        extra={"company": plan.company, "records": written},
    )
    return written


def work_journal(ledger: WorkLedger, company: str) -> list[RepostJournalEntry]:
    """The company's journal of applied staff and project reposts, oldest first
    (empty on a ledger that keeps none)."""
    if isinstance(ledger, JournaledWorkLedger):
        return ledger.repost_journal(company)
    return []


def diagnose_work(ledger: WorkLedger, company: str) -> Findings:
    """Staff and project findings of the company (empty when it stores neither)."""
    findings = Findings()
    if ledger.staff_members(company):
        findings.extend(plan_staff_repost(ledger, company).findings)
    if ledger.projects(company):
        findings.extend(plan_projects_repost(ledger, company).findings)
    return findings
