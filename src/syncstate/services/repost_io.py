"""The repost interchange format: JSON in and out of the four calculators.

Decimals travel as strings, dates as ISO strings, absent values as ``null``.
The JSON Schemas in ``syncstate/schemas/`` (see :func:`schema`) describe each
document; this module reads them strictly and names the file, the document
and the field of anything malformed (:class:`~syncstate.errors.InterchangeError`).

The boundary is closed: :func:`load_json` (from
:mod:`syncstate.services.json_input`) refuses bytes that are not UTF-8
(naming line and column), nesting deeper than :data:`MAX_DEPTH`, number
literals longer than :data:`MAX_NUMBER_DIGITS`, ``NaN`` / ``Infinity`` and
unpaired surrogate escapes; :class:`Reader` refuses amounts out of the range
of :mod:`syncstate.money` (15 integer digits, 2 decimals for money, 6 for
hours, quantities and rates, no exponent notation). Output amounts are plain
decimal strings (:func:`~syncstate.money.format_amount`).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from decimal import Decimal
from importlib import resources
from typing import Any

from syncstate.domain.repost.projects import (
    BudgetOption,
    Project,
    ProjectsResult,
    StaffBudget,
)
from syncstate.domain.repost.receivables import (
    Allocation,
    DocKind,
    ReceivableDocument,
    ReceivablesResult,
)
from syncstate.domain.repost.staff import StaffMember, StaffRate, StaffResult
from syncstate.domain.repost.wip import UNBILLED, WipEntry, WipResult
from syncstate.errors import InterchangeError, MoneyError, PeriodError
from syncstate.money import DEFAULT_PLACES, QUANTITY_PLACES, format_amount, shown, to_decimal
from syncstate.periods import parse_date
from syncstate.services.json_input import (
    MAX_DEPTH,
    MAX_NUMBER_DIGITS,
    label,
    load_json,
    parse_json,
)

__all__ = [
    "LAST_DAY",
    "MAX_DEPTH",
    "MAX_NUMBER_DIGITS",
    "SCHEMAS",
    "Reader",
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


#: the last day a document may carry: every period of a day must end within the calendar
LAST_DAY = dt.date(9998, 12, 31)
_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class Reader:
    """Typed access to one JSON object, naming source, document and field on error."""

    def __init__(
        self, data: object, *, source: str, document: str | None = None, prefix: str = ""
    ) -> None:
        source = label(source, 200)
        document = None if document is None else label(document)
        if not isinstance(data, dict):
            raise InterchangeError(
                f"expected an object, got {type(data).__name__}",
                source=source,
                document=document,
                field=prefix.rstrip(".") or None,
            )
        self.data: dict[str, Any] = data
        self.source = source
        self.document = document
        self.prefix = prefix

    def fail(self, field: str, message: str) -> InterchangeError:
        """An error about ``field``."""
        return InterchangeError(
            message, source=self.source, document=self.document, field=self.prefix + field
        )

    def text(self, field: str, *, optional: bool = False) -> str | None:
        """A string field (``None`` allowed when ``optional``)."""
        value = self.data.get(field)
        if value is None:
            if optional:
                return None
            raise self.fail(field, "is required")
        if not isinstance(value, str):
            raise self.fail(field, f"must be a string, got {shown(value)}")
        return value

    def req(self, field: str) -> str:
        """A required non-empty string field."""
        value = self.text(field)
        if not value:
            raise self.fail(field, "must not be empty")
        return value

    def decimal(
        self, field: str, *, optional: bool = False, places: int = DEFAULT_PLACES
    ) -> Decimal | None:
        """A decimal string (or integer) field in the range of :mod:`syncstate.money`.

        ``places`` is the most decimals allowed: an amount's 2 by default,
        :data:`~syncstate.money.QUANTITY_PLACES` for hours, quantities and rates.
        """
        value = self.data.get(field)
        if value is None:
            if optional:
                return None
            raise self.fail(field, "is required")
        try:
            return to_decimal(value, what=field, places=places)
        except MoneyError as exc:
            raise self.fail(field, str(exc)) from None

    def amount(self, field: str) -> Decimal:
        """A required amount of money (at most two decimals)."""
        value = self.decimal(field, optional=True)
        if value is None:
            raise self.fail(field, "is required")
        return value

    def quantity(self, field: str, *, optional: bool = False) -> Decimal | None:
        """Hours, a quantity or a rate: at most :data:`~syncstate.money.QUANTITY_PLACES`."""
        value = self.decimal(field, optional=True, places=QUANTITY_PLACES)
        if value is None and not optional:
            raise self.fail(field, "is required")
        return value

    def date(self, field: str, *, optional: bool = False) -> dt.date | None:
        """An ISO date field: ``YYYY-MM-DD``, at latest :data:`LAST_DAY`."""
        value = self.data.get(field)
        if value is None:
            if optional:
                return None
            raise self.fail(field, "is required")
        if not isinstance(value, str):
            raise self.fail(field, f"must be an ISO date string, got {shown(value)}")
        try:
            if not _ISO_DAY.fullmatch(value.strip()):
                raise PeriodError(value)
            day = parse_date(value, what=field)
        except PeriodError:
            raise self.fail(field, f"{shown(value)} is not an ISO date (YYYY-MM-DD)") from None
        if day > LAST_DAY:
            raise self.fail(field, f"{shown(value)} is after {LAST_DAY} (its period has no end)")
        return day

    def day(self, field: str) -> dt.date:
        """A required ISO date field."""
        value = self.date(field, optional=True)
        if value is None:
            raise self.fail(field, "is required")
        return value

    def flag(self, field: str, default: bool = False) -> bool:
        """A boolean field."""
        value = self.data.get(field, default)
        if not isinstance(value, bool):
            raise self.fail(field, f"must be true or false, got {shown(value)}")
        return value

    def items(self, field: str) -> list[Any]:
        """A list field (missing means empty)."""
        value = self.data.get(field, [])
        if not isinstance(value, list):
            raise self.fail(field, f"must be a list, got {type(value).__name__}")
        return value

    def child(self, value: object, document: str | None = None, prefix: str = "") -> Reader:
        """A reader for a nested object; ``prefix`` qualifies its field names."""
        return Reader(value, source=self.source, document=document or self.document, prefix=prefix)


def _doc_id(item: object, source: str, n: int, key: str = "id") -> str:
    if isinstance(item, dict) and isinstance(item.get(key), str) and item[key]:
        return str(item[key])
    raise InterchangeError(f"item {n + 1} has no {key!r}", source=source)


# ------------------------------------------------------------------ receivables


_KINDS = {kind.value: kind for kind in DocKind}


def _receivable(item: object, source: str, n: int) -> ReceivableDocument:
    reader = Reader(item, source=source, document=_doc_id(item, source, n))
    kind_name = reader.req("kind")
    if kind_name not in _KINDS:
        raise reader.fail("kind", f"{shown(kind_name)} is not one of {', '.join(_KINDS)}")
    allocations = []
    for k, raw in enumerate(reader.items("allocations")):
        sub = reader.child(raw, prefix=f"allocations[{k}].")
        allocations.append(Allocation(sub.req("to"), sub.amount("amount"), sub.day("date")))
    return ReceivableDocument(
        id=reader.req("id"),
        kind=_KINDS[kind_name],
        client=reader.text("client", optional=True),
        date=reader.day("date"),
        amount=reader.amount("amount"),
        allocations=tuple(allocations),
        reverses=reader.text("reverses", optional=True),
        refunds=reader.text("refunds", optional=True),
        deposit=reader.text("deposit", optional=True),
    )


def receivables_from_json(
    data: object, *, source: str = "input"
) -> tuple[dt.date, list[ReceivableDocument]]:
    """``{"period_start", "documents"}`` as the period start and documents."""
    top = Reader(data, source=source)
    documents = [_receivable(item, source, n) for n, item in enumerate(top.items("documents"))]
    return top.day("period_start"), documents


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


def _required(value: Decimal | None) -> Decimal:
    assert value is not None  # Reader.quantity(optional=False) raises instead
    return value


def _iso(day: dt.date | None) -> str | None:
    return None if day is None else day.isoformat()


def _dec(value: Decimal | None) -> str | None:
    return None if value is None else format_amount(value)


# -------------------------------------------------------------------------- WIP


def _wip_entry(item: object, source: str, n: int) -> WipEntry:
    reader = Reader(item, source=source, document=_doc_id(item, source, n))
    return WipEntry(
        id=reader.req("id"),
        type=reader.text("type", optional=True),
        client=reader.text("client", optional=True),
        date=reader.day("date"),
        work_code=reader.text("work_code", optional=True),
        staff=reader.text("staff", optional=True),
        project=reader.text("project", optional=True),
        subproject=reader.text("subproject", optional=True),
        quantity=reader.quantity("quantity", optional=True),
        amount=reader.decimal("amount", optional=True),
        billed_amount=reader.decimal("billed_amount", optional=True),
        invoice=reader.text("invoice", optional=True),
        billing_status=reader.text("billing_status", optional=True) or UNBILLED,
        hide=reader.flag("hide"),
        write_updown=reader.decimal("write_updown", optional=True),
        write_date=reader.date("write_date", optional=True),
        clear_flag=reader.flag("clear_flag"),
        clear_date=reader.date("clear_date", optional=True),
    )


def wip_from_json(
    data: object, *, source: str = "input"
) -> tuple[dt.date, list[WipEntry], dict[str, dt.date]]:
    """``{"period_start", "invoices", "entries"}`` as period start, entries, invoice dates."""
    top = Reader(data, source=source)
    invoices: dict[str, dt.date] = {}
    for n, item in enumerate(top.items("invoices")):
        reader = top.child(item, _doc_id(item, source, n))
        invoices[reader.req("id")] = reader.day("date")
    entries = [_wip_entry(item, source, n) for n, item in enumerate(top.items("entries"))]
    return top.day("period_start"), entries, invoices


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
    top = Reader(data, source=source)
    members = []
    for n, item in enumerate(top.items("staff")):
        reader = top.child(item, _doc_id(item, source, n))
        rates = []
        for k, raw in enumerate(reader.items("rates")):
            sub = reader.child(raw, prefix=f"rates[{k}].")
            rates.append(
                StaffRate(
                    start=sub.day("from"),
                    standard_hours=_required(sub.quantity("standard_hours")),
                    overtime_rate=_required(sub.quantity("overtime_rate")),
                    cost_rate=_required(sub.quantity("cost_rate")),
                )
            )
        members.append(StaffMember(reader.req("id"), tuple(rates)))
    entries = [_wip_entry(item, source, n) for n, item in enumerate(top.items("entries"))]
    return members, entries


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

_OPTIONS = {option.value: option for option in BudgetOption}


def projects_from_json(data: object, *, source: str = "input") -> list[Project]:
    """``{"projects": [...]}`` as projects and subprojects."""
    top = Reader(data, source=source)
    projects = []
    for n, item in enumerate(top.items("projects")):
        reader = top.child(item, _doc_id(item, source, n))
        option = reader.text("option", optional=True) or "none"
        if option not in _OPTIONS:
            raise reader.fail("option", f"{shown(option)} is not one of {', '.join(_OPTIONS)}")
        budgets = []
        for k, raw in enumerate(reader.items("staff_budgets")):
            sub = reader.child(raw, prefix=f"staff_budgets[{k}].")
            hours = _required(sub.quantity("hours"))
            budgets.append(StaffBudget(sub.req("staff"), hours, sub.amount("amount")))
        projects.append(
            Project(
                id=reader.req("id"),
                parent=reader.text("parent", optional=True),
                option=_OPTIONS[option],
                budget_hours=reader.quantity("budget_hours", optional=True) or Decimal("0.00"),
                budget_amount=reader.decimal("budget_amount", optional=True) or Decimal("0.00"),
                staff_budgets=tuple(budgets),
            )
        )
    return projects


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
