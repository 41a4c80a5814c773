"""The inbound mirror: a company's bookkeeping as read from its accounting system.

Pure data: chart of accounts, fiscal years with their opening, closing and
result balances, period balances, and vouchers with their transactions. A
:class:`MirrorSnapshot` is what a :class:`~syncstate.ports.Source` hands over;
a :class:`MirrorYear` is one fiscal year of it.

:func:`compute_drift` compares the mirror of a year with a fresh read of the
source and returns, as data, the vouchers added, deleted and changed at the
source and the differences per account and period. Applying only those changes
is what makes a full clear rarely necessary.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import attrs

from syncstate.notebook import Tabular
from syncstate.periods import FiscalYear, Period

__all__ = [
    "AccountDifference",
    "LoadedYear",
    "MirrorAccount",
    "MirrorBalance",
    "MirrorPeriodBalance",
    "MirrorSnapshot",
    "MirrorTransaction",
    "MirrorVoucher",
    "MirrorYear",
    "VoucherKey",
    "YearDrift",
    "compute_drift",
    "keyed_vouchers",
]

#: a voucher's identity within a fiscal year: (series, number, ordinal among equal keys)
VoucherKey = tuple[str, str, int]
ObjectRefs = tuple[tuple[str, str], ...]


@attrs.frozen(kw_only=True)
class MirrorAccount:
    """An account of the company's chart."""

    number: str
    name: str = ""
    type: str = ""


@attrs.frozen(kw_only=True)
class MirrorTransaction:
    """One line of a voucher: an amount on an account (and objects)."""

    account: str
    amount: Decimal
    objects: ObjectRefs = ()
    date: dt.date | None = None
    text: str = ""


@attrs.frozen(kw_only=True)
class MirrorVoucher:
    """A voucher as booked at the source."""

    series: str
    number: str
    date: dt.date
    text: str = ""
    transactions: tuple[MirrorTransaction, ...] = ()

    @property
    def label(self) -> str:
        """``series number`` for messages."""
        return f"{self.series} {self.number}".strip() or "(no number)"


@attrs.frozen(kw_only=True)
class MirrorBalance:
    """An ``opening``, ``closing`` or ``result`` balance of an account for the year."""

    kind: str
    account: str
    amount: Decimal
    objects: ObjectRefs = ()


@attrs.frozen(kw_only=True)
class MirrorPeriodBalance:
    """The movement of an account in one month (``budget`` for the source's budget)."""

    period: Period
    account: str
    amount: Decimal
    objects: ObjectRefs = ()
    budget: bool = False


@attrs.frozen(kw_only=True)
class MirrorYear:
    """One fiscal year of a company's books."""

    year: FiscalYear
    balances: tuple[MirrorBalance, ...] = ()
    period_balances: tuple[MirrorPeriodBalance, ...] = ()
    vouchers: tuple[MirrorVoucher, ...] = ()

    @property
    def transaction_count(self) -> int:
        """Number of transactions over all vouchers."""
        return sum(len(v.transactions) for v in self.vouchers)

    def counts(self) -> dict[str, int]:
        """How many rows of each kind the year holds."""
        return {
            "vouchers": len(self.vouchers),
            "transactions": self.transaction_count,
            "balances": len(self.balances),
            "period_balances": len(self.period_balances),
        }


@attrs.frozen(kw_only=True)
class MirrorSnapshot:
    """What a source holds for one company: the chart and some fiscal years."""

    company: str
    accounts: tuple[MirrorAccount, ...] = ()
    years: tuple[MirrorYear, ...] = ()
    source: str = ""

    def year(self, year: FiscalYear) -> MirrorYear | None:
        """The given fiscal year, if the snapshot holds it."""
        for item in self.years:
            if item.year == year:
                return item
        return None


@attrs.frozen(kw_only=True)
class LoadedYear:
    """A fiscal year live in the mirror: when and from where it was loaded."""

    year: FiscalYear
    generation: int
    loaded_at: dt.datetime
    source: str
    vouchers: int = 0
    transactions: int = 0


def keyed_vouchers(vouchers: Iterable[MirrorVoucher]) -> dict[VoucherKey, MirrorVoucher]:
    """Vouchers by ``(series, number, ordinal)``: equal numbers (or none) stay distinct."""
    seen: dict[tuple[str, str], int] = defaultdict(int)
    out: dict[VoucherKey, MirrorVoucher] = {}
    for voucher in vouchers:
        pair = (voucher.series, voucher.number)
        out[(*pair, seen[pair])] = voucher
        seen[pair] += 1
    return out


@attrs.frozen(kw_only=True)
class AccountDifference:
    """How an account's movement in a period differs between mirror and source."""

    account: str
    period: Period
    mirror: Decimal
    source: Decimal

    @property
    def difference(self) -> Decimal:
        """Source minus mirror: what applying the drift adds to the mirror."""
        return self.source - self.mirror


@attrs.frozen(kw_only=True)
class YearDrift(Tabular):
    """What changed at the source in one fiscal year since the mirror was loaded.

    ``balances`` and ``period_balances`` are the source's, set only when they
    differ from the mirror's (None means unchanged). Its rows
    (:meth:`to_records`) are the account differences; the caption of its
    Jupyter table counts the vouchers added, deleted and changed.
    """

    year: FiscalYear
    added: tuple[tuple[VoucherKey, MirrorVoucher], ...] = ()
    deleted: tuple[tuple[VoucherKey, MirrorVoucher], ...] = ()
    changed: tuple[tuple[VoucherKey, MirrorVoucher, MirrorVoucher], ...] = ()
    account_differences: tuple[AccountDifference, ...] = ()
    balances: tuple[MirrorBalance, ...] | None = None
    period_balances: tuple[MirrorPeriodBalance, ...] | None = None
    #: the year is not in the mirror at all: applying loads it whole
    new_year: bool = False

    @property
    def is_empty(self) -> bool:
        """True when mirror and source agree."""
        return not (
            self.added
            or self.deleted
            or self.changed
            or self.account_differences
            or self.balances is not None
            or self.period_balances is not None
            or self.new_year
        )

    def summary(self) -> dict[str, object]:
        """Counts for reports and JSON."""
        return {
            "year": str(self.year),
            "new_year": self.new_year,
            "vouchers_added": [k[:2] for k, _ in self.added],
            "vouchers_deleted": [k[:2] for k, _ in self.deleted],
            "vouchers_changed": [k[:2] for k, _, _ in self.changed],
            "account_differences": [
                {
                    "account": d.account,
                    "period": str(d.period),
                    "mirror": d.mirror,
                    "source": d.source,
                    "difference": d.difference,
                }
                for d in self.account_differences
            ],
            "balances_changed": self.balances is not None,
            "period_balances_changed": self.period_balances is not None,
        }

    def to_records(self) -> list[dict[str, Any]]:
        """One plain row per account and period whose movement differs (``Decimal`` amounts)."""
        return [
            {
                "account": d.account,
                "period": str(d.period),
                "mirror": d.mirror,
                "source": d.source,
                "difference": d.difference,
            }
            for d in self.account_differences
        ]

    def _html_caption(self) -> str:
        if self.new_year:
            return f"{self.year}: not in the mirror yet (applying loads it whole)"
        if self.is_empty:
            return f"{self.year}: mirror and source agree"
        parts = [
            f"{len(self.added)} vouchers added",
            f"{len(self.deleted)} deleted",
            f"{len(self.changed)} changed",
        ]
        if self.balances is not None:
            parts.append("balances changed")
        if self.period_balances is not None:
            parts.append("period balances changed")
        return f"{self.year}: " + ", ".join(parts)


def _movements(vouchers: Iterable[MirrorVoucher]) -> dict[tuple[str, Period], Decimal]:
    totals: dict[tuple[str, Period], Decimal] = defaultdict(Decimal)
    for voucher in vouchers:
        period = Period.of(voucher.date)
        for line in voucher.transactions:
            totals[(line.account, period)] += line.amount
    return totals


def compute_drift(mirror: MirrorYear | None, source: MirrorYear) -> YearDrift:
    """Compare the mirrored year with a fresh read of the same year at the source."""
    if mirror is None:
        return YearDrift(
            year=source.year,
            added=tuple(keyed_vouchers(source.vouchers).items()),
            account_differences=_differences({}, _movements(source.vouchers)),
            balances=source.balances,
            period_balances=source.period_balances,
            new_year=True,
        )
    old = keyed_vouchers(mirror.vouchers)
    new = keyed_vouchers(source.vouchers)
    added = tuple((k, v) for k, v in new.items() if k not in old)
    deleted = tuple((k, v) for k, v in old.items() if k not in new)
    changed = tuple((k, old[k], v) for k, v in new.items() if k in old and old[k] != v)
    same_balances = sorted(mirror.balances, key=_balance_key) == sorted(
        source.balances, key=_balance_key
    )
    same_periods = sorted(mirror.period_balances, key=_period_key) == sorted(
        source.period_balances, key=_period_key
    )
    return YearDrift(
        year=source.year,
        added=added,
        deleted=deleted,
        changed=changed,
        account_differences=_differences(_movements(mirror.vouchers), _movements(source.vouchers)),
        balances=None if same_balances else source.balances,
        period_balances=None if same_periods else source.period_balances,
    )


def _differences(
    mirror: dict[tuple[str, Period], Decimal], source: dict[tuple[str, Period], Decimal]
) -> tuple[AccountDifference, ...]:
    zero = Decimal(0)
    out = []
    for account, period in sorted(set(mirror) | set(source)):
        before = mirror.get((account, period), zero)
        after = source.get((account, period), zero)
        if before != after:
            out.append(
                AccountDifference(account=account, period=period, mirror=before, source=after)
            )
    return tuple(out)


def _balance_key(b: MirrorBalance) -> tuple[str, str, ObjectRefs, Decimal]:
    return (b.kind, b.account, b.objects, b.amount)


def _period_key(p: MirrorPeriodBalance) -> tuple[bool, Period, str, ObjectRefs, Decimal]:
    return (p.budget, p.period, p.account, p.objects, p.amount)
