"""Write a :class:`SieDocument` as SIE 4E (with balances) or 4I (vouchers only).

Output is CP437 (``#FORMAT PC8``) with CRLF-free LF line ends, every text field
quoted (``"`` and ``\\`` escaped with a backslash), amounts as plain decimals.
With ``ksumma=True`` the records are wrapped in an opening ``#KSUMMA`` and a
closing one carrying the CRC-32 the reader verifies. Reading the output gives
back a document equal to the one written (for 4I: without the balances).
"""

from __future__ import annotations

import datetime as dt
import re
import zlib
from collections.abc import Iterator
from decimal import Decimal

from syncstate.adapters.backends.sie.model import ObjectRef, SieDocument, SieTrans
from syncstate.adapters.backends.sie.parser import Token, ksumma_record
from syncstate.errors import InputError

__all__ = ["write_sie"]


def _quote(value: str) -> str:
    if "\n" in value or "\r" in value:
        raise InputError(f"SIE text {value!r} holds a line break, which SIE cannot store")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _date(value: dt.date | None) -> str:
    return "" if value is None else value.strftime("%Y%m%d")


def _num(value: Decimal | None) -> str:
    return "" if value is None else format(value, "f")


def _objects(objects: tuple[ObjectRef, ...]) -> tuple[str, ...]:
    return tuple(part for pair in objects for part in pair)


def _records(document: SieDocument, variant: str) -> Iterator[tuple[str, list[Token]]]:
    """Every record as ``(label, fields)``; ``{``/``}`` block lines as ``("{", [])``."""
    d = document
    yield "#FLAGGA", [d.flag]
    if d.program:
        yield "#PROGRAM", list(d.program)
    yield "#FORMAT", ["PC8"]
    if d.generated is not None:
        yield "#GEN", [_date(d.generated), *([d.generated_by] if d.generated_by else [])]
    yield "#SIETYP", [str(d.sie_type)]
    for comment in d.comments:
        yield "#PROSA", [comment]
    for label, value in (
        ("#FTYP", d.company_type),
        ("#FNR", d.company_id),
        ("#ORGNR", d.org_number),
        ("#BKOD", d.industry_code),
        ("#FNAMN", d.company_name),
    ):
        if value:
            yield label, [value]
    if d.address:
        yield "#ADRESS", list(d.address)
    for year in d.fiscal_years:
        yield "#RAR", [str(year.index), _date(year.start), _date(year.end)]
    if d.tax_year:
        yield "#TAXAR", [d.tax_year]
    if d.balance_date is not None:
        yield "#OMFATTN", [_date(d.balance_date)]
    if d.chart_type:
        yield "#KPTYP", [d.chart_type]
    if d.currency:
        yield "#VALUTA", [d.currency]
    for account in d.accounts:
        yield "#KONTO", [account.number, account.name]
        if account.type:
            yield "#KTYP", [account.number, account.type]
        if account.unit:
            yield "#ENHET", [account.number, account.unit]
        for code in account.sru:
            yield "#SRU", [account.number, code]
    for dim in d.dimensions:
        if dim.parent:
            yield "#UNDERDIM", [dim.number, dim.name, dim.parent]
        else:
            yield "#DIM", [dim.number, dim.name]
    for obj in d.objects:
        yield "#OBJEKT", [obj.dimension, obj.code, obj.name]
    for unknown in d.unknown:
        yield unknown.label, list(unknown.fields)
    if variant == "4E":
        for b in d.balances:
            qty: list[Token] = [_num(b.quantity)] if b.quantity is not None else []
            if b.kind in ("OIB", "OUB"):
                fields: list[Token] = [str(b.year), b.account, _objects(b.objects), _num(b.amount)]
                yield f"#{b.kind}", fields + qty
            else:
                yield f"#{b.kind}", [str(b.year), b.account, _num(b.amount), *qty]
        for p in d.period_balances:
            qty = [_num(p.quantity)] if p.quantity is not None else []
            yield (
                f"#{p.kind}",
                [str(p.year), p.period, p.account, _objects(p.objects), _num(p.amount), *qty],
            )
    for v in d.vouchers:
        head: list[Token] = [v.series, v.number, _date(v.date), v.text]
        if v.reg_date is not None or v.sign:
            head += [_date(v.reg_date), v.sign]
        yield "#VER", head
        yield "{", []
        for row in v.rows:
            yield f"#{row.kind}", _row_fields(row)
        yield "}", []


def _row_fields(row: SieTrans) -> list[Token]:
    fields: list[Token] = [row.account, _objects(row.objects), _num(row.amount)]
    tail: list[Token] = [_date(row.date), row.text, _num(row.quantity), row.sign]
    while tail and tail[-1] == "":
        tail.pop()
    return fields + tail


_BARE = re.compile(r"[0-9A-Za-z_.:+-]+")


def _field(value: Token) -> str:
    if isinstance(value, tuple):
        return "{" + " ".join(_quote(v) for v in value) + "}"
    if _BARE.fullmatch(value):
        return value
    return _quote(value)


def write_sie(document: SieDocument, *, variant: str = "4E", ksumma: bool = False) -> bytes:
    """``document`` as SIE bytes (CP437). ``variant`` is ``4E`` or ``4I``.

    4I (an import file of vouchers) leaves out ``#IB``/``#UB``/``#RES``/period
    balances. Raises :class:`InputError` for text that CP437 cannot hold.
    """
    if variant not in ("4E", "4I"):
        raise InputError(f"SIE variant {variant!r} is not 4E or 4I")
    lines: list[str] = []
    crc = 0
    records = list(_records(document, variant))
    # header records before the checksummed part: #FLAGGA stays first
    for index, (label, fields) in enumerate(records):
        if ksumma and index == 1:
            lines.append("#KSUMMA")
        if label in ("{", "}"):
            lines.append(label)
            continue
        text = " ".join([label, *(_field(f) for f in fields)])
        if label == "#TRANS" or label == "#RTRANS" or label == "#BTRANS":
            text = "\t" + text
        lines.append(text)
        if ksumma and index >= 1:
            crc = zlib.crc32(ksumma_record(label, fields), crc)
    if ksumma:
        lines.append(f"#KSUMMA {crc}")
    body = "\n".join(lines) + "\n"
    try:
        return body.encode("cp437")
    except UnicodeEncodeError as exc:
        bad = body[exc.start : exc.end]
        raise InputError(f"SIE output: {bad!r} cannot be written in CP437 (#FORMAT PC8)") from exc
