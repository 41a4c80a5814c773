"""Dates, date ranges, accounting periods, fiscal years and fiscal calendars.

Ranges are inclusive at both ends, as users pick them in a date picker
("1 March to 31 March"). An inverted range is an error, never an empty result.

A :class:`FiscalCalendar` is what the host configures: the month its fiscal
year starts in and how the year is cut into twelve periods, calendar months
(``monthly``) or 4-4-5 weeks (``4-4-5``). Fiscal year *N* is the one that
starts in calendar year *N* (with a January start it is calendar year *N*).
Date arithmetic uses python-dateutil (``relativedelta`` for months,
``rrule`` for the weekly 4-4-5 boundaries).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterator

import attrs
from dateutil.relativedelta import relativedelta
from dateutil.rrule import WEEKLY, rrule

from syncstate.errors import PeriodError

__all__ = [
    "DateRange",
    "FiscalCalendar",
    "FiscalPeriod",
    "FiscalYear",
    "Period",
    "PeriodPattern",
    "parse_date",
]


def parse_date(value: str | dt.date, *, what: str = "date") -> dt.date:
    """Parse an ISO date (``YYYY-MM-DD``) or pass a ``date`` through."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value.strip())
    except (ValueError, AttributeError):
        raise PeriodError(f"{what}: {value!r} is not an ISO date (YYYY-MM-DD)") from None


@attrs.frozen
class DateRange:
    """An inclusive range of days ``start`` .. ``end``."""

    start: dt.date
    end: dt.date

    def __attrs_post_init__(self) -> None:
        if self.end < self.start:
            raise PeriodError(
                f"date range is inverted: {self.start.isoformat()} is after {self.end.isoformat()}"
            )

    @classmethod
    def parse(cls, start: str | dt.date, end: str | dt.date) -> DateRange:
        """Build a range from two ISO dates (or dates)."""
        return cls(parse_date(start, what="start"), parse_date(end, what="end"))

    def __contains__(self, day: object) -> bool:
        return isinstance(day, dt.date) and self.start <= day <= self.end

    @property
    def days(self) -> int:
        """Number of days in the range, both ends included."""
        return (self.end - self.start).days + 1

    def __str__(self) -> str:
        return f"{self.start.isoformat()}..{self.end.isoformat()}"


@attrs.frozen(order=True)
class Period:
    """A calendar month used as an accounting period."""

    year: int
    month: int = attrs.field()

    @month.validator
    def _check_month(self, _attribute: object, value: int) -> None:
        if not 1 <= value <= 12:
            raise PeriodError(f"month {value} is not between 1 and 12")

    @classmethod
    def of(cls, day: dt.date) -> Period:
        """The period that contains ``day``."""
        return cls(day.year, day.month)

    @property
    def start(self) -> dt.date:
        """First day of the period."""
        return dt.date(self.year, self.month, 1)

    @property
    def end(self) -> dt.date:
        """Last day of the period."""
        return self.next().start - dt.timedelta(days=1)

    def next(self) -> Period:
        """The following period."""
        return Period(self.year + self.month // 12, self.month % 12 + 1)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


@attrs.frozen
class FiscalYear:
    """A fiscal year: an inclusive range of days, usually twelve periods."""

    start: dt.date
    end: dt.date

    def __attrs_post_init__(self) -> None:
        if self.end < self.start:
            raise PeriodError(
                f"fiscal year is inverted: {self.start.isoformat()} is after {self.end.isoformat()}"
            )

    @property
    def range(self) -> DateRange:
        """The fiscal year as a :class:`DateRange`."""
        return DateRange(self.start, self.end)

    def periods(self) -> Iterator[Period]:
        """The calendar-month periods the fiscal year spans, in order."""
        period, last = Period.of(self.start), Period.of(self.end)
        while period <= last:
            yield period
            period = period.next()

    def __contains__(self, day: object) -> bool:
        return isinstance(day, dt.date) and self.start <= day <= self.end

    def __str__(self) -> str:
        return f"{self.start.isoformat()}..{self.end.isoformat()}"


class PeriodPattern(enum.Enum):
    """How a fiscal year is cut into its twelve periods."""

    #: twelve calendar months from the fiscal year's first day
    MONTHLY = "monthly"
    #: each quarter 4, 4 and 5 weeks from the fiscal year's first day; the
    #: twelfth period also holds the one or two days past the 52 weeks
    FOUR_FOUR_FIVE = "4-4-5"


@attrs.frozen(order=True, kw_only=True)
class FiscalPeriod:
    """Period ``number`` (1-12) of fiscal year ``year``: ``start`` .. ``end`` inclusive."""

    year: int
    number: int
    start: dt.date
    end: dt.date

    def __contains__(self, day: object) -> bool:
        return isinstance(day, dt.date) and self.start <= day <= self.end

    def __str__(self) -> str:
        return f"{self.year:04d}-P{self.number:02d}"


_WEEKS_445 = (4, 4, 5) * 4


@attrs.frozen(kw_only=True)
class FiscalCalendar:
    """The host's fiscal calendar: fiscal year start month and period pattern.

    ``FiscalCalendar()`` is calendar years of calendar months.
    """

    start_month: int = attrs.field(default=1)
    pattern: PeriodPattern = PeriodPattern.MONTHLY

    @start_month.validator
    def _check_month(self, _attribute: object, value: int) -> None:
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 12:
            raise PeriodError(f"fiscal year start month {value!r} is not between 1 and 12")

    @classmethod
    def parse(cls, start_month: int | str = 1, pattern: str = "monthly") -> FiscalCalendar:
        """A calendar from plain values (CLI options, settings); bad values raise
        :class:`~syncstate.errors.PeriodError`."""
        try:
            month = int(start_month)
        except ValueError:
            raise PeriodError(f"fiscal year start month {start_month!r} is not a number") from None
        try:
            kind = PeriodPattern(pattern)
        except ValueError:
            names = ", ".join(p.value for p in PeriodPattern)
            raise PeriodError(f"period pattern {pattern!r} is not one of {names}") from None
        return cls(start_month=month, pattern=kind)

    def year_start(self, year: int) -> dt.date:
        """The first day of fiscal year ``year``."""
        return dt.date(year, self.start_month, 1)

    def year_of(self, day: dt.date) -> int:
        """The fiscal year that contains ``day``."""
        return day.year if day.month >= self.start_month else day.year - 1

    def year_range(self, year: int) -> DateRange:
        """Fiscal year ``year`` as an inclusive range."""
        start = self.year_start(year)
        return DateRange(start, start + relativedelta(years=1, days=-1))

    def periods(self, year: int) -> tuple[FiscalPeriod, ...]:
        """The twelve periods of fiscal year ``year``, in order."""
        start = self.year_start(year)
        next_year = start + relativedelta(years=1)
        if self.pattern is PeriodPattern.MONTHLY:
            starts = [start + relativedelta(months=n) for n in range(12)]
        else:
            weeks = list(rrule(WEEKLY, dtstart=start, count=52))
            starts, week = [], 0
            for length in _WEEKS_445:
                starts.append(weeks[week].date())
                week += length
        ends = [*(s - dt.timedelta(days=1) for s in starts[1:]), next_year - dt.timedelta(days=1)]
        return tuple(
            FiscalPeriod(year=year, number=n + 1, start=a, end=b)
            for n, (a, b) in enumerate(zip(starts, ends, strict=True))
        )

    def period_of(self, day: dt.date) -> FiscalPeriod:
        """The fiscal period that contains ``day``."""
        for period in self.periods(self.year_of(day)):
            if day <= period.end:
                return period
        raise AssertionError("unreachable: the twelfth period ends the year")  # pragma: no cover

    def years_around(self, day: dt.date, *, past: int = 0, future: int = 0) -> list[int]:
        """The fiscal years from ``past`` before the one holding ``day`` to ``future`` after."""
        current = self.year_of(day)
        return list(range(current - past, current + future + 1))

    def to_text(self) -> str:
        """``"start_month=7 pattern=4-4-5"``: how a ledger stores it (:meth:`from_text`)."""
        return f"start_month={self.start_month} pattern={self.pattern.value}"

    @classmethod
    def from_text(cls, text: str) -> FiscalCalendar:
        """The calendar :meth:`to_text` wrote."""
        values = dict(part.split("=", 1) for part in text.split() if "=" in part)
        return cls.parse(values.get("start_month", "1"), values.get("pattern", "monthly"))
