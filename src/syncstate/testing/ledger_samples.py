"""A small repost ledger with every kind of receivables and WIP finding.

:func:`load_messy_ledger` fills any :class:`~syncstate.ports.ledger.RepostLedger`
with two companies (``acme`` and ``other``), reposts the receivables so that
balances are stored, then corrupts stored values so that a diagnose of
``acme`` reports every receivables code but ``AR-DUPLICATE-ID`` (a stored
ledger cannot hold one id twice) and every WIP code. Clients ``ACME`` and
``BETA`` and documents without a client (a deposit, a miscellaneous receipt,
a blank WIP entry) sit side by side, so a drill-down that reaches too far
changes something it should not. :func:`ledger_snapshot` reads a whole
ledger through the port, to compare before and after. :func:`load_work`
adds staff, projects and a fiscal calendar (:data:`CALENDAR`) for the staff
and project kit; :func:`then_fail` is a caller's iterable that raises
:class:`Boom` half-way through a write.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any, TypeVar

import attrs

from syncstate.domain.repost.projects import BudgetOption, Project, StaffBudget
from syncstate.domain.repost.receivables import ReceivableDocument
from syncstate.domain.repost.staff import StaffMember, StaffRate
from syncstate.domain.repost.wip import WipEntry
from syncstate.periods import FiscalCalendar, PeriodPattern
from syncstate.ports.ledger import RepostLedger, WorkLedger

__all__ = [
    "CALENDAR",
    "DAY",
    "MESSY_RECEIVABLES",
    "MESSY_WIP",
    "PROJECTS",
    "STAFF",
    "Boom",
    "ledger_snapshot",
    "load_messy_ledger",
    "load_work",
    "messy_wip",
    "then_fail",
]

_T = TypeVar("_T")
#: the period start of the samples' WIP ledgers
DAY = dt.date(2024, 3, 1)


def _doc(id: str, kind: str, client: str | None, date: str, amount: str, **kw: Any) -> Any:
    return {"id": id, "kind": kind, "client": client, "date": date, "amount": amount, **kw}


def _pay(to: str, amount: str, date: str) -> list[dict[str, str]]:
    return [{"to": to, "amount": amount, "date": date}]


#: receivables interchange: clean documents and one of each structural problem
MESSY_RECEIVABLES: dict[str, Any] = {
    "period_start": "2024-03-01",
    "documents": [
        _doc("INV-1", "invoice", "ACME", "2024-01-10", "1000.00"),
        _doc(
            "CR-1",
            "cash_receipt",
            "ACME",
            "2024-02-10",
            "600.00",
            deposit="DEP-1",
            allocations=_pay("INV-1", "600.00", "2024-02-10"),
        ),
        _doc(
            "CN-1",
            "credit_note",
            "ACME",
            "2024-02-20",
            "-400.00",
            allocations=_pay("INV-1", "400.00", "2024-02-20"),
        ),
        _doc("INV-2", "invoice", "ACME", "2024-02-05", "500.00"),
        _doc("INV-3", "invoice", "ACME", "2024-02-06", "100.00"),
        _doc(  # over-applies INV-3
            "CR-2",
            "cash_receipt",
            "ACME",
            "2024-02-07",
            "300.00",
            allocations=_pay("INV-3", "300.00", "2024-02-07"),
        ),
        _doc(  # pays a missing invoice
            "CR-3",
            "cash_receipt",
            "ACME",
            "2024-02-08",
            "50.00",
            allocations=_pay("INV-404", "50.00", "2024-02-08"),
        ),
        _doc(  # pays a deposit
            "CR-4",
            "cash_receipt",
            "ACME",
            "2024-02-08",
            "20.00",
            allocations=_pay("DEP-1", "20.00", "2024-02-08"),
        ),
        _doc(  # pays another client's invoice
            "CR-5",
            "cash_receipt",
            "ACME",
            "2024-02-09",
            "10.00",
            allocations=_pay("INV-9", "10.00", "2024-02-09"),
        ),
        _doc("CR-6", "cash_receipt", "ACME", "2024-02-11", "600.00"),
        _doc(  # reverses only part of CR-6
            "RV-1", "reversal_cash_receipt", "ACME", "2024-02-12", "-500.00", reverses="CR-6"
        ),
        _doc("INV-9", "invoice", "BETA", "2024-02-05", "80.00"),
        _doc("INV-8", "invoice", "BETA", "2024-01-05", "200.00"),
        _doc(
            "CR-8",
            "cash_receipt",
            "BETA",
            "2024-01-15",
            "200.00",
            allocations=_pay("INV-8", "200.00", "2024-01-15"),
        ),
        _doc("DEP-1", "deposit", None, "2024-02-10", "600.00"),
        _doc(  # a miscellaneous receipt filling a missing deposit
            "MR-1", "cash_receipt", None, "2024-02-13", "70.00", deposit="DEP-404"
        ),
    ],
}


def _entry(id: str, client: str | None, **kw: Any) -> dict[str, Any]:
    base = {
        "id": id,
        "type": "time",
        "client": client,
        "date": "2024-02-01",
        "work_code": "AUD",
        "quantity": "2",
        "amount": "300.00",
    }
    base.update(kw)
    return base


_BILLED_B1 = {"invoice": "B1", "billing_status": "billed", "billed_amount": "350.00"}

#: WIP interchange: stored values wrong in every way a WIP repost restores
MESSY_WIP: dict[str, Any] = {
    "period_start": "2024-03-01",
    "invoices": [{"id": "B1", "date": "2024-02-20"}, {"id": "B2", "date": "2024-03-04"}],
    "entries": [
        _entry("W1", "ACME", **_BILLED_B1),  # clear flag, date, write up/down not stored
        _entry(  # stored right, on the same invoice as W1
            "W2",
            "ACME",
            **_BILLED_B1,
            clear_flag=True,
            clear_date="2024-02-20",
            write_updown="50.00",
            write_date="2024-02-20",
        ),
        _entry("W3", "ACME", type=""),
        _entry("W4", None, type=""),
        _entry("W5", None, work_code=None, amount=None, quantity=None),
        _entry(
            "W6",
            "BETA",
            invoice="GONE",
            billing_status="billed",
            hide=True,
            write_updown="10.00",
            write_date="2024-02-02",
        ),
        _entry(
            "W8",
            "BETA",
            invoice="B2",
            billing_status="billed",
            billed_amount="300.00",
            clear_flag=True,
            clear_date="2024-03-04",
            write_updown="0.00",
            write_date="2024-03-04",
        ),
        _entry("W9", "ACME"),
    ],
}


def load_messy_ledger(ledger: RepostLedger) -> None:
    """Fill ``ledger`` with :data:`MESSY_RECEIVABLES` and :data:`MESSY_WIP` for
    ``acme`` (and a copy for ``other``), store reposted balances, then corrupt
    ``acme``'s: INV-2 outstanding, INV-1 clear date, INV-8 clear flag, CN-1
    payment type, DEP-1 GL bank amount, and INV-9's balance row removed."""
    from syncstate.services import repost as service
    from syncstate.services.repost_io import receivables_from_json

    start, docs = receivables_from_json(MESSY_RECEIVABLES, source="messy")
    for company in ("acme", "other"):
        service.import_receivables(ledger, company, docs, period_start=start)
        service.import_wip(ledger, company, MESSY_WIP, source="messy")
        service.apply_plan(ledger, service.plan_receivables_repost(ledger, company))
    _corrupt(ledger, "acme", docs)


def _corrupt(ledger: RepostLedger, company: str, docs: list[ReceivableDocument]) -> None:
    from syncstate.domain.repost.receivables import to_rows

    stored = ledger.balances(company, [d.id for d in docs])
    inv2, inv1, inv8 = stored["INV-2"], stored["INV-1"], stored["INV-8"]
    cn1, dep1 = stored["CN-1"], stored["DEP-1"]
    ledger.write_balances(
        company,
        [
            (inv2[0], inv2[1] + 1, inv2[2], inv2[3], inv2[4], inv2[5], inv2[6]),
            (inv1[0], inv1[1], (inv1[2] or 0) + 3, inv1[3], inv1[4], inv1[5], inv1[6]),
            (inv8[0], inv8[1], inv8[2], not inv8[3], inv8[4], inv8[5], inv8[6]),
            (cn1[0], cn1[1], cn1[2], cn1[3], 0 if cn1[4] != 0 else 1, cn1[5], cn1[6]),
            (dep1[0], dep1[1], dep1[2], dep1[3], dep1[4], dep1[5] + 1, dep1[6]),
        ],
    )
    rows, allocs = to_rows([d for d in docs if d.id == "INV-9"])
    ledger.load_receivables(company, rows, allocs, deletes=["INV-9"])  # its balance row goes


def ledger_snapshot(ledger: RepostLedger) -> dict[tuple[str, str, str], Any]:
    """Everything the ledger holds, read through the port:
    ``(company, table, id) -> value`` for documents, allocations, balances,
    WIP entries, invoices and period starts."""
    out: dict[tuple[str, str, str], Any] = {}
    for company in ledger.companies():
        index = ledger.index(company)
        ids = [i for c in ledger.clients(company) for i in ledger.client_documents(company, c)]
        for row in index.documents(ids):
            out[company, "document", row[0]] = row
        for alloc in index.allocations_from(ids):
            key = (company, "allocations", alloc[0])
            out[key] = (*out.get(key, ()), alloc)
        for doc_id, balance in ledger.balances(company, ids).items():
            out[company, "balance", doc_id] = balance
        entries = ledger.wip_by_client(company, ledger.wip_clients(company))
        for entry in entries:
            out[company, "wip", entry.id] = entry
        invoices = {e.invoice for e in entries if e.invoice is not None}
        for inv, day in ledger.wip_invoices(company, invoices).items():
            out[company, "invoice", inv] = day
        out[company, "period", "receivables"] = ledger.period_start(company, "receivables")
        out[company, "period", "wip"] = ledger.period_start(company, "wip")
    return out


class Boom(Exception):
    """Raised by a caller's iterable half-way through a write."""


def then_fail(items: list[_T]) -> Iterator[_T]:
    """Yield ``items``, then raise :class:`Boom`."""
    yield from items
    raise Boom("the caller's data ran out half-way")


def messy_wip() -> tuple[list[WipEntry], dict[str, dt.date]]:
    """The entries and invoice dates of :data:`MESSY_WIP`."""
    from syncstate.services.repost_io import wip_from_json

    _, entries, invoices = wip_from_json(MESSY_WIP, source="kit")
    return entries, invoices


STAFF = [
    StaffMember(
        "S1",
        (
            StaffRate(
                start=dt.date(2023, 1, 1),
                standard_hours=Decimal("160"),
                overtime_rate=Decimal("1.5"),
                cost_rate=Decimal("80.00"),
            ),
            StaffRate(
                start=dt.date(2024, 1, 1),
                standard_hours=Decimal("150"),
                overtime_rate=Decimal("1.5"),
                cost_rate=Decimal("90.00"),
            ),
        ),
    ),
    StaffMember("S2"),
]
PROJECTS = [
    Project(
        id="P1",
        option=BudgetOption.FROM_SUBPROJECTS,
        budget_hours=Decimal("1.00"),
        budget_amount=Decimal("2.00"),
    ),
    Project(
        id="P1A",
        parent="P1",
        option=BudgetOption.FROM_STAFF,
        staff_budgets=(StaffBudget("S1", Decimal("10"), Decimal("900.00")),),
    ),
    Project(id="P2", budget_hours=Decimal("5"), budget_amount=Decimal("500.00")),
]
#: July fiscal years of 4-4-5 periods
CALENDAR = FiscalCalendar(start_month=7, pattern=PeriodPattern.FOUR_FOUR_FIVE)


def load_work(ledger: WorkLedger, company: str = "acme") -> None:
    """WIP entries of staff S1 and S2 on projects P1/P1A and P2, staff, projects."""
    entries, invoices = messy_wip()
    worked = [
        attrs.evolve(e, staff="S1" if n % 2 else "S2", project="P1", subproject="P1A")
        if n < 4
        else attrs.evolve(e, staff="S1", project="P2")
        for n, e in enumerate(e for e in entries if e.type == "time" and e.client is not None)
    ]
    ledger.load_wip(company, worked, invoices, period_start=DAY)
    ledger.load_staff(company, STAFF, calendar=CALENDAR)
    ledger.load_projects(company, PROJECTS)
