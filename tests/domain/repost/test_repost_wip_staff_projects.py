"""WIP, staff and project repost rules with hand-worked numbers."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from syncstate.domain.repost.findings import Code
from syncstate.domain.repost.projects import BudgetOption, Project, StaffBudget, repost_projects
from syncstate.domain.repost.staff import StaffMember, StaffRate, repost_staff
from syncstate.domain.repost.wip import WipEntry, repost_wip
from syncstate.periods import Period

D = Decimal
PERIOD = dt.date(2024, 3, 1)
INVOICES = {"B1": dt.date(2024, 2, 20), "B2": dt.date(2024, 3, 4)}


def entry(id: str, **kw: object) -> WipEntry:
    base: dict[str, object] = {
        "type": "time",
        "client": "ACME",
        "date": dt.date(2024, 2, 1),
        "work_code": "AUD",
        "quantity": D("2.0"),
        "amount": D("300.00"),
    }
    base.update(kw)
    return WipEntry(id=id, **base)  # type: ignore[arg-type]


def test_blank_type_and_blank_entries_are_deleted_and_listed() -> None:
    result = repost_wip(
        [
            entry("W1", type=""),
            entry("W2", work_code=None, client=None, amount=None, quantity=D("0")),
            entry("W3", work_code=None, client=None, amount=None),  # has a quantity: kept
        ],
        INVOICES,
        period_start=PERIOD,
    )
    assert [(d.id, d.code) for d in result.deletions] == [
        ("W1", Code.WIP_BLANK_TYPE),
        ("W2", Code.WIP_BLANK_ENTRY),
    ]
    assert [b.id for b in result.balances] == ["W3"]


def test_billed_entry_clear_flag_date_and_write_up_down() -> None:
    result = repost_wip(
        [
            entry("W1", billing_status="billed", invoice="B1", billed_amount=D("350.00")),
            entry("W2", billing_status="billed", invoice="B2", billed_amount=D("250.00")),
            entry("W3"),
        ],
        INVOICES,
        period_start=PERIOD,
    )
    w1, w2, w3 = result.balances
    assert (w1.clear_flag, w1.clear_date, w1.write_updown) == (
        True,
        dt.date(2024, 2, 20),
        D("50.00"),
    )
    assert (w2.clear_flag, w2.clear_date, w2.write_updown) == (
        False,
        dt.date(2024, 3, 4),
        D("-50.00"),
    )
    assert (w3.clear_flag, w3.clear_date, w3.write_updown) == (False, None, None)


def test_billed_item_without_invoice_loses_its_billing_data() -> None:
    result = repost_wip(
        [
            entry(
                "W1",
                billing_status="billed",
                invoice="GONE",
                hide=True,
                write_updown=D("10.00"),
                write_date=dt.date(2024, 1, 1),
            )
        ],
        INVOICES,
        period_start=PERIOD,
    )
    (w1,) = result.balances
    assert (w1.billing_status, w1.hide, w1.write_updown, w1.write_date) == (
        "unbilled",
        False,
        None,
        None,
    )
    assert [f.code for f in result.findings] == [Code.WIP_ORPHAN_BILLED]


def test_staff_periods_cover_every_month_of_years_with_wip() -> None:
    staff = [
        StaffMember(
            "S1",
            (
                StaffRate(
                    start=dt.date(2023, 1, 1),
                    standard_hours=D("160"),
                    overtime_rate=D("1.5"),
                    cost_rate=D("40"),
                ),
                StaffRate(
                    start=dt.date(2024, 2, 15),
                    standard_hours=D("150"),
                    overtime_rate=D("1.5"),
                    cost_rate=D("45"),
                ),
            ),
        )
    ]
    entries = [
        entry("W1", staff="S1", date=dt.date(2024, 2, 3), quantity=D("2.5")),
        entry("W2", staff="S1", date=dt.date(2024, 2, 28), quantity=D("1.5")),
        entry("W3", staff="S1", type="expense", date=dt.date(2024, 2, 28), quantity=D("9")),
    ]
    result = repost_staff(staff, entries)
    assert len(result.periods) == 12
    feb = next(p for p in result.periods if p.period == Period(2024, 2))
    jan = next(p for p in result.periods if p.period == Period(2024, 1))
    assert feb.hours_worked == D("4.0")  # expenses carry no hours
    assert feb.cost_rate == D("45")  # the rate in effect at the end of February
    assert jan.cost_rate == D("40") and jan.hours_worked == D("0.00")
    assert result.findings == ()


def test_staff_without_a_rate_and_unknown_staff_are_reported() -> None:
    result = repost_staff([StaffMember("S1")], [entry("W1", staff="S1"), entry("W2", staff="S9")])
    assert {f.code for f in result.findings} == {Code.STAFF_NO_RATE, Code.STAFF_UNKNOWN}


def test_project_work_sums_time_and_expenses_per_project_and_subproject() -> None:
    entries = [
        entry("W1", project="P", subproject="P.1", amount=D("100.00"), quantity=D("1")),
        entry("W2", project="P", type="expense", amount=D("20.00"), quantity=D("5")),
        entry("W3", project="P", subproject="P.1", amount=D("50.00"), quantity=D("0.5")),
    ]
    work = {(w.project, w.subproject): w for w in repost_staff([], entries).projects}
    assert (work["P", None].time_amount, work["P", None].expense_amount, work["P", None].hours) == (
        D("150.00"),
        D("20.00"),
        D("1.5"),
    )
    assert (work["P", "P.1"].time_amount, work["P", "P.1"].hours) == (D("150.00"), D("1.5"))


def test_project_budget_from_staff_budgets_and_override_from_subprojects() -> None:
    result = repost_projects(
        [
            Project(
                id="P1",
                option=BudgetOption.FROM_STAFF,
                budget_hours=D("1"),
                staff_budgets=(
                    StaffBudget("S1", D("10"), D("1000.00")),
                    StaffBudget("S2", D("5"), D("400.00")),
                ),
            ),
            Project(id="P2", option=BudgetOption.FROM_SUBPROJECTS),
            Project(id="P2.a", parent="P2", budget_hours=D("3"), budget_amount=D("300.00")),
            Project(
                id="P2.b",
                parent="P2",
                option=BudgetOption.FROM_STAFF,
                staff_budgets=(StaffBudget("S1", D("2"), D("250.00")),),
            ),
            Project(id="P3", budget_hours=D("7"), budget_amount=D("70.00")),
        ]
    )
    budgets = {b.id: (b.budget_hours, b.budget_amount, b.changed) for b in result.budgets}
    assert budgets["P1"] == (D("15"), D("1400.00"), True)
    assert budgets["P2"] == (D("5"), D("550.00"), True)
    assert budgets["P3"] == (D("7"), D("70.00"), False)


def test_subproject_with_missing_or_nested_parent_is_reported() -> None:
    result = repost_projects(
        [
            Project(id="A"),
            Project(id="A.1", parent="A"),
            Project(id="A.1.x", parent="A.1"),
            Project(id="Z.1", parent="Z"),
        ]
    )
    assert {(f.code, f.scope.project) for f in result.findings} == {
        (Code.PROJECT_NESTING, "A.1.x"),
        (Code.PROJECT_MISSING_PARENT, "Z.1"),
    }
