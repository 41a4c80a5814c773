"""Shared by the web panel tests of the mirror's balances and of the state history.

``BooksSource`` is a :class:`~syncstate.ports.Source` handing over one fiscal year of a
company's books with opening, closing and result balances, vouchers (one of them below
a cent) and an account whose name is HTML and script. ``EXPECTED`` is what the balances
page must show for it. ``seed_history`` gives a company records whose transitions
happen on known days.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from syncstate.domain.mirror import (
    MirrorAccount,
    MirrorBalance,
    MirrorSnapshot,
    MirrorTransaction,
    MirrorVoucher,
    MirrorYear,
)
from syncstate.domain.records import RecordKey, SourceRecord
from syncstate.domain.state import Event, EventKind
from syncstate.periods import FiscalYear
from syncstate.ports import StateStore

HOSTILE_ACCOUNT = "<img src=x onerror=alert('acct')> Suppliers & <b>co</b>"
YEAR = FiscalYear(dt.date(2023, 1, 1), dt.date(2023, 12, 31))
Y2023 = str(YEAR)

#: number -> (name, opening, movement, closing, flagged) as the page shows them
EXPECTED = {
    "1510": ("Receivables", "250.50", "500.00", "750.50", False),
    "1930": ("Bank", "1000.00", "-99.995", "900.00", True),  # the stated #UB is not explained
    "2440": (HOSTILE_ACCOUNT, "-300.00", "-0.005", "-300.005", False),
    "3001": ("Sales", "0.00", "-500.00", "-500.00", False),
    "5010": ("Rent", "0.00", "100.00", "100.00", False),
}
TOTALS = ("950.50", "0.000", "950.495")


def _voucher(number: int, day: int, *lines: tuple[str, str]) -> MirrorVoucher:
    return MirrorVoucher(
        series="A",
        number=str(number),
        date=dt.date(2023, 3, day),
        text=f"voucher {number}",
        transactions=tuple(MirrorTransaction(account=a, amount=Decimal(v)) for a, v in lines),
    )


def books(company: str) -> MirrorSnapshot:
    """The 2023 books of ``company`` (``globex`` gets names of its own)."""
    secret = company != "acme"
    accounts = (
        MirrorAccount(number="1510", name="Globex secret receivables" if secret else "Receivables"),
        MirrorAccount(number="1930", name="Bank"),
        MirrorAccount(number="2440", name=HOSTILE_ACCOUNT),
        MirrorAccount(number="3001", name="Sales"),
        MirrorAccount(number="5010", name="Rent"),
    )
    balances = (
        MirrorBalance(kind="opening", account="1510", amount=Decimal("250.50")),
        MirrorBalance(kind="opening", account="1930", amount=Decimal("1000.00")),
        # a balance of one cost centre: not the account as a whole
        MirrorBalance(
            kind="opening", account="1930", amount=Decimal("999"), objects=(("1", "S1"),)
        ),
        MirrorBalance(kind="opening", account="2440", amount=Decimal("-300.00")),
        MirrorBalance(kind="closing", account="1930", amount=Decimal("900.00")),
        MirrorBalance(kind="result", account="3001", amount=Decimal("-500.00")),
    )
    vouchers = (
        _voucher(1, 2, ("5010", "100.00"), ("1930", "-100.00")),
        _voucher(2, 3, ("1510", "500.00"), ("3001", "-500.00")),
        _voucher(3, 4, ("1930", "0.005"), ("2440", "-0.005")),
    )
    year = MirrorYear(year=YEAR, balances=balances, vouchers=vouchers)
    return MirrorSnapshot(company=company, accounts=accounts, years=(year,), source="books")


class BooksSource:
    """A :class:`~syncstate.ports.Source` of :func:`books`."""

    name = "books"

    def snapshot(self, company: str, years: Iterable[FiscalYear] | None = None) -> MirrorSnapshot:
        return books(company)


def day(n: int, hour: int = 12) -> dt.datetime:
    """A moment of March 2026 (UTC)."""
    return dt.datetime(2026, 3, n, hour, 0, tzinfo=dt.UTC)


def seed_history(store: StateStore, company: str) -> list[RecordKey]:
    """Records H-1 .. H-4 of ``company`` (record dates 1, 2, 3 and 20 March 2026):

    * H-1: exported on the 5th, source changed (outdated) on the 10th;
    * H-2: failed on the 5th, unlinked on the 8th;
    * H-3: exported on the 6th (claimed late on the 5th: in flight overnight);
    * H-4: never changed (not exported from the 20th, its own date).
    """
    rows = [
        SourceRecord(
            key=RecordKey(company, "time_entry", f"H-{n}"),
            on=dt.date(2026, 3, on),
            subject="emp-h",
            fields={"hours": "1"},
        )
        for n, on in ((1, 1), (2, 2), (3, 3), (4, 20))
    ]
    store.ingest(company, rows, at=day(1, 8), actor="host")
    h1, h2, h3, _ = (r.key for r in rows)
    claim = Event.claim(worker="w", lease_until=day(7))
    store.apply(company, [(h1, claim), (h2, claim)], at=day(5, 9), actor="w")
    store.apply(
        company,
        [(h1, Event.succeed("R-1")), (h2, Event.fail("no customer"))],
        at=day(5, 10),
        actor="w",
    )
    store.apply(company, [(h3, claim)], at=day(5, 23), actor="w")
    store.apply(company, [(h3, Event.succeed("R-3"))], at=day(6, 1), actor="w")
    store.apply(company, [(h2, Event.of(EventKind.UNLINK, "not ours"))], at=day(8), actor="ann")
    changed = [SourceRecord(key=h1, on=dt.date(2026, 3, 1), subject="emp-h", fields={"hours": "2"})]
    store.ingest(company, changed, at=day(10), actor="host")
    return [r.key for r in rows]
