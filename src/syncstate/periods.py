"""Dates, date ranges, accounting periods and fiscal years.

Ranges are inclusive at both ends, as users pick them in a date picker
("1 March to 31 March"). An inverted range is an error, never an empty result.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import attrs

from syncstate.errors import PeriodError

__all__ = ["DateRange", "FiscalYear", "Period", "parse_date"]


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
