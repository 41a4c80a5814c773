"""Project repost: recalculate project and subproject budgets.

* ``total_from_staff_budgets`` ("Total calculated from Staff budgets"): budget
  hours and amount = the sums of the project's staff budgets;
* ``override_from_subprojects`` ("Calculate Override from Subproj"): budget
  hours and amount = the sums of the subprojects' budgets (each subproject's
  own option applied first);
* ``none``: the stored budget stands.

Projects are two levels deep: a subproject names its project in ``parent``.
Project reposts are never run from a diagnostic drill-down.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import attrs

from syncstate.domain.repost.findings import Code, Finding, Scope
from syncstate.notebook import Tabular

__all__ = [
    "BudgetOption",
    "Project",
    "ProjectBudget",
    "ProjectsResult",
    "StaffBudget",
    "repost_projects",
]


class BudgetOption(enum.Enum):
    """Where a project's budget comes from."""

    NONE = "none"
    FROM_STAFF = "total_from_staff_budgets"
    FROM_SUBPROJECTS = "override_from_subprojects"


@attrs.frozen
class StaffBudget:
    """Hours and amount budgeted for one staff member on a project."""

    staff: str
    hours: Decimal
    amount: Decimal


@attrs.frozen(kw_only=True)
class Project:
    """A project or (with ``parent``) a subproject, with its stored budget."""

    id: str
    parent: str | None = None
    option: BudgetOption = BudgetOption.NONE
    budget_hours: Decimal = Decimal("0.00")
    budget_amount: Decimal = Decimal("0.00")
    staff_budgets: tuple[StaffBudget, ...] = ()


@attrs.frozen(kw_only=True)
class ProjectBudget:
    """A project's restored budget; ``changed`` when it differs from the stored one."""

    id: str
    budget_hours: Decimal
    budget_amount: Decimal
    changed: bool


@attrs.frozen
class ProjectsResult(Tabular):
    """Restored budgets in input order, and findings."""

    budgets: tuple[ProjectBudget, ...]
    findings: tuple[Finding, ...]

    def to_records(self) -> list[dict[str, Any]]:
        """One plain row per project: id, budget hours and amount (``Decimal``), changed."""
        return [
            {"project": b.id, **attrs.asdict(b, filter=lambda a, _v: a.name != "id")}
            for b in self.budgets
        ]

    def _html_caption(self) -> str:
        changed = sum(b.changed for b in self.budgets)
        return (
            f"project repost: {len(self.budgets)} budgets, {changed} changed, "
            f"{len(self.findings)} findings"
        )


def _own(project: Project) -> tuple[Decimal, Decimal]:
    if project.option is BudgetOption.FROM_STAFF:
        hours = sum((b.hours for b in project.staff_budgets), Decimal("0.00"))
        amount = sum((b.amount for b in project.staff_budgets), Decimal("0.00"))
        return hours, amount
    return project.budget_hours, project.budget_amount


def repost_projects(projects: Iterable[Project]) -> ProjectsResult:
    """Restore every project's and subproject's budget."""
    items = list(projects)
    by_id = {p.id: p for p in items}
    findings: list[Finding] = []
    children: dict[str, list[Project]] = {}
    for project in items:
        if project.parent is None:
            continue
        parent = by_id.get(project.parent)
        if parent is None:
            findings.append(
                Finding(
                    code=Code.PROJECT_MISSING_PARENT,
                    scope=Scope(project=project.id),
                    message=f"subproject {project.id} names missing project {project.parent}",
                )
            )
        elif parent.parent is not None:
            findings.append(
                Finding(
                    code=Code.PROJECT_NESTING,
                    scope=Scope(project=project.id),
                    message=f"subproject {project.id} is under subproject {parent.id}",
                )
            )
        else:
            children.setdefault(parent.id, []).append(project)
    budgets: list[ProjectBudget] = []
    for project in items:
        hours, amount = _own(project)
        if project.parent is None and project.option is BudgetOption.FROM_SUBPROJECTS:
            subs = [_own(child) for child in children.get(project.id, [])]
            hours = sum((h for h, _ in subs), Decimal("0.00"))
            amount = sum((a for _, a in subs), Decimal("0.00"))
        changed = (hours, amount) != (project.budget_hours, project.budget_amount)
        budgets.append(
            ProjectBudget(id=project.id, budget_hours=hours, budget_amount=amount, changed=changed)
        )
    return ProjectsResult(tuple(budgets), tuple(findings))
