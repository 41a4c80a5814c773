"""Usage logs and payments from a CSV file, checked in full before anything is stored.

``syncstate bundle import`` reads its file with :func:`read_transactions_csv`.
Every refusal is one :class:`~syncstate.errors.InputError` line naming the file
and the line (``tx.csv:3: ...``): bytes that are not UTF-8 (a leading BOM is
skipped), CSV that does not parse (a field over the csv module's size limit),
a missing column, a line with more or fewer fields than the header, an unknown
``type``, a bad date, and numbers outside :mod:`syncstate.money`'s range:
amounts with at most 15 integer digits and the currency's decimals, quantities
and unit prices with at most 6 decimals, ``quantity × unit_price`` itself an
amount in range, and never exponent notation.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal, localcontext
from pathlib import Path

from syncstate.domain.records import SourceRecord
from syncstate.domain.transactions import Payment, UsageLog
from syncstate.errors import InputError
from syncstate.money import (
    CENT,
    MAX_INTEGER_DIGITS,
    format_amount,
    parse_amount,
    parse_quantity,
    quantize,
)
from syncstate.periods import parse_date
from syncstate.services.json_input import label

__all__ = ["CSV_COLUMNS", "REQUIRED_COLUMNS", "read_transactions_csv"]

#: the columns a transactions file may have, in the documented order
CSV_COLUMNS = (
    "type", "id", "client", "date", "resource", "quantity", "unit_price", "amount",
    "currency", "tax_code", "description", "method", "reference",
)  # fmt: skip
#: the columns every transactions file must have
REQUIRED_COLUMNS = ("type", "id", "client", "date", "currency")
_LIMIT = Decimal(10) ** MAX_INTEGER_DIGITS


def _text(path: Path, name: str) -> str:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{name}: cannot read: {exc.strerror or type(exc).__name__}") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise InputError(
            f"{name}:{line}: not UTF-8 text (byte 0x{raw[exc.start]:02x}); save the file as UTF-8"
        ) from None


def _usage_amount(quantity: Decimal, unit_price: Decimal) -> None:
    """Refuse a ``quantity × unit_price`` that is not an amount in range."""
    with localcontext() as ctx:
        ctx.prec = 2 * (MAX_INTEGER_DIGITS + 8)  # the product is exact
        total = quantize(quantity * unit_price, CENT)
    if total.copy_abs() >= _LIMIT:
        raise InputError(
            f"quantity × unit price = {format_amount(total)} is out of range: at most "
            f"{MAX_INTEGER_DIGITS} digits before the decimal point"
        )


def _record(row: dict[str, str], company: str) -> SourceRecord:
    kind = row["type"].strip()
    currency = row["currency"]
    source_id, client, day = row["id"], row["client"], parse_date(row["date"])
    tx: UsageLog | Payment
    if kind == "usage_log":
        quantity = parse_quantity(row.get("quantity") or "1", what="quantity")
        unit_price = parse_quantity(row.get("unit_price") or "0", what="unit price")
        amount = row.get("amount") or None
        if amount is None:
            _usage_amount(quantity, unit_price)
        else:
            amount = format_amount(parse_amount(amount, currency=currency))
        tx = UsageLog(
            source_id=source_id,
            client=client,
            date=day,
            resource=row.get("resource") or "",
            quantity=quantity,
            unit_price=unit_price,
            amount=amount,
            currency=currency,
            tax_code=row.get("tax_code") or "",
            description=row.get("description") or "",
        )
    elif kind == "payment":
        tx = Payment(
            source_id=source_id,
            client=client,
            date=day,
            amount=parse_amount(row.get("amount") or "", currency=currency),
            currency=currency,
            method=row.get("method") or "",
            reference=row.get("reference") or "",
        )
    else:
        raise InputError(f"type {label(kind, 40)!r} is not usage_log or payment")
    return tx.to_record(company)


def read_transactions_csv(path: Path, company: str) -> list[SourceRecord]:
    """Every usage log and payment in the CSV file at ``path``, as ``company``'s records.

    All or nothing: the first problem raises :class:`InputError` naming the file
    and line, and no record is returned.
    """
    name = label(str(path), 200)
    if not path.is_file():
        raise InputError(f"{name}: no such file")
    reader = csv.reader(io.StringIO(_text(path, name), newline=""))
    records = []
    try:
        header = [column.strip() for column in next(reader, [])]
        missing = [c for c in REQUIRED_COLUMNS if c not in header]
        if missing:
            raise InputError(f"missing column(s) {', '.join(missing)} in the header")
        for fields in reader:
            if not fields:
                continue  # a blank line
            if len(fields) != len(header):
                raise InputError(f"{len(fields)} field(s), the header has {len(header)}")
            records.append(_record(dict(zip(header, fields, strict=True)), company))
    except csv.Error as exc:
        raise InputError(f"{name}:{reader.line_num}: not valid CSV: {exc}") from None
    except InputError as exc:
        raise InputError(f"{name}:{reader.line_num}: {' '.join(str(exc).split())}") from None
    return records
