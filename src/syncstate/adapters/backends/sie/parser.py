"""Read SIE files (types 1-4, 4E and 4I) into a :class:`SieDocument`.

The whole file is decoded once (:func:`decode_sie` detects the real encoding:
CP437 as ``#FORMAT PC8`` says, or UTF-8 / ISO-8859-15 that some programs write
while still declaring PC8, with a warning). A voucher whose rows are all plain
``#TRANS`` rows is matched whole by one strict regex (:data:`_VOUCHER`): only
valid accounts, object lists, amounts and calendar days match, so its rows are
kept packed (text plus their sum, for the balance check) and unpacked together
on first use. Every other line is read one by one (:class:`_Lines`) with the
full tokenizer (quoted strings with ``\\"`` escapes, ``{ }`` object lists).

Problems are collected as data (:class:`SieProblem`): :func:`read_sie` returns
them beside the document; :func:`parse_sie` raises :class:`SieParseError`
(file, line number and offending line) at the first error. Unknown labels are
kept and reported as warnings. A closing ``#KSUMMA`` is verified (CRC-32 over
the CP437 bytes of each record's label and field values, as the real files do).
"""

from __future__ import annotations

import datetime as dt
import gc
import os
import re
import zlib
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from pathlib import Path

import attrs

from syncstate.adapters.backends.sie.model import (
    ObjectRef,
    SieAccount,
    SieBalance,
    SieDimension,
    SieDocument,
    SieFiscalYear,
    SieObject,
    SiePeriodBalance,
    SieProblem,
    SieTrans,
    SieUnknown,
    SieVoucher,
)
from syncstate.errors import SieParseError

__all__ = ["SieReadResult", "decode_sie", "ksumma_record", "parse_sie", "read_sie"]

Token = str | tuple[str, ...]

_TOKEN = re.compile(r'[ \t]*(?:"((?:[^"\\]|\\.)*)"|(\{)|(\})|([^ \t"{}]+))')
_UNESCAPE = re.compile(r'\\(["\\])')
_DIGITS = "0123456789.-"
_ROW_LABELS = frozenset({"#TRANS", "#RTRANS", "#BTRANS"})


class _LineError(Exception):
    """A problem with one line; the reader turns it into an error."""


@attrs.frozen
class SieReadResult:
    """A document and every problem found while reading it."""

    document: SieDocument
    problems: tuple[SieProblem, ...]
    encoding: str

    @property
    def errors(self) -> tuple[SieProblem, ...]:
        """The problems of severity ``error``."""
        return tuple(p for p in self.problems if p.severity == "error")

    @property
    def warnings(self) -> tuple[SieProblem, ...]:
        """The problems of severity ``warning``."""
        return tuple(p for p in self.problems if p.severity == "warning")


def decode_sie(data: bytes) -> tuple[str, str, list[SieProblem]]:
    """Decode SIE bytes; return ``(text, encoding, warnings)``.

    SIE prescribes CP437 (``#FORMAT PC8``). Files that are valid UTF-8 with
    non-ASCII bytes are read as UTF-8; bytes only in the Latin-1 letter range
    (no CP437 letters in 0x80-0x9F) are read as ISO-8859-15. Both are reported.
    """
    warnings: list[SieProblem] = []
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
        encoding = "utf-8"
    elif data.isascii():
        return data.decode("ascii"), "cp437", warnings
    else:
        try:
            data.decode("utf-8")
            encoding = "utf-8"
        except UnicodeDecodeError:
            high = data.translate(None, bytes(range(0x80)))
            cp437_letters = len(high) - len(high.translate(None, bytes(range(0x80, 0xA0))))
            latin_letters = len(high) - len(high.translate(None, bytes(range(0xC0, 0x100))))
            encoding = "iso-8859-15" if cp437_letters == 0 and latin_letters else "cp437"
    if encoding != "cp437":
        declared = re.search(rb"^[ \t]*#FORMAT[ \t]+(\S+)", data[:4096], re.M)
        if declared is None or declared.group(1).strip(b'"').upper() == b"PC8":
            warnings.append(
                SieProblem(
                    0,
                    "warning",
                    f"the file declares #FORMAT PC8 (CP437) but is encoded as {encoding}; "
                    f"read as {encoding}",
                )
            )
    return data.decode(encoding), encoding, warnings


def tokenize(line: str) -> list[Token]:
    """Split one line into fields: strings, and tuples for ``{ }`` object lists."""
    tokens: list[Token] = []
    group: list[str] | None = None
    pos, end = 0, len(line)
    match = _TOKEN.match
    while pos < end:
        m = match(line, pos)
        if m is None:
            rest = line[pos:].strip()
            if not rest:
                break
            raise _LineError("unterminated quoted string")
        pos = m.end()
        quoted, opening, closing, plain = m.groups()
        if opening:
            if group is not None:
                raise _LineError("nested '{' in an object list")
            group = []
        elif closing:
            if group is None:
                raise _LineError("'}' without '{'")
            tokens.append(tuple(group))
            group = None
        else:
            value = plain if plain is not None else quoted
            if quoted is not None and "\\" in quoted:
                value = _UNESCAPE.sub(r"\1", quoted)
            if group is not None:
                group.append(value)
            else:
                tokens.append(value)
    if group is not None:
        raise _LineError("object list '{' is not closed")
    return tokens


def ksumma_record(label: str, fields: list[Token]) -> bytes:
    """The bytes one record adds to the ``#KSUMMA`` CRC: label and field values."""
    parts = [label]
    for field in fields:
        if isinstance(field, tuple):
            parts.extend(field)
        else:
            parts.append(field)
    return "".join(parts).encode("cp437", "replace")


# ------------------------------------------------------------------ field parsers


def _date(value: Token, what: str, cache: dict[str, dt.date]) -> dt.date:
    if isinstance(value, str):
        found = cache.get(value)
        if found is not None:
            return found
        if len(value) == 8 and value.isascii() and value.isdigit():
            try:
                day = dt.date(int(value[:4]), int(value[4:6]), int(value[6:]))
            except ValueError:
                pass
            else:
                cache[value] = day
                return day
    raise _LineError(f"{what} {value!r} is not a date (YYYYMMDD)")


def _amount(value: Token, what: str = "amount") -> Decimal:
    if isinstance(value, str) and value and not value.strip(_DIGITS):
        try:
            return Decimal(value)
        except InvalidOperation:
            pass
    raise _LineError(f"{what} {value!r} is not a decimal number")


def _opt_amount(fields: list[Token], index: int, what: str) -> Decimal | None:
    if len(fields) <= index or fields[index] == "":
        return None
    return _amount(fields[index], what)


def _text(fields: list[Token], index: int, what: str, *, required: bool = False) -> str:
    if len(fields) <= index:
        if required:
            raise _LineError(f"{what} is missing")
        return ""
    value = fields[index]
    if isinstance(value, tuple):
        raise _LineError(f"{what} is an object list, expected a value")
    return value


def _int(value: Token, what: str) -> int:
    if isinstance(value, str) and value.lstrip("-").isdigit() and value.isascii():
        return int(value)
    raise _LineError(f"{what} {value!r} is not a whole number")


def _objects(value: Token) -> tuple[ObjectRef, ...]:
    if not isinstance(value, tuple):
        raise _LineError(f"expected an object list {{...}}, got {value!r}")
    if len(value) % 2:
        raise _LineError("object list must hold (dimension, object) pairs")
    return tuple((value[i], value[i + 1]) for i in range(0, len(value), 2))


# ------------------------------------------------------------------------ reader


class _Reader:
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
        self.problems: list[SieProblem] = []
        self.dates: dict[str, dt.date] = {}
        self.seen: set[str] = set()
        self.handlers: dict[str, Callable[[list[Token], int], None]] = {
            "#FLAGGA": self._flagga,
            "#PROGRAM": self._program,
            "#FORMAT": self._format,
            "#GEN": self._gen,
            "#SIETYP": self._sietyp,
            "#FNR": self._simple("company_id"),
            "#ORGNR": self._simple("org_number"),
            "#FNAMN": self._name,
            "#ADRESS": self._adress,
            "#RAR": self._rar,
            "#TAXAR": self._simple("tax_year"),
            "#KPTYP": self._simple("chart_type"),
            "#VALUTA": self._simple("currency"),
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
        self.problems.append(SieProblem(line, "error", message))

    def warn(self, line: int, message: str) -> None:
        self.problems.append(SieProblem(line, "warning", message))

    # header labels
    def _flagga(self, f: list[Token], _line: int) -> None:
        self.head["flag"] = _text(f, 0, "flag", required=True)

    def _program(self, f: list[Token], _line: int) -> None:
        self.head["program"] = tuple(_text(f, i, "program") for i in range(len(f)))

    def _format(self, f: list[Token], _line: int) -> None:
        self.head["format"] = _text(f, 0, "format", required=True)

    def _gen(self, f: list[Token], _line: int) -> None:
        self.head["generated"] = _date(_text(f, 0, "#GEN date", required=True), "date", {})
        self.head["generated_by"] = _text(f, 1, "signature")

    def _sietyp(self, f: list[Token], _line: int) -> None:
        value = _int(_text(f, 0, "SIE type", required=True), "SIE type")
        if not 1 <= value <= 4:
            raise _LineError(f"SIE type {value} is not 1, 2, 3 or 4")
        self.head["sie_type"] = value

    def _simple(self, name: str) -> Callable[[list[Token], int], None]:
        def handle(f: list[Token], _line: int) -> None:
            self.head[name] = _text(f, 0, self.label, required=True)

        return handle

    def _name(self, f: list[Token], _line: int) -> None:
        # programs often write the name unquoted: join its words
        self.head["company_name"] = " ".join(
            _text(f, i, "company name") for i in range(len(f))
        ) or _text(f, 0, "company name", required=True)

    def _adress(self, f: list[Token], _line: int) -> None:
        self.head["address"] = tuple(_text(f, i, "address") for i in range(len(f)))

    def _rar(self, f: list[Token], line: int) -> None:
        index = _int(_text(f, 0, "year index", required=True), "year index")
        if len(f) < 3:
            self.warn(line, f"#RAR {index} has no start and end date; ignored")
            return
        start = _date(f[1], "start date", self.dates)
        end = _date(f[2], "end date", self.dates)
        if end < start:
            raise _LineError(f"fiscal year {index} ends before it starts")
        self.years.append(SieFiscalYear(index, start, end))

    def _account(self, f: list[Token]) -> dict[str, object]:
        number = _text(f, 0, "account number", required=True)
        if not number:
            raise _LineError("account number is empty")
        return self.accounts.setdefault(number, {"number": number})

    def _account_field(self, name: str) -> Callable[[list[Token], int], None]:
        def handle(f: list[Token], _line: int) -> None:
            self._account(f)[name] = _text(f, 1, name)

        return handle

    def _sru(self, f: list[Token], _line: int) -> None:
        account = self._account(f)
        codes = account.get("sru", ())
        assert isinstance(codes, tuple)
        account["sru"] = (*codes, _text(f, 1, "SRU code", required=True))

    def _dim(self, f: list[Token], _line: int) -> None:
        self.dimensions.append(
            SieDimension(_text(f, 0, "dimension", required=True), _text(f, 1, "name"))
        )

    def _underdim(self, f: list[Token], _line: int) -> None:
        self.dimensions.append(
            SieDimension(
                _text(f, 0, "dimension", required=True),
                _text(f, 1, "name"),
                _text(f, 2, "parent dimension", required=True),
            )
        )

    def _objekt(self, f: list[Token], _line: int) -> None:
        self.objects.append(
            SieObject(
                _text(f, 0, "dimension", required=True),
                _text(f, 1, "object", required=True),
                _text(f, 2, "name"),
            )
        )

    def _balance(self, f: list[Token], _line: int) -> None:
        if len(f) < 3:
            raise _LineError(f"{self.label} needs year, account and amount")
        self.balances.append(
            SieBalance(
                kind=self.label[1:],
                year=_int(f[0], "year index"),
                account=_text(f, 1, "account", required=True),
                amount=_amount(f[2]),
                quantity=_opt_amount(f, 3, "quantity"),
            )
        )

    def _object_balance(self, f: list[Token], _line: int) -> None:
        if len(f) < 4:
            raise _LineError(f"{self.label} needs year, account, object list and amount")
        self.balances.append(
            SieBalance(
                kind=self.label[1:],
                year=_int(f[0], "year index"),
                account=_text(f, 1, "account", required=True),
                objects=_objects(f[2]),
                amount=_amount(f[3]),
                quantity=_opt_amount(f, 4, "quantity"),
            )
        )

    def _period_balance(self, f: list[Token], _line: int) -> None:
        if len(f) < 5:
            raise _LineError(f"{self.label} needs year, period, account, object list and amount")
        period = _text(f, 1, "period")
        if not (len(period) == 6 and period.isdigit() and 1 <= int(period[4:]) <= 12):
            raise _LineError(f"period {period!r} is not YYYYMM")
        self.period_balances.append(
            SiePeriodBalance(
                kind=self.label[1:],
                year=_int(f[0], "year index"),
                period=period,
                account=_text(f, 2, "account", required=True),
                objects=_objects(f[3]),
                amount=_amount(f[4]),
                quantity=_opt_amount(f, 5, "quantity"),
            )
        )

    # vouchers
    def row(self, label: str, f: list[Token]) -> SieTrans:
        """One ``#TRANS``/``#RTRANS``/``#BTRANS`` row from its fields."""
        if len(f) < 3:
            raise _LineError(f"{label} needs account, object list and amount")
        account = _text(f, 0, "account", required=True)
        if not account:
            raise _LineError("account is empty")
        date = f[3] if len(f) > 3 else ""
        return SieTrans(
            label[1:],
            account,
            _objects(f[1]),
            _amount(f[2]),
            _date(date, "transaction date", self.dates) if date else None,
            _text(f, 4, "text"),
            _opt_amount(f, 5, "quantity"),
            _text(f, 6, "signature"),
        )

    def voucher_head(self, f: list[Token]) -> dict[str, object]:
        """The fields of a ``#VER`` line."""
        if len(f) < 3:
            raise _LineError("#VER needs series, number and date")
        reg = f[4] if len(f) > 4 else ""
        date = self.dates.get(f[2]) if isinstance(f[2], str) else None
        return {
            "series": _text(f, 0, "series"),
            "number": _text(f, 1, "number"),
            "date": date or _date(f[2], "voucher date", self.dates),
            "text": _text(f, 3, "text"),
            "reg_date": _date(reg, "registration date", self.dates) if reg else None,
            "sign": _text(f, 5, "signature") if len(f) > 5 else "",
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


def read_sie(
    source: bytes | str | os.PathLike[str],
    *,
    file: str | None = None,
    allow_unbalanced: bool = False,
) -> SieReadResult:
    """Read SIE ``source`` (bytes, or a path) and collect every problem as data.

    Never raises for malformed content (only :class:`OSError` for a missing file).
    """
    if isinstance(source, bytes):
        data, name = source, file or "<bytes>"
    else:
        data, name = Path(source).read_bytes(), file or str(source)
    text, encoding, problems = decode_sie(data)
    reader = _Reader(name, allow_unbalanced=allow_unbalanced)
    reader.problems.extend(problems)
    if any(c in text for c in _ODD_BREAKS):  # read line breaks as str.splitlines does
        text = "\n".join(text.splitlines()) + "\n"
    elif not text.endswith("\n"):
        text += "\n"
    # The reader allocates millions of acyclic tuples; CPython's cyclic collector
    # would traverse them again and again (a third of the time on large files).
    # Pause it for the read and restore it afterwards, whatever happens.
    collecting = gc.isenabled()
    gc.disable()
    try:
        _read_text(reader, text)
        document = _document(reader)
    finally:
        if collecting:
            gc.enable()
    return SieReadResult(document, tuple(reader.problems), encoding)


def parse_sie(
    source: bytes | str | os.PathLike[str],
    *,
    file: str | None = None,
    allow_unbalanced: bool = False,
) -> SieDocument:
    """Parse SIE ``source``; raise :class:`SieParseError` at the first error.

    ``allow_unbalanced`` turns unbalanced vouchers into warnings.
    """
    if isinstance(source, bytes):
        data, name = source, file or "<bytes>"
    else:
        name = file or str(source)
        try:
            data = Path(source).read_bytes()
        except OSError as exc:
            raise SieParseError(f"cannot read file: {exc.strerror}", file=name, line=0) from exc
    result = read_sie(data, file=name, allow_unbalanced=allow_unbalanced)
    errors = result.errors
    if errors:
        first = errors[0]
        text = ""
        if first.line:
            lines = decode_sie(data)[0].splitlines()
            text = lines[first.line - 1] if first.line <= len(lines) else ""
        raise SieParseError(first.message, file=name, line=first.line, text=text, problems=errors)
    return result.document


# ----------------------------------------------------------------- line reader

_FAST_VER = re.compile(
    r'[ \t]*#VER[ \t]+(?:"([^"\\]*)"|([^\s"{}]+))[ \t]+(?:"([^"\\]*)"|([^\s"{}]+))'
    r'[ \t]+([0-9]{8})(?:[ \t]+"([^"\\]*)")?[ \t]*'
)


def _ver_fields(line: str) -> list[Token]:
    """Fields of a ``#VER`` line; a regex for the usual ``#VER A 1 20230105 "text"``."""
    m = _FAST_VER.fullmatch(line)
    if m is not None:
        q_series, series, q_number, number, date, text = m.groups()
        return [
            "#VER",
            series if series is not None else q_series,
            number if number is not None else q_number,
            date,
            text or "",
        ]
    return tokenize(line)


class _Lines:
    """The general reader: any line, in any state, one at a time.

    It reads everything the packed voucher path (:func:`_read_text`) does not
    take, and owns the state between lines: the ``#VER`` waiting for its ``{``,
    the open voucher block and the running ``#KSUMMA`` CRC.
    """

    def __init__(self, reader: _Reader) -> None:
        self.reader = reader
        self.head: dict[str, object] | None = None  # the #VER waiting for its '{'
        self.head_line = 0
        self.skip_block = False  # the #VER before the next block could not be read
        self.block: list[SieTrans] | None = None  # rows of the open voucher block
        self.total = Decimal(0)
        self.broken = False
        self.crc: int | None = None  # running #KSUMMA CRC, between opening and closing
        self.n = 0  # the line last read
        self.accounts: dict[str, str] = {}

    def feed_text(self, text: str, first: int) -> None:
        """Read the lines of ``text`` (only ``\\n`` breaks); the first is line ``first``."""
        feed = self.feed
        for n, line in enumerate(text.splitlines(), first):
            feed(n, line)

    def feed(self, n: int, line: str) -> None:
        """Read line ``n``."""
        self.n = n
        parts = line.split()
        if not parts:
            return
        if self.block is not None:
            self._block_line(n, line, parts)
            return
        reader = self.reader
        label = parts[0]
        try:
            if label == "{":
                if len(parts) != 1:
                    raise _LineError("'{' must stand alone on its line")
                if self.head is None and not self.skip_block:
                    raise _LineError("'{' without a #VER before it")
                self.block, self.total, self.broken = [], Decimal(0), self.skip_block
                return
            if self.head is not None or self.skip_block:
                self.head, self.skip_block = None, False
                raise _LineError("#VER must be followed by a '{' line")
            if label == "}":
                raise _LineError("'}' without an open voucher")
            if not label.startswith("#"):
                raise _LineError("expected an SIE label (#...)")
            if label == "#VER":
                self._ver(n, line)
                return
            fields = tokenize(line)
            label = str(fields.pop(0))
            reader.label = label
            if label == "#KSUMMA":
                self._ksumma(n, fields)
                return
            if self.crc is not None:
                self.crc = zlib.crc32(ksumma_record(label, fields), self.crc)
            if label in _ROW_LABELS:
                raise _LineError(f"{label} outside a voucher block")
            handler = reader.handlers.get(label)
            if handler is None:
                reader.warn(n, f"unknown label {label} kept and ignored")
                reader.unknown.append(SieUnknown(label, tuple(fields), n))
                return
            handler(fields, n)
            reader.seen.add(label)
        except _LineError as exc:
            reader.error(n, str(exc))
        except (ArithmeticError, ValueError) as exc:  # huge numbers: never leak past the reader
            reader.error(n, f"cannot read line: {exc}")

    def _ver(self, n: int, line: str) -> None:
        m = _FAST_VER.fullmatch(line) if self.crc is None else None
        day = self.reader.dates.get(m.group(5)) if m is not None else None
        if m is not None and day is not None:
            q_series, series, q_number, number, _, text = m.groups()
            self.head = {
                "series": series if series is not None else q_series,
                "number": number if number is not None else q_number,
                "date": day,
                "text": text or "",
            }
            self.head_line = n
            return
        fields = _ver_fields(line)
        label = str(fields.pop(0))
        if self.crc is not None:
            self.crc = zlib.crc32(ksumma_record(label, fields), self.crc)
        self.head_line = n  # also when unreadable: its block is reported here
        try:
            self.head = self.reader.voucher_head(fields)
        except _LineError:
            self.skip_block = True
            raise

    def _ksumma(self, n: int, fields: list[Token]) -> None:
        reader = self.reader
        if not fields:
            if self.crc is not None or "#KSUMMA" in reader.seen:
                raise _LineError("a second opening #KSUMMA")
            self.crc = 0
            reader.seen.add("#KSUMMA")
            return
        declared = _int(fields[0], "#KSUMMA")
        if self.crc is None:
            raise _LineError("closing #KSUMMA without an opening #KSUMMA line")
        reader.head["ksumma"] = declared
        if declared != self.crc:
            reader.error(n, f"#KSUMMA is {declared} but the file's checksum is {self.crc}")
        self.crc = None

    def _block_line(self, n: int, line: str, parts: list[str]) -> None:
        rows = self.block
        assert rows is not None
        label = parts[0]
        if label == "#TRANS" and 4 <= len(parts) <= 5 and parts[2] == "{}" and '"' not in line:
            # the usual row, without quotes or objects: no tokenizer
            amount_s = parts[3]
            day = self.reader.dates.get(parts[4]) if len(parts) == 5 else None
            if not amount_s.strip(_DIGITS) and (day is not None or len(parts) == 4):
                try:
                    amount = Decimal(amount_s)
                except InvalidOperation:
                    pass
                else:
                    account = self.accounts.setdefault(parts[1], parts[1])
                    rows.append(SieTrans("TRANS", account, (), amount, day))
                    self.total += amount
                    if self.crc is not None:
                        record = "#TRANS" + account + amount_s + (parts[4] if day else "")
                        self.crc = zlib.crc32(record.encode("cp437", "replace"), self.crc)
                    return
        if label == "}":
            if len(parts) != 1:
                self.reader.error(n, "'}' must stand alone on its line")
            self.close_block()
            return
        try:
            fields = tokenize(line)
            label = str(fields.pop(0))
            if label not in _ROW_LABELS:
                raise _LineError(f"{label} inside a voucher block (missing '}}'?)")
            row = self.reader.row(label, fields)
            if self.crc is not None:
                self.crc = zlib.crc32(ksumma_record(label, fields), self.crc)
        except _LineError as exc:
            self.reader.error(n, str(exc))
            self.broken = True
            return
        except (ArithmeticError, ValueError) as exc:
            self.reader.error(n, f"cannot read line: {exc}")
            self.broken = True
            return
        rows.append(row)
        if row.kind == "TRANS":
            self.total += row.amount

    def close_block(self) -> None:
        """End the open voucher block; keep the voucher unless a row was unreadable."""
        if self.head is not None and not self.broken and self.block is not None:
            self.reader.close_voucher(self.head, self.block, self.head_line, self.total)
        self.head, self.skip_block, self.block = None, False, None

    def finish(self) -> None:
        """Report what the end of the file leaves open."""
        reader = self.reader
        if self.block is not None:
            reader.error(self.head_line or self.n, "voucher block is not closed with '}'")
            self.close_block()
        if self.head is not None:
            reader.error(self.head_line, "#VER must be followed by a '{' line")
        if self.crc is not None:
            reader.error(self.n, "opening #KSUMMA without a closing #KSUMMA checksum")


# ---------------------------------------------------------- packed voucher path

# A token as the tokenizer reads it, in the form where regex and tokenizer agree:
# quoted without escapes or braces, or bare. Tokens are separated by blanks.
_TOK = r'(?:"[^"\\\n{}]*+"|[^\s"{}\\]++)'
# A real calendar day; 29 February is left to the general reader.
_DAY = (
    r"(?!0000)[0-9]{4}(?:(?:0[13578]|1[02])(?:0[1-9]|[12][0-9]|3[01])"
    r"|(?:0[469]|11)(?:0[1-9]|[12][0-9]|30)|02(?:0[1-9]|1[0-9]|2[0-8]))"
)
#: a whole voucher whose rows are all plain ``#TRANS`` rows: the ``#VER`` line
#: (series, number, date, [text, [registration date, [signature]]]), ``{``, the
#: rows, ``}``. Everything it accepts is valid, so its rows can stay packed.
_VOUCHER = re.compile(
    rf"""^[ \t]*+\#VER
    [ \t]++(?:"([^"\\\n]*+)"|([^\s"{{}}\\]++))
    [ \t]++(?:"([^"\\\n]*+)"|([^\s"{{}}\\]++))
    [ \t]++({_DAY})
    (?:[ \t]++(?:"([^"\\\n]*+)"|([^\s"{{}}\\]++))
      (?:[ \t]++({_DAY}|"")
        (?:[ \t]++(?:"([^"\\\n]*+)"|([^\s"{{}}\\]++)))?
      )?
    )?[ \t]*+\n
    [ \t]*+\{{[ \t]*+\n
    ((?:[ \t]*+\#TRANS[ \t]++[^\s"{{}}\\]++
       [ \t]++\{{[ \t]*+(?:{_TOK}[ \t]++{_TOK}(?:[ \t]++{_TOK}[ \t]++{_TOK})*+)?[ \t]*+\}}
       [ \t]++-?(?:[0-9]++(?:\.[0-9]++)?|\.[0-9]++)
       (?:[ \t]++(?:{_DAY}|"")(?:[ \t]++"[^"\\\n{{}}]*+")?)?
       [ \t]*+\n)*+)
    [ \t]*+\}}[ \t]*+\n""",
    re.M | re.X,
)
#: the amounts of packed rows: a '}' there only closes an object list (quoted
#: tokens and texts with braces are left to the general reader)
_PACKED_AMOUNT = re.compile(r"\}[ \t]++([-.0-9]++)")
#: the same amounts when they have exactly two decimals, in packed rows whose '.'
#: became '_' (which ``int`` skips): each is then its whole number of öre/cents
_PACKED_CENTS = re.compile(r"\}[ \t]++(-?[0-9]++_[0-9][0-9])[ \t\n]")
#: the sum of rows with two decimals each that balance, as ``Decimal`` adds them
_ZERO_CENTS = Decimal("0.00")
#: the fields of packed rows: account, object list, amount, date, text
_PACKED_ROW = re.compile(
    r'^[ \t]*#TRANS[ \t]+(\S+)[ \t]+\{([^}]*)\}[ \t]+(\S+)(?:[ \t]+(\S+)(?:[ \t]+"([^"]*)")?)?',
    re.M,
)
_PACKED_TOKEN = re.compile(r'"([^"]*)"|([^\s"]+)')
_ODD_BREAKS = "\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
_SPACE = re.compile(r"\s*")


def _object_tokens(packed: str) -> list[str]:
    return [quoted + bare for quoted, bare in _PACKED_TOKEN.findall(packed)]


class _PackedStore:
    """The packed ``#TRANS`` rows of one read's vouchers (validated by :data:`_VOUCHER`).

    The first voucher whose rows are asked for unpacks all of them in one pass
    with the cyclic GC paused (like the read itself: the rows are millions of
    tuples the collector would otherwise traverse again and again). Object
    lists, days and account strings are cached, so equal values are one object.
    """

    def __init__(self) -> None:
        #: the packed rows of each voucher, in the order of their indexes
        self.texts: list[str] = []
        self.unpacked: list[tuple[SieTrans, ...]] | None = None

    def count(self, index: int) -> int:
        """How many rows voucher ``index`` has."""
        if self.unpacked is not None:
            return len(self.unpacked[index])
        return self.texts[index].count("\n")

    def rows(self, index: int) -> tuple[SieTrans, ...]:
        """The rows of voucher ``index``."""
        if self.unpacked is None:
            collecting = gc.isenabled()
            gc.disable()
            try:
                self.unpacked = self._unpack_all()
            finally:
                if collecting:
                    gc.enable()
            self.texts = []
        return self.unpacked[index]

    def _unpack_all(self) -> list[tuple[SieTrans, ...]]:
        objects_of: dict[str, tuple[ObjectRef, ...]] = {"": ()}
        days: dict[str, dt.date | None] = {"": None, '""': None}
        accounts: dict[str, str] = {}
        new_row = tuple.__new__
        findall = _PACKED_ROW.findall
        out: list[tuple[SieTrans, ...]] = []
        for text in self.texts:
            rows: list[SieTrans] = []
            append = rows.append
            for account, objects_s, amount, day_s, row_text in findall(text):
                objects = objects_of.get(objects_s)
                if objects is None:
                    tokens = _object_tokens(objects_s)
                    objects = tuple(zip(tokens[::2], tokens[1::2], strict=True))
                    objects_of[objects_s] = objects
                day = days.get(day_s)
                if day is None and day_s not in days:
                    day = days[day_s] = dt.date(int(day_s[:4]), int(day_s[4:6]), int(day_s[6:]))
                account = accounts.setdefault(account, account)
                fields = ("TRANS", account, objects, Decimal(amount), day, row_text, None, "")
                append(new_row(SieTrans, fields))
            out.append(tuple(rows))
        return out


def _packed_crc(m: re.Match[str], crc: int) -> int:
    """The ``#KSUMMA`` CRC after the voucher ``m`` matched by :data:`_VOUCHER`."""
    g = m.groups("")
    reg = g[7] if g[7] != '""' else ""
    head = "#VER" + g[0] + g[1] + g[2] + g[3] + g[4] + g[5] + g[6] + reg + g[8] + g[9]
    crc = zlib.crc32(head.encode("cp437", "replace"), crc)
    for account, objects_s, amount, day, text in _PACKED_ROW.findall(g[10]):
        flat = "".join(_object_tokens(objects_s))
        record = "#TRANS" + account + flat + amount + (day if day != '""' else "") + text
        crc = zlib.crc32(record.encode("cp437", "replace"), crc)
    return crc


def _read_text(reader: _Reader, text: str) -> None:
    """Read ``text`` (only ``\\n`` line breaks, ending with one).

    Vouchers that :data:`_VOUCHER` matches whole are read in one step and keep
    their rows packed (see :meth:`SieVoucher.packed`); every other line goes
    through the general reader (:class:`_Lines`), which also takes a matched
    voucher when the lines before it left a voucher open.
    """
    start = _SPACE.match(text)
    first = start.end() if start is not None else 0
    if first == len(text):
        reader.error(0, "the file is empty: not an SIE file")
        return
    if text[first] != "#":
        line = text.count("\n", 0, first) + 1
        reader.error(line, "not an SIE file: the first line is not an SIE label (#...)")
        return
    lines = _Lines(reader)
    store = _PackedStore()
    packed_texts = store.texts
    keep = packed_texts.append
    packed = SieVoucher.packed_maker(store)
    dates = reader.dates
    vouchers = reader.vouchers
    count = text.count
    amounts = _PACKED_AMOUNT.findall
    cents_of = _PACKED_CENTS.findall
    zero = Decimal(0)
    pos, n = 0, 1  # n: the line number at pos
    idle, crc = True, False  # the state of `lines`, updated whenever it reads
    for m in _VOUCHER.finditer(text):
        start_pos, end_pos = m.span()
        if start_pos > pos:
            lines.feed_text(text[pos:start_pos], n)
            n += count("\n", pos, start_pos)
            idle = lines.head is None and lines.block is None and not lines.skip_block
            crc = lines.crc is not None
        pos = end_pos
        if not idle:
            lines.feed_text(m.group(), n)
            n += count("\n", start_pos, end_pos)
            idle = lines.head is None and lines.block is None and not lines.skip_block
            crc = lines.crc is not None
            continue
        (q_series, series, q_number, number, day_s, q_vtext, vtext, reg_s, q_sign, sign, rows) = (
            m.groups()
        )
        day = dates.get(day_s)
        if day is None:
            day = dates[day_s] = _date(day_s, "voucher date", dates)
        reg = None
        if reg_s is not None and reg_s != '""':
            reg = dates.get(reg_s) or _date(reg_s, "registration date", dates)
        if crc:
            lines.crc = _packed_crc(m, lines.crc or 0)
        # The sum, for the balance check: as whole öre when every amount has two
        # decimals (one per row: a '}' in the rows only closes an object list).
        size = rows.count("\n")
        cents = cents_of(rows.replace(".", "_"))
        if len(cents) == size and not sum(map(int, cents)):
            total = _ZERO_CENTS
        else:
            total = sum(map(Decimal, amounts(rows)), zero)
        head = (
            series or q_series,
            number or q_number,
            day,
            vtext or q_vtext or "",
            reg,
            sign or q_sign or "",
            n,
            total,
        )
        voucher = packed(head, len(packed_texts))
        keep(rows)
        if total:
            reader.unbalanced(voucher, total)
        vouchers.append(voucher)
        n += size + 3  # the #VER, '{' and '}' lines and one per row
    lines.n = n - 1
    if pos < len(text):
        lines.feed_text(text[pos:], n)
    lines.finish()


def _document(reader: _Reader) -> SieDocument:
    head = reader.head
    if "sie_type" not in head and reader.vouchers:
        reader.warn(0, "no #SIETYP: read as type 4")
    accounts = tuple(
        SieAccount(
            number=str(a["number"]),
            name=str(a.get("name", "")),
            type=str(a.get("type", "")),
            unit=str(a.get("unit", "")),
            sru=a.get("sru", ()),  # type: ignore[arg-type]
        )
        for a in reader.accounts.values()
    )
    return SieDocument(
        sie_type=int(head.get("sie_type", 4 if reader.vouchers else 1)),  # type: ignore[call-overload]
        flag=str(head.get("flag", "0")),
        program=head.get("program", ()),  # type: ignore[arg-type]
        format=str(head.get("format", "PC8")),
        generated=head.get("generated"),  # type: ignore[arg-type]
        generated_by=str(head.get("generated_by", "")),
        company_id=str(head.get("company_id", "")),
        org_number=str(head.get("org_number", "")),
        company_name=str(head.get("company_name", "")),
        address=head.get("address", ()),  # type: ignore[arg-type]
        fiscal_years=tuple(reader.years),
        tax_year=str(head.get("tax_year", "")),
        chart_type=str(head.get("chart_type", "")),
        currency=str(head.get("currency", "")),
        accounts=accounts,
        dimensions=tuple(reader.dimensions),
        objects=tuple(reader.objects),
        balances=tuple(reader.balances),
        period_balances=tuple(reader.period_balances),
        vouchers=tuple(reader.vouchers),
        unknown=tuple(reader.unknown),
        ksumma=head.get("ksumma"),  # type: ignore[arg-type]
    )
