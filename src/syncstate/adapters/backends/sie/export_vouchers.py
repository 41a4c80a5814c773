"""Documents rendered as SIE 4I vouchers (``#VER`` with balanced ``#TRANS`` rows); pure.

:class:`SieExportMapping` maps the host's ids to BAS account numbers: ``accounts`` for
the items and accounts named by document lines, ``receivable`` (default ``1510``
Kundfordringar) and ``bank`` (default ``1930`` Företagskonto). :func:`voucher_rows`
turns a :class:`~syncstate.ports.Document` into rows that sum to zero:

==================  ============================================================
kind                rows
==================  ============================================================
``invoice``         debit ``receivable`` with the total, credit each line's account
``credit_note``     the invoice's rows negated
``sales_receipt``   as an invoice, with ``bank`` instead of ``receivable``
``payment``         debit ``bank``, credit ``receivable`` (field ``amount`` or the lines)
``manual_journal``  each line to its account with its signed amount (must balance)
==================  ============================================================

Object lists come from the document's ``objects`` field (``DIM:CODE[,DIM:CODE...]``,
e.g. ``6:P100`` for project P100) and apply to every row. The voucher text ends with the
marker ``[syncstate:<idempotency key>]``, which is how the export back end finds a
voucher again (:func:`key_in_text`). Amounts are ``Decimal`` rounded to öre.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from types import MappingProxyType

import attrs

from syncstate.adapters.backends.sie.model import ObjectRef, SieTrans
from syncstate.errors import RemoteValidationError, UnmappedReference
from syncstate.money import quantize, to_decimal
from syncstate.ports import Document, DocumentLine

__all__ = [
    "KINDS",
    "SieExportMapping",
    "key_in_text",
    "marker",
    "reversal_marker",
    "reversed_in_text",
    "voucher_rows",
    "voucher_text",
]

KINDS = ("invoice", "credit_note", "sales_receipt", "payment", "manual_journal")
_MARK = "[syncstate:"
_REVERSAL = "[syncstate-reversal:"


def _frozen(value: Mapping[str, str] | None) -> Mapping[str, str]:
    return MappingProxyType({str(k): str(v) for k, v in (value or {}).items()})


def _check_account(_instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not value.isdigit():
        raise ValueError(f"{attribute.name} must be an account number, got {value!r}")


@attrs.frozen(kw_only=True)
class SieExportMapping:
    """Host ids → account numbers, plus the receivable and bank accounts (read-only)."""

    accounts: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen)
    receivable: str = attrs.field(default="1510", validator=_check_account)
    bank: str = attrs.field(default="1930", validator=_check_account)
    #: account names written as ``#KONTO`` (accounts not listed are named by number)
    names: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen)

    def account(self, host_id: str, *, record: str) -> str:
        """The account number for ``host_id`` (an item or account of the host)."""
        number = self.accounts.get(host_id)
        if number is None:
            raise UnmappedReference(
                f"account {host_id!r} has no SIE account number; map it before exporting",
                what="account",
                host_id=host_id,
                record=record,
            )
        return number


def marker(key: str) -> str:
    """The marker a voucher's text carries for its idempotency key."""
    return f"{_MARK}{key}]"


def reversal_marker(voucher_id: str) -> str:
    """The marker of the reversal of voucher ``voucher_id`` (``A-12``)."""
    return f"{_REVERSAL}{voucher_id}]"


def _last(text: str, prefix: str) -> str | None:
    start = text.rfind(prefix)
    if start < 0:
        return None
    end = text.find("]", start)
    return text[start + len(prefix) : end] if end > start else None


def key_in_text(text: str) -> str | None:
    """The idempotency key in a voucher text, if it carries one."""
    return _last(text, _MARK)


def reversed_in_text(text: str) -> str | None:
    """The voucher id a reversal voucher's text names, if it is one."""
    return _last(text, _REVERSAL)


def voucher_text(document: Document, key: str) -> str:
    """``<memo or kind and number> [syncstate:<key>]``; no line breaks (SIE cannot hold them)."""
    head = document.memo or " ".join(p for p in (document.kind, document.doc_number or "") if p)
    return " ".join(f"{head} {marker(key)}".split())


def _objects(document: Document, record: str) -> tuple[ObjectRef, ...]:
    text = document.fields.get("objects", "")
    out = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        dim, sep, code = part.partition(":")
        if not sep or not dim.strip().isdigit() or not code.strip():
            raise RemoteValidationError(
                f"objects must be DIM:CODE[,DIM:CODE...], got {text!r}", record=record
            )
        out.append((dim.strip(), code.strip()))
    return tuple(out)


def _amount(line: DocumentLine) -> Decimal:
    return quantize(line.amount) if line.amount else quantize(line.quantity * line.unit_price)


def voucher_rows(document: Document, mapping: SieExportMapping) -> tuple[SieTrans, ...]:
    """The balanced ``#TRANS`` rows of ``document`` (:class:`RemoteValidationError` if none)."""
    record = str(document.source)
    kind = document.kind
    if kind not in KINDS:
        raise RemoteValidationError(
            f"the SIE export takes no document of kind {kind!r} (known: {', '.join(KINDS)})",
            record=record,
        )
    objects = _objects(document, record)
    if kind == "payment":
        if document.fields.get("amount"):
            text = document.fields["amount"]
            total = quantize(to_decimal(text, what=f"record {record}: amount"))
        else:
            total = quantize(sum((_amount(line) for line in document.lines), Decimal(0)))
        pairs = [(mapping.bank, total), (mapping.receivable, -total)]
    elif kind == "manual_journal":
        pairs = [(mapping.account(ln.item, record=record), _amount(ln)) for ln in document.lines]
    else:
        if not document.lines:
            raise RemoteValidationError(f"a {kind} needs at least one line", record=record)
        sign = Decimal(-1) if kind == "credit_note" else Decimal(1)
        credits = [
            (mapping.account(ln.item, record=record), -sign * _amount(ln)) for ln in document.lines
        ]
        debit = mapping.bank if kind == "sales_receipt" else mapping.receivable
        pairs = [(debit, -sum((a for _acc, a in credits), Decimal(0))), *credits]
    rows = tuple(
        SieTrans("TRANS", account, objects, amount, text=_row_text(document, i))
        for i, (account, amount) in enumerate(pairs)
        if amount
    )
    if len(rows) < 2 or sum((r.amount for r in rows), Decimal(0)) != 0:
        raise RemoteValidationError(
            f"the {kind} does not make a balanced voucher of two rows or more", record=record
        )
    return rows


def _row_text(document: Document, index: int) -> str:
    lines = document.lines
    if document.kind in ("payment",) or not lines:
        return ""
    position = index if document.kind == "manual_journal" else index - 1
    if 0 <= position < len(lines):
        return " ".join(lines[position].description.split())
    return ""
