"""The content of an SIE file as plain immutable data.

:func:`syncstate.adapters.backends.sie_parser.parse_sie` produces a
:class:`SieDocument`; :func:`syncstate.adapters.backends.sie_writer.write_sie`
turns one back into bytes. Equality ignores line numbers, so a document read,
written and read again compares equal to the first read.

Transaction rows (:class:`SieTrans`) are named tuples, not attrs classes: a
file may hold millions of them and the parser builds them on its hot path.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import NamedTuple

import attrs

__all__ = [
    "ObjectRef",
    "SieAccount",
    "SieBalance",
    "SieDimension",
    "SieDocument",
    "SieFiscalYear",
    "SieObject",
    "SiePeriodBalance",
    "SieProblem",
    "SieTrans",
    "SieUnknown",
    "SieVoucher",
]

#: one object reference in an object list: ``(dimension, object code)``
ObjectRef = tuple[str, str]


class SieTrans(NamedTuple):
    """One row of a voucher: ``#TRANS``, ``#RTRANS`` (added) or ``#BTRANS`` (removed)."""

    kind: str
    account: str
    objects: tuple[ObjectRef, ...]
    amount: Decimal
    date: dt.date | None = None
    text: str = ""
    quantity: Decimal | None = None
    sign: str = ""


@attrs.frozen(kw_only=True)
class SieVoucher:
    """A voucher (``#VER``) and its rows. ``line`` is where it starts in the file."""

    series: str
    number: str
    date: dt.date
    text: str = ""
    reg_date: dt.date | None = None
    sign: str = ""
    rows: tuple[SieTrans, ...] = ()
    line: int = attrs.field(default=0, eq=False)

    @property
    def transactions(self) -> tuple[SieTrans, ...]:
        """The ``#TRANS`` rows (the ones that count in the books)."""
        return tuple(r for r in self.rows if r.kind == "TRANS")

    @property
    def total(self) -> Decimal:
        """Sum of the ``#TRANS`` amounts; zero when the voucher balances."""
        return sum((r.amount for r in self.rows if r.kind == "TRANS"), Decimal(0))

    @property
    def label(self) -> str:
        """``series number (date)`` for messages."""
        name = f"{self.series} {self.number}".strip() or "(no number)"
        return f"{name} ({self.date.isoformat()})"


@attrs.frozen(kw_only=True)
class SieAccount:
    """An account of the chart (``#KONTO`` with ``#KTYP``, ``#ENHET``, ``#SRU``)."""

    number: str
    name: str = ""
    type: str = ""
    unit: str = ""
    sru: tuple[str, ...] = ()


@attrs.frozen
class SieFiscalYear:
    """``#RAR``: fiscal year ``index`` (0 = current, -1 = previous, ...)."""

    index: int
    start: dt.date
    end: dt.date


@attrs.frozen
class SieDimension:
    """``#DIM`` (or ``#UNDERDIM`` with ``parent``)."""

    number: str
    name: str
    parent: str = ""


@attrs.frozen
class SieObject:
    """``#OBJEKT``: an object (cost centre, project, ...) of a dimension."""

    dimension: str
    code: str
    name: str


@attrs.frozen(kw_only=True)
class SieBalance:
    """``#IB``, ``#UB``, ``#OIB``, ``#OUB`` or ``#RES`` for one account and year."""

    kind: str
    year: int
    account: str
    amount: Decimal
    objects: tuple[ObjectRef, ...] = ()
    quantity: Decimal | None = None


@attrs.frozen(kw_only=True)
class SiePeriodBalance:
    """``#PSALDO`` (actual) or ``#PBUDGET`` (budget) for one account and month."""

    kind: str
    year: int
    period: str  # YYYYMM
    account: str
    amount: Decimal
    objects: tuple[ObjectRef, ...] = ()
    quantity: Decimal | None = None


@attrs.frozen
class SieUnknown:
    """A label this reader does not know, kept as read (the format allows them)."""

    label: str
    fields: tuple[str | tuple[str, ...], ...]
    line: int = attrs.field(default=0, eq=False)


@attrs.frozen
class SieProblem:
    """Something wrong or odd in a file: ``severity`` is ``error`` or ``warning``."""

    line: int
    severity: str
    message: str

    def to_dict(self) -> dict[str, object]:
        """Plain data for JSON."""
        return {"line": self.line, "severity": self.severity, "message": self.message}


@attrs.frozen(kw_only=True)
class SieDocument:
    """Everything an SIE file says, in file order within each kind."""

    sie_type: int = 4
    flag: str = "0"
    program: tuple[str, ...] = ()
    format: str = "PC8"
    generated: dt.date | None = None
    generated_by: str = ""
    company_id: str = ""
    org_number: str = ""
    company_name: str = ""
    address: tuple[str, ...] = ()
    fiscal_years: tuple[SieFiscalYear, ...] = ()
    tax_year: str = ""
    chart_type: str = ""
    currency: str = ""
    accounts: tuple[SieAccount, ...] = ()
    dimensions: tuple[SieDimension, ...] = ()
    objects: tuple[SieObject, ...] = ()
    balances: tuple[SieBalance, ...] = ()
    period_balances: tuple[SiePeriodBalance, ...] = ()
    vouchers: tuple[SieVoucher, ...] = ()
    unknown: tuple[SieUnknown, ...] = ()
    #: the value of the closing ``#KSUMMA``, or None when the file has none
    ksumma: int | None = None

    @property
    def variant(self) -> str:
        """``1``, ``2``, ``3``, ``4E`` (export with balances) or ``4I`` (vouchers only)."""
        if self.sie_type != 4:
            return str(self.sie_type)
        return "4E" if (self.balances or self.period_balances) else "4I"

    @property
    def transaction_count(self) -> int:
        """Number of ``#TRANS`` rows over all vouchers."""
        return sum(1 for v in self.vouchers for r in v.rows if r.kind == "TRANS")

    def year(self, index: int) -> SieFiscalYear | None:
        """The fiscal year with ``#RAR`` index ``index``, if declared."""
        for year in self.fiscal_years:
            if year.index == index:
                return year
        return None
