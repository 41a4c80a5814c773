"""Fiscal calendars: start month, monthly and 4-4-5 periods, and staff periods on them."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest

from syncstate.domain.repost.staff import StaffMember, StaffRate, repost_staff
from syncstate.domain.repost.wip import WipEntry
from syncstate.errors import PeriodError
from syncstate.periods import FiscalCalendar, PeriodPattern

JULY_445 = FiscalCalendar(start_month=7, pattern=PeriodPattern.FOUR_FOUR_FIVE)


@pytest.mark.parametrize("calendar", [FiscalCalendar(), FiscalCalendar(start_month=4), JULY_445])
@pytest.mark.parametrize("year", [2023, 2024, 2028])
def test_twelve_periods_cover_the_fiscal_year_without_gap_or_overlap(
    calendar: FiscalCalendar, year: int
) -> None:
    periods = calendar.periods(year)
    whole = calendar.year_range(year)
    assert [p.number for p in periods] == list(range(1, 13))
    assert periods[0].start == whole.start and periods[-1].end == whole.end
    for before, after in itertools.pairwise(periods):
        assert after.start == before.end + dt.timedelta(days=1)
    day = whole.start
    while day <= whole.end:
        assert calendar.period_of(day) in periods and day in calendar.period_of(day)
        day += dt.timedelta(days=5)


def test_a_april_fiscal_year_is_named_by_the_year_it_starts_in() -> None:
    april = FiscalCalendar(start_month=4)
    assert april.year_of(dt.date(2025, 3, 31)) == 2024
    assert april.year_of(dt.date(2025, 4, 1)) == 2025
    assert str(april.period_of(dt.date(2025, 3, 31))) == "2024-P12"
    assert april.years_around(dt.date(2025, 1, 15), past=1, future=1) == [2023, 2024, 2025]


def test_4_4_5_quarters_are_4_4_and_5_weeks_and_the_last_period_ends_the_year() -> None:
    lengths = [(p.end - p.start).days + 1 for p in JULY_445.periods(2024)]
    assert lengths[:11] == [28, 28, 35, 28, 28, 35, 28, 28, 35, 28, 28]
    assert lengths[11] == 365 - sum(lengths[:11])  # 36: the 52nd week and the day past it


@pytest.mark.parametrize(
    ("month", "pattern", "message"),
    [(0, "monthly", "between 1 and 12"), ("x", "monthly", "not a number"), (1, "4-5-4", "4-4-5")],
)
def test_bad_calendar_settings_are_one_clear_error(
    month: object, pattern: str, message: str
) -> None:
    with pytest.raises(PeriodError, match=message):
        FiscalCalendar.parse(month, pattern)  # type: ignore[arg-type]


def test_the_stored_text_form_round_trips() -> None:
    assert FiscalCalendar.from_text(JULY_445.to_text()) == JULY_445


def test_staff_periods_follow_the_fiscal_calendar() -> None:
    member = StaffMember(
        "S1",
        (
            StaffRate(
                start=dt.date(2024, 1, 1),
                standard_hours=Decimal("150"),
                overtime_rate=Decimal("1.5"),
                cost_rate=Decimal("90"),
            ),
        ),
    )
    entry = WipEntry(
        id="T1",
        type="time",
        client="C",
        date=dt.date(2024, 7, 30),  # period 2 of July fiscal year 2024 in 4-4-5
        staff="S1",
        quantity=Decimal("3"),
        amount=Decimal("270"),
    )
    result = repost_staff([member], [entry], calendar=JULY_445)
    assert [str(p.period) for p in result.periods] == [f"2024-P{n:02d}" for n in range(1, 13)]
    worked = {str(p.period): p.hours_worked for p in result.periods if p.hours_worked}
    assert worked == {"2024-P02": Decimal("3")}
    monthly = repost_staff([member], [entry])
    assert next(str(p.period) for p in monthly.periods) == "2024-01"  # calendar months
