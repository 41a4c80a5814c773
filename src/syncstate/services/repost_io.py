"""The repost interchange format: JSON in and out of the four calculators.

Decimals travel as strings, dates as ISO strings, absent values as ``null``.
The JSON Schemas in ``syncstate/schemas/`` (see :func:`schema`) describe each
document; this module reads them strictly, through the cattrs converter of
:mod:`syncstate.services.repost_wire`, and names the file, the document and
the JSON path of the field of anything malformed, e.g.
``in.json: document CR-7: field 'documents[12].amount': ...``
(:class:`~syncstate.errors.InterchangeError`).

The boundary is closed: :func:`load_json` (from
:mod:`syncstate.services.json_input`) refuses bytes that are not UTF-8
(naming line and column), nesting deeper than :data:`MAX_DEPTH`, number
literals longer than :data:`MAX_NUMBER_DIGITS`, ``NaN`` / ``Infinity`` and
unpaired surrogate escapes; the converter refuses amounts out of the range
of :mod:`syncstate.money` (15 integer digits, 2 decimals for money, 6 for
hours, quantities and rates, no exponent notation). Output amounts are plain
decimal strings (:func:`~syncstate.money.format_amount`).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from decimal import Decimal
from importlib import resources
from typing import Any

from syncstate.domain.repost.projects import (
    Project,
    ProjectsResult,
    StaffBudget,
)
from syncstate.domain.repost.receivables import (
    Allocation,
    ReceivableDocument,
    ReceivablesResult,
)
from syncstate.domain.repost.staff import StaffMember, StaffRate, StaffResult
from syncstate.domain.repost.wip import UNBILLED, WipEntry, WipResult
from syncstate.money import format_amount
from syncstate.services.json_input import (
    MAX_DEPTH,
    MAX_NUMBER_DIGITS,
    label,
    load_json,
    parse_json,
)
from syncstate.services.repost_wire import (
    LAST_DAY,
    WireEntry,
    WireProjects,
    WireReceivables,
    WireStaff,
    WireWip,
    structure,
)

__all__ = [
    "LAST_DAY",
    "MAX_DEPTH",
    "MAX_NUMBER_DIGITS",
    "SCHEMAS",
    "label",
    "load_json",
    "parse_json",
    "projects_from_json",
    "projects_to_json",
    "receivables_from_json",
    "receivables_to_json",
    "schema",
    "staff_from_json",
    "staff_to_json",
    "wip_from_json",
    "wip_to_json",
]

#: schema file names, by calculator and direction
SCHEMAS = {
    (calc, way): f"repost-{calc}-{way}.schema.json"
    for calc in ("receivables", "wip", "staff", "projects")
    for way in ("input", "output")
}


def schema(calculator: str, direction: str = "input") -> dict[str, Any]:
    """The JSON Schema shipped for a calculator's ``input`` or ``output``."""
    name = SCHEMAS[(calculator, direction)]
    text = resources.files("syncstate").joinpath("schemas", name).read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def receivables_from_json(
    data: object, *, source: str = "input"
) -> tuple[dt.date, list[ReceivableDocument]]:
    """``{"period_start", "documents"}`` as the period start and documents."""
    top = structure(data, WireReceivables, source=source)
    documents = [
        ReceivableDocument(
            id=d.id,
            kind=d.kind,
            client=d.client,
            date=d.date,
            amount=d.amount,
            allocations=tuple(Allocation(a.to, a.amount, a.date) for a in d.allocations),
            reverses=d.reverses,
            refunds=d.refunds,
            deposit=d.deposit,
        )
        for d in top.documents
    ]
    return top.period_start, documents


def receivables_to_json(result: ReceivablesResult) -> dict[str, Any]:
    """The CLI / interchange output for a receivables repost."""
    return {
        "documents": {
            b.id: {
                "outstanding": format_amount(b.outstanding),
                "clear_date": _iso(b.clear_date),
                "clear_flag": b.clear_flag,
                "payment_type": None if b.payment_type is None else b.payment_type.value,
                "gl": {
                    "bank": format_amount(b.gl.bank),
                    "receivables": format_amount(b.gl.receivables),
                },
            }
            for b in result.balances
        },
        "findings": [f.to_dict() for f in result.findings],
    }


def _iso(day: dt.date | None) -> str | None:
    return None if day is None else day.isoformat()


def _dec(value: Decimal | None) -> str | None:
    return None if value is None else format_amount(value)


# -------------------------------------------------------------------------- WIP


def _wip_entry(e: WireEntry) -> WipEntry:
    return WipEntry(
        id=e.id,
        type=e.type,
        client=e.client,
        date=e.date,
        work_code=e.work_code,
        staff=e.staff,
        project=e.project,
        subproject=e.subproject,
        quantity=e.quantity,
        amount=e.amount,
        billed_amount=e.billed_amount,
        invoice=e.invoice,
        billing_status=e.billing_status or UNBILLED,
        hide=e.hide,
        write_updown=e.write_updown,
        write_date=e.write_date,
        clear_flag=e.clear_flag,
        clear_date=e.clear_date,
    )


def wip_from_json(
    data: object, *, source: str = "input"
) -> tuple[dt.date, list[WipEntry], dict[str, dt.date]]:
    """``{"period_start", "invoices", "entries"}`` as period start, entries, invoice dates."""
    top = structure(data, WireWip, source=source)
    invoices: dict[str, dt.date] = {i.id: i.date for i in top.invoices}
    return top.period_start, [_wip_entry(e) for e in top.entries], invoices


def wip_to_json(result: WipResult) -> dict[str, Any]:
    """The interchange output for a WIP repost."""
    return {
        "entries": {
            b.id: {
                "clear_flag": b.clear_flag,
                "clear_date": _iso(b.clear_date),
                "write_updown": _dec(b.write_updown),
                "write_date": _iso(b.write_date),
                "billing_status": b.billing_status,
                "hide": b.hide,
            }
            for b in result.balances
        },
        "deleted": [
            {"id": d.id, "code": d.code.value, "reason": d.reason} for d in result.deletions
        ],
        "findings": [f.to_dict() for f in result.findings],
    }


# ------------------------------------------------------------------------ staff


def staff_from_json(
    data: object, *, source: str = "input"
) -> tuple[list[StaffMember], list[WipEntry]]:
    """``{"staff": [...], "entries": [...]}`` as staff members and WIP entries."""
    top = structure(data, WireStaff, source=source)
    members = [
        StaffMember(
            m.id,
            tuple(
                StaffRate(
                    start=r.start,
                    standard_hours=r.standard_hours,
                    overtime_rate=r.overtime_rate,
                    cost_rate=r.cost_rate,
                )
                for r in m.rates
            ),
        )
        for m in top.staff
    ]
    return members, [_wip_entry(e) for e in top.entries]


def staff_to_json(result: StaffResult) -> dict[str, Any]:
    """The interchange output for a staff repost."""
    return {
        "periods": [
            {
                "staff": p.staff,
                "period": str(p.period),
                "standard_hours": _dec(p.standard_hours),
                "overtime_rate": _dec(p.overtime_rate),
                "cost_rate": _dec(p.cost_rate),
                "hours_worked": format_amount(p.hours_worked),
            }
            for p in result.periods
        ],
        "projects": [
            {
                "project": w.project,
                "subproject": w.subproject,
                "time_amount": format_amount(w.time_amount),
                "expense_amount": format_amount(w.expense_amount),
                "hours": format_amount(w.hours),
            }
            for w in result.projects
        ],
        "findings": [f.to_dict() for f in result.findings],
    }


# --------------------------------------------------------------------- projects


def projects_from_json(data: object, *, source: str = "input") -> list[Project]:
    """``{"projects": [...]}`` as projects and subprojects."""
    top = structure(data, WireProjects, source=source)
    return [
        Project(
            id=p.id,
            parent=p.parent,
            option=p.option,
            budget_hours=p.budget_hours or Decimal("0.00"),
            budget_amount=p.budget_amount or Decimal("0.00"),
            staff_budgets=tuple(StaffBudget(b.staff, b.hours, b.amount) for b in p.staff_budgets),
        )
        for p in top.projects
    ]


def projects_to_json(result: ProjectsResult) -> dict[str, Any]:
    """The interchange output for a project repost."""
    budgets: Mapping[str, Any] = {
        b.id: {
            "budget_hours": format_amount(b.budget_hours),
            "budget_amount": format_amount(b.budget_amount),
            "changed": b.changed,
        }
        for b in result.budgets
    }
    return {"projects": budgets, "findings": [f.to_dict() for f in result.findings]}
