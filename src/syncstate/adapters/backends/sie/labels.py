"""Stage 3 of reading SIE: what each label means.

:class:`Reader` holds the state of one read and one handler per label:
identification labels (``#FLAGGA`` ... ``#VALUTA``, among them ``#PROSA``,
``#FTYP``, ``#BKOD`` and ``#OMFATTN``), the chart of accounts (``#KONTO``,
``#KTYP``, ``#ENHET``, ``#SRU``), dimensions and objects (``#DIM``,
``#UNDERDIM``, ``#OBJEKT``), balances (``#IB``, ``#UB``, ``#RES``, ``#OIB``,
``#OUB``, ``#PSALDO``, ``#PBUDGET``) and voucher rows and heads (``#VER``,
``#TRANS``, ``#RTRANS``, ``#BTRANS``). Every label of SIE 4B is known here. An
identification label without its value is reported as a warning and ignored;
only a malformed value is an error. The line reader (:mod:`.lines`) and the
packed voucher path (:mod:`.packed`) call it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

from syncstate.adapters.backends.sie.fields import (
    LineError,
    Token,
    optional_amount,
    parse_amount,
    parse_date,
    parse_int,
    parse_objects,
    text_at,
)
from syncstate.adapters.backends.sie.model import (
    SieBalance,
    SieDimension,
    SieFiscalYear,
    SieObject,
    SiePeriodBalance,
    SieProblem,
    SieTrans,
    SieUnknown,
    SieVoucher,
)

__all__ = ["Reader"]


class Reader:
    """State of one read; one method per label."""

    def __init__(self, file: str, *, allow_unbalanced: bool) -> None:
        self.file = file
        self.allow_unbalanced = allow_unbalanced
        self.head: dict[str, object] = {}
        self.accounts: dict[str, dict[str, object]] = {}
        self.years: list[SieFiscalYear] = []
        self.dimensions: list[SieDimension] = []
        self.objects: list[SieObject] = []
        self.balances: list[SieBalance] = []
        self.period_balances: list[SiePeriodBalance] = []
        self.vouchers: list[SieVoucher] = []
        self.unknown: list[SieUnknown] = []
        self.comments: list[str] = []
        self.problems: list[SieProblem] = []
        self.dates: dict[str, dt.date] = {}
        self.seen: set[str] = set()
        #: False once the text turned out not to be SIE at all (empty, or not a label first)
        self.is_sie = True
        self.handlers: dict[str, Callable[[list[Token], int], None]] = {
            "#FLAGGA": self._flagga,
            "#PROGRAM": self._program,
            "#FORMAT": self._format,
            "#GEN": self._gen,
            "#SIETYP": self._sietyp,
            "#PROSA": self._prosa,
            "#FTYP": self._simple("company_type", "company type"),
            "#FNR": self._simple("company_id", "company id"),
            "#ORGNR": self._simple("org_number", "organisation number"),
            "#BKOD": self._simple("industry_code", "industry code (SNI)"),
            "#FNAMN": self._name,
            "#ADRESS": self._adress,
            "#RAR": self._rar,
            "#TAXAR": self._simple("tax_year", "tax year"),
            "#OMFATTN": self._omfattn,
            "#KPTYP": self._simple("chart_type", "chart of accounts type"),
            "#VALUTA": self._simple("currency", "currency"),
            "#KONTO": self._account_field("name"),
            "#KTYP": self._account_field("type"),
            "#ENHET": self._account_field("unit"),
            "#SRU": self._sru,
            "#DIM": self._dim,
            "#UNDERDIM": self._underdim,
            "#OBJEKT": self._objekt,
            "#IB": self._balance,
            "#UB": self._balance,
            "#RES": self._balance,
            "#OIB": self._object_balance,
            "#OUB": self._object_balance,
            "#PSALDO": self._period_balance,
            "#PBUDGET": self._period_balance,
        }
        self.label = ""

    def error(self, line: int, message: str) -> None:
        """Record an error at ``line``."""
        self.problems.append(SieProblem(line, "error", message))

    def warn(self, line: int, message: str) -> None:
        """Record a warning at ``line``."""
        self.problems.append(SieProblem(line, "warning", message))

    # identification labels: a label without its value is reported and ignored
    def _value(self, f: list[Token], line: int, what: str, *, mandatory: bool = False) -> str:
        """The first field; empty (with a warning) when the label has no value."""
        value = text_at(f, 0, what)
        if not value:
            required = " (SIE requires it)" if mandatory else ""
            self.warn(line, f"{self.label} has no {what}{required}; ignored")
        return value

    def _flagga(self, f: list[Token], line: int) -> None:
        if flag := self._value(f, line, "flag", mandatory=True):
            self.head["flag"] = flag

    def _program(self, f: list[Token], line: int) -> None:
        program = tuple(text_at(f, i, "program") for i in range(len(f)))
        if not any(program):
            self.warn(line, "#PROGRAM has no program name (SIE requires it)")
        self.head["program"] = program

    def _format(self, f: list[Token], line: int) -> None:
        if value := self._value(f, line, "format", mandatory=True):
            if value.upper() != "PC8":
                self.warn(line, f"#FORMAT {value}: SIE 4 defines only PC8 (CP437)")
            self.head["format"] = value

    def _gen(self, f: list[Token], line: int) -> None:
        if day := self._value(f, line, "date", mandatory=True):
            self.head["generated"] = parse_date(day, "#GEN date", {})
            self.head["generated_by"] = text_at(f, 1, "signature")

    def _sietyp(self, f: list[Token], line: int) -> None:
        if not (text := self._value(f, line, "SIE type")):
            return
        value = parse_int(text, "SIE type")
        if not 1 <= value <= 4:
            raise LineError(f"SIE type {value} is not 1, 2, 3 or 4")
        self.head["sie_type"] = value

    def _simple(self, name: str, what: str) -> Callable[[list[Token], int], None]:
        def handle(f: list[Token], line: int) -> None:
            if value := self._value(f, line, what):
                self.head[name] = value

        return handle

    def _name(self, f: list[Token], line: int) -> None:
        # programs often write the name unquoted: join its words
        name = " ".join(text_at(f, i, "company name") for i in range(len(f)))
        if not name:
            self.warn(line, "#FNAMN has no company name (SIE requires it)")
        self.head["company_name"] = name

    def _adress(self, f: list[Token], _line: int) -> None:
        self.head["address"] = tuple(text_at(f, i, "address") for i in range(len(f)))

    def _prosa(self, f: list[Token], _line: int) -> None:
        # free text, often unquoted: join its words; an empty #PROSA is kept as ""
        text = " ".join(text_at(f, i, "text") for i in range(len(f)))
        self.comments.append(text)

    def _omfattn(self, f: list[Token], line: int) -> None:
        if day := self._value(f, line, "date"):
            self.head["balance_date"] = parse_date(day, "#OMFATTN date", self.dates)

    def _rar(self, f: list[Token], line: int) -> None:
        index = parse_int(text_at(f, 0, "year index", required=True), "year index")
        if len(f) < 3:
            self.warn(line, f"#RAR {index} has no start and end date; ignored")
            return
        start = parse_date(f[1], "start date", self.dates)
        end = parse_date(f[2], "end date", self.dates)
        if end < start:
            raise LineError(f"fiscal year {index} ends before it starts")
        self.years.append(SieFiscalYear(index, start, end))

    def _account(self, f: list[Token]) -> dict[str, object]:
        number = text_at(f, 0, "account number", required=True)
        if not number:
            raise LineError("account number is empty")
        return self.accounts.setdefault(number, {"number": number})

    def _account_field(self, name: str) -> Callable[[list[Token], int], None]:
        def handle(f: list[Token], _line: int) -> None:
            self._account(f)[name] = text_at(f, 1, name)

        return handle

    def _sru(self, f: list[Token], _line: int) -> None:
        account = self._account(f)
        codes = account.get("sru", ())
        assert isinstance(codes, tuple)
        account["sru"] = (*codes, text_at(f, 1, "SRU code", required=True))

    def _dim(self, f: list[Token], _line: int) -> None:
        self.dimensions.append(
            SieDimension(text_at(f, 0, "dimension", required=True), text_at(f, 1, "name"))
        )

    def _underdim(self, f: list[Token], _line: int) -> None:
        self.dimensions.append(
            SieDimension(
                text_at(f, 0, "dimension", required=True),
                text_at(f, 1, "name"),
                text_at(f, 2, "parent dimension", required=True),
            )
        )

    def _objekt(self, f: list[Token], _line: int) -> None:
        self.objects.append(
            SieObject(
                text_at(f, 0, "dimension", required=True),
                text_at(f, 1, "object", required=True),
                text_at(f, 2, "name"),
            )
        )

    def _balance(self, f: list[Token], _line: int) -> None:
        if len(f) < 3:
            raise LineError(f"{self.label} needs year, account and amount")
        self.balances.append(
            SieBalance(
                kind=self.label[1:],
                year=parse_int(f[0], "year index"),
                account=text_at(f, 1, "account", required=True),
                amount=parse_amount(f[2]),
                quantity=optional_amount(f, 3, "quantity"),
            )
        )

    def _object_balance(self, f: list[Token], _line: int) -> None:
        if len(f) < 4:
            raise LineError(f"{self.label} needs year, account, object list and amount")
        self.balances.append(
            SieBalance(
                kind=self.label[1:],
                year=parse_int(f[0], "year index"),
                account=text_at(f, 1, "account", required=True),
                objects=parse_objects(f[2]),
                amount=parse_amount(f[3]),
                quantity=optional_amount(f, 4, "quantity"),
            )
        )

    def _period_balance(self, f: list[Token], _line: int) -> None:
        if len(f) < 5:
            raise LineError(f"{self.label} needs year, period, account, object list and amount")
        period = text_at(f, 1, "period")
        if not (len(period) == 6 and period.isdigit() and 1 <= int(period[4:]) <= 12):
            raise LineError(f"period {period!r} is not YYYYMM")
        self.period_balances.append(
            SiePeriodBalance(
                kind=self.label[1:],
                year=parse_int(f[0], "year index"),
                period=period,
                account=text_at(f, 2, "account", required=True),
                objects=parse_objects(f[3]),
                amount=parse_amount(f[4]),
                quantity=optional_amount(f, 5, "quantity"),
            )
        )

    # vouchers
    def row(self, label: str, f: list[Token]) -> SieTrans:
        """One ``#TRANS``/``#RTRANS``/``#BTRANS`` row from its fields."""
        if len(f) < 3:
            raise LineError(f"{label} needs account, object list and amount")
        account = text_at(f, 0, "account", required=True)
        if not account:
            raise LineError("account is empty")
        date = f[3] if len(f) > 3 else ""
        return SieTrans(
            label[1:],
            account,
            parse_objects(f[1]),
            parse_amount(f[2]),
            parse_date(date, "transaction date", self.dates) if date else None,
            text_at(f, 4, "text"),
            optional_amount(f, 5, "quantity"),
            text_at(f, 6, "signature"),
        )

    def voucher_head(self, f: list[Token]) -> dict[str, object]:
        """The fields of a ``#VER`` line."""
        if len(f) < 3:
            raise LineError("#VER needs series, number and date")
        reg = f[4] if len(f) > 4 else ""
        date = self.dates.get(f[2]) if isinstance(f[2], str) else None
        return {
            "series": text_at(f, 0, "series"),
            "number": text_at(f, 1, "number"),
            "date": date or parse_date(f[2], "voucher date", self.dates),
            "text": text_at(f, 3, "text"),
            "reg_date": parse_date(reg, "registration date", self.dates) if reg else None,
            "sign": text_at(f, 5, "signature") if len(f) > 5 else "",
        }

    def close_voucher(
        self, head: dict[str, object], rows: list[SieTrans], line: int, total: Decimal
    ) -> None:
        """Add the voucher; an unbalanced one is an error (a warning if allowed)."""
        voucher = SieVoucher(rows=tuple(rows), line=line, **head)  # type: ignore[arg-type]
        if total:
            self.unbalanced(voucher, total)
        self.vouchers.append(voucher)

    def unbalanced(self, voucher: SieVoucher, total: Decimal) -> None:
        """Report a voucher whose ``#TRANS`` rows sum to ``total``, not zero."""
        message = f"voucher {voucher.label} does not balance: sums to {total}"
        if self.allow_unbalanced:
            self.warn(voucher.line, message)
        else:
            self.error(voucher.line, message)
