"""Drift between the mirror and a fresh source read, as pure data."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from syncstate.domain.mirror import (
    MirrorBalance,
    MirrorTransaction,
    MirrorVoucher,
    MirrorYear,
    compute_drift,
)
from syncstate.periods import FiscalYear, Period

YEAR = FiscalYear(dt.date(2024, 1, 1), dt.date(2024, 12, 31))


def _v(number: str, amount: str, month: int = 1) -> MirrorVoucher:
    return MirrorVoucher(
        series="A",
        number=number,
        date=dt.date(2024, month, 5),
        transactions=(
            MirrorTransaction(account="1930", amount=Decimal(amount)),
            MirrorTransaction(account="3010", amount=-Decimal(amount)),
        ),
    )


def test_same_books_have_no_drift() -> None:
    year = MirrorYear(year=YEAR, vouchers=(_v("1", "10"), _v("2", "5")))
    assert compute_drift(year, year).is_empty


def test_added_deleted_and_changed_vouchers_and_period_differences() -> None:
    mirror = MirrorYear(year=YEAR, vouchers=(_v("1", "10"), _v("2", "5", 2)))
    source = MirrorYear(
        year=YEAR,
        vouchers=(_v("1", "12"), _v("3", "7", 3)),
        balances=(MirrorBalance(kind="opening", account="1930", amount=Decimal("1")),),
    )
    drift = compute_drift(mirror, source)
    assert [k for k, _ in drift.added] == [("A", "3", 0)]
    assert [k for k, _ in drift.deleted] == [("A", "2", 0)]
    assert [k for k, _, _ in drift.changed] == [("A", "1", 0)]
    bank = {d.period: d.difference for d in drift.account_differences if d.account == "1930"}
    assert bank == {
        Period(2024, 1): Decimal(2),
        Period(2024, 2): Decimal(-5),
        Period(2024, 3): Decimal(7),
    }
    assert drift.balances == source.balances and drift.period_balances is None


def test_vouchers_without_numbers_are_told_apart_by_order() -> None:
    a = MirrorVoucher(series="K", number="", date=dt.date(2024, 5, 2), text="one")
    b = MirrorVoucher(series="K", number="", date=dt.date(2024, 5, 2), text="two")
    drift = compute_drift(
        MirrorYear(year=YEAR, vouchers=(a,)), MirrorYear(year=YEAR, vouchers=(a, b))
    )
    assert [k for k, _ in drift.added] == [("K", "", 1)]


def test_a_year_missing_from_the_mirror_is_new() -> None:
    drift = compute_drift(None, MirrorYear(year=YEAR, vouchers=(_v("1", "1"),)))
    assert drift.new_year and not drift.is_empty and len(drift.added) == 1
