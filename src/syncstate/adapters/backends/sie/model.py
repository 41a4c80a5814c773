"""The content of an SIE file as plain immutable data.

:func:`syncstate.adapters.backends.sie.parser.parse_sie` produces a
:class:`SieDocument`; :func:`syncstate.adapters.backends.sie.writer.write_sie`
turns one back into bytes. Equality ignores line numbers, so a document read,
written and read again compares equal to the first read.

Transaction rows (:class:`SieTrans`) are named tuples, not attrs classes: a
file may hold millions of them. For the same reason :class:`SieVoucher` is a
small hand-written immutable class (it behaves like the attrs classes here:
keyword construction, equality without ``line``, hashing, frozen) that can keep
its rows packed until they are first read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any, NamedTuple, Protocol

import attrs

__all__ = [
    "ObjectRef",
    "PackedRows",
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


#: a packed voucher's head: series, number, date, text, reg_date, sign, line, total
_PackedHead = tuple[str, str, dt.date, str, dt.date | None, str, int, Decimal]


class SieVoucher:
    """A voucher (``#VER``) and its rows. ``line`` is where it starts in the file.

    Immutable; equality and hashing ignore ``line``. Built like an attrs class
    (keyword arguments). The parser stores the rows of a well-formed voucher
    packed (validated ``#TRANS`` text in a :class:`PackedRows` store) with their
    sum. The first read of ``rows`` of any such voucher unpacks the rows of all
    the vouchers of that read in one pass (the ``Decimal`` amounts, dates and
    row tuples are built then, once); ``total`` and ``transaction_count`` never
    need to.
    """

    __slots__ = ("_head", "_rows", "_store")

    #: series, number, date, text, reg_date, sign, line, and the sum of packed rows
    _head: tuple[str, str, dt.date, str, dt.date | None, str, int, Decimal | None]
    #: the rows, or while packed their index in ``_store``
    _rows: tuple[SieTrans, ...] | int
    _store: PackedRows | None

    def __init__(
        self,
        *,
        series: str,
        number: str,
        date: dt.date,
        text: str = "",
        reg_date: dt.date | None = None,
        sign: str = "",
        rows: tuple[SieTrans, ...] = (),
        line: int = 0,
    ) -> None:
        init = object.__setattr__
        init(self, "_head", (series, number, date, text, reg_date, sign, line, None))
        init(self, "_rows", rows)
        init(self, "_store", None)

    @classmethod
    def packed(
        cls,
        head: tuple[str, str, dt.date, str, dt.date | None, str, int, Decimal],
        index: int,
        store: PackedRows,
    ) -> SieVoucher:
        """A voucher whose rows stay packed until first read (used by the parser).

        ``head`` is ``(series, number, date, text, reg_date, sign, line, total)``;
        the rows are ``store.rows(index)``, all ``#TRANS``, and ``total`` is their sum.
        """
        self = object.__new__(cls)
        init = object.__setattr__
        init(self, "_head", head)
        init(self, "_rows", index)
        init(self, "_store", store)
        return self

    @classmethod
    def packed_maker(cls, store: PackedRows) -> Callable[[_PackedHead, int], SieVoucher]:
        """A fast :meth:`packed` for many vouchers of one ``store``: ``make(head, index)``.

        It sets the slots through their descriptors (no method call or
        ``object.__setattr__`` lookup per voucher): the parser builds one
        voucher per ``#VER`` of files with hundreds of thousands of them.
        """
        new = object.__new__
        set_head = cls.__dict__["_head"].__set__
        set_rows = cls.__dict__["_rows"].__set__
        set_store = cls.__dict__["_store"].__set__

        def make(head: _PackedHead, index: int) -> SieVoucher:
            self = new(cls)
            set_head(self, head)
            set_rows(self, index)
            set_store(self, store)
            return self

        return make

    def __setattr__(self, name: str, value: object) -> None:
        raise attrs.exceptions.FrozenInstanceError

    def __delattr__(self, name: str) -> None:
        raise attrs.exceptions.FrozenInstanceError

    @property
    def series(self) -> str:
        """Voucher series (``A``, ``B``, ... or empty)."""
        return self._head[0]

    @property
    def number(self) -> str:
        """Voucher number within its series (may be empty)."""
        return self._head[1]

    @property
    def date(self) -> dt.date:
        """Voucher date."""
        return self._head[2]

    @property
    def text(self) -> str:
        """Voucher text."""
        return self._head[3]

    @property
    def reg_date(self) -> dt.date | None:
        """Registration date, if given."""
        return self._head[4]

    @property
    def sign(self) -> str:
        """Signature, if given."""
        return self._head[5]

    @property
    def line(self) -> int:
        """Line of the ``#VER`` in the file read (0 when built in code)."""
        return self._head[6]

    @property
    def rows(self) -> tuple[SieTrans, ...]:
        """All rows in file order: ``#TRANS``, ``#RTRANS`` and ``#BTRANS``."""
        rows = self._rows
        if isinstance(rows, int):
            assert self._store is not None
            rows = self._store.rows(rows)
            object.__setattr__(self, "_rows", rows)
        return rows

    @property
    def transactions(self) -> tuple[SieTrans, ...]:
        """The ``#TRANS`` rows (the ones that count in the books)."""
        if self._store is not None:  # packed rows are all #TRANS
            return self.rows
        return tuple(r for r in self.rows if r.kind == "TRANS")

    @property
    def transaction_count(self) -> int:
        """Number of ``#TRANS`` rows."""
        rows = self._rows
        if isinstance(rows, int):
            assert self._store is not None
            return self._store.count(rows)
        return sum(1 for r in rows if r.kind == "TRANS")

    @property
    def total(self) -> Decimal:
        """Sum of the ``#TRANS`` amounts; zero when the voucher balances."""
        total = self._head[7]
        if total is not None:
            return total
        return sum((r.amount for r in self.rows if r.kind == "TRANS"), Decimal(0))

    @property
    def label(self) -> str:
        """``series number (date)`` for messages."""
        name = f"{self.series} {self.number}".strip() or "(no number)"
        return f"{name} ({self.date.isoformat()})"

    def _key(self) -> tuple[object, ...]:
        return (*self._head[:6], self.rows)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SieVoucher) or other.__class__ is not self.__class__:
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        series, number, date, text, reg_date, sign, line, _ = self._head
        return (
            f"SieVoucher(series={series!r}, number={number!r}, date={date!r}, text={text!r},"
            f" reg_date={reg_date!r}, sign={sign!r}, rows={self.rows!r}, line={line!r})"
        )

    def __reduce__(self) -> tuple[object, ...]:
        series, number, date, text, reg_date, sign, line, _ = self._head
        fields = {
            "series": series,
            "number": number,
            "date": date,
            "text": text,
            "reg_date": reg_date,
            "sign": sign,
            "rows": self.rows,
            "line": line,
        }
        return (_voucher, (fields,))


def _voucher(fields: dict[str, Any]) -> SieVoucher:
    """Rebuild a voucher (pickle and copy)."""
    return SieVoucher(**fields)


class PackedRows(Protocol):
    """Where the parser keeps the packed rows of the vouchers of one read."""

    def rows(self, index: int) -> tuple[SieTrans, ...]:
        """The rows of packed voucher ``index`` (``#TRANS`` only)."""

    def count(self, index: int) -> int:
        """How many rows packed voucher ``index`` has."""


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
    #: ``#OMFATTN``: the date up to which the balances and period balances run
    balance_date: dt.date | None = None
    #: ``#FTYP``: the company type (``AB``, ``E``, ``HB``, ``KB``, ``EK``, ...)
    company_type: str = ""
    #: ``#BKOD``: the industry code (SNI) of the company
    industry_code: str = ""
    #: ``#PROSA``: free comment texts about the file, in file order
    comments: tuple[str, ...] = ()
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
        return sum(v.transaction_count for v in self.vouchers)

    def year(self, index: int) -> SieFiscalYear | None:
        """The fiscal year with ``#RAR`` index ``index``, if declared."""
        for year in self.fiscal_years:
            if year.index == index:
                return year
        return None
