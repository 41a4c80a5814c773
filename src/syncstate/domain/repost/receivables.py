"""Receivables repost: restore outstanding amounts, clear dates and flags, payment
types and GL amounts of every receivable document from its transactions.

Two layers. The public one works on :class:`ReceivableDocument` values and
returns :class:`ReceivableBalance` values with ``Decimal`` money. Underneath,
:func:`repost_rows` is the lean kernel the full and incremental reposts run:
plain tuples, integer cents and date ordinals, one pass over documents and
one over allocations. Conversion between the two is exact (:func:`cents`
refuses sub-cent amounts instead of rounding them).

Signs are as the ledger stores them: invoices, interest, deposits and cash
receipts positive; credit notes and reversals negative; refunds positive.
Allocation amounts are positive: the amount a payment settles on an invoice.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Collection, Iterable, Mapping
from decimal import Decimal
from typing import Any

import attrs

from syncstate.domain.repost.findings import Code, Finding, Scope
from syncstate.errors import MoneyError
from syncstate.notebook import Tabular

__all__ = [
    "AllocRow",
    "Allocation",
    "BalanceRow",
    "DepositTotals",
    "DocKind",
    "DocRow",
    "GLAmounts",
    "PaymentType",
    "ReceivableBalance",
    "ReceivableDocument",
    "ReceivablesResult",
    "balance_from_row",
    "cents",
    "from_cents",
    "open_receivables",
    "receivables_gl_balance",
    "repost_receivables",
    "repost_rows",
    "to_rows",
]


class DocKind(enum.Enum):
    """Kinds of receivable documents; values are the interchange names."""

    INVOICE = "invoice"
    INTEREST = "interest"
    CASH_RECEIPT = "cash_receipt"
    CREDIT_NOTE = "credit_note"
    REVERSAL = "reversal_cash_receipt"
    REFUND = "credit_note_refund"
    DEPOSIT = "deposit"


class PaymentType(enum.Enum):
    """How an invoice was paid: not yet, by one payment, or by several."""

    NONE = "none"
    FULL = "full"
    MULTIPLE = "multiple"


#: kind codes used in rows (position in :class:`DocKind`)
KINDS: tuple[DocKind, ...] = tuple(DocKind)
INV, INT, CR, CN, REV, REF, DEP = range(7)
#: payment type codes in rows; ``-1`` means "not an invoice"
PAYMENT_TYPES: tuple[PaymentType, ...] = tuple(PaymentType)

#: (id, kind code, client, date ordinal, amount in cents, link)
DocRow = tuple[str, int, str | None, int, int, str | None]
#: (from id, to id, amount in cents, date ordinal)
AllocRow = tuple[str, str, int, int]
#: (id, outstanding, clear date ordinal, clear flag, payment type code, bank, receivables)
BalanceRow = tuple[str, int, int | None, bool, int, int, int]
#: a deposit's client and miscellaneous receipts: (sum, miscellaneous sum, last date)
DepositTotals = tuple[int, int, int | None]


def cents(amount: Decimal, *, what: str = "amount") -> int:
    """``amount`` as integer cents, exactly; sub-cent amounts raise :class:`MoneyError`."""
    scaled = amount.scaleb(2)
    if scaled != scaled.to_integral_value():
        raise MoneyError(f"{what}: {amount} has more than two decimal places")
    return int(scaled)


def from_cents(value: int) -> Decimal:
    """Integer cents back to a ``Decimal`` with two places."""
    return Decimal(value).scaleb(-2)


@attrs.frozen
class Allocation:
    """Part of a cash receipt or credit note applied to an invoice, on a date."""

    to: str
    amount: Decimal
    date: dt.date


@attrs.frozen(kw_only=True)
class ReceivableDocument:
    """One receivable transaction as the ledger stores it.

    ``reverses`` (reversal → cash receipt), ``refunds`` (refund → credit note)
    and ``deposit`` (cash receipt → deposit) link documents; a document has at
    most one of them.
    """

    id: str
    kind: DocKind
    client: str | None
    date: dt.date
    amount: Decimal
    allocations: tuple[Allocation, ...] = ()
    reverses: str | None = None
    refunds: str | None = None
    deposit: str | None = None

    @property
    def link(self) -> str | None:
        """The one document this document points at, if any."""
        return self.reverses or self.refunds or self.deposit


@attrs.frozen
class GLAmounts:
    """The amounts a document posts to the bank and receivables accounts."""

    bank: Decimal
    receivables: Decimal


@attrs.frozen(kw_only=True)
class ReceivableBalance:
    """The derived balances of one document after a repost."""

    id: str
    outstanding: Decimal
    clear_date: dt.date | None
    clear_flag: bool
    payment_type: PaymentType | None
    gl: GLAmounts


@attrs.frozen
class ReceivablesResult(Tabular):
    """Balances in document order, and the findings the repost reported."""

    balances: tuple[ReceivableBalance, ...]
    findings: tuple[Finding, ...]

    def to_records(self) -> list[dict[str, Any]]:
        """One plain row per document (amounts ``Decimal``, the clear date a ``date``)."""
        return [
            {
                "document": b.id,
                "outstanding": b.outstanding,
                "clear_date": b.clear_date,
                "clear_flag": b.clear_flag,
                "payment_type": None if b.payment_type is None else b.payment_type.value,
                "gl_bank": b.gl.bank,
                "gl_receivables": b.gl.receivables,
            }
            for b in self.balances
        ]

    def _html_caption(self) -> str:
        return f"receivables repost: {len(self.balances)} documents, {len(self.findings)} findings"

    def balance(self, document_id: str) -> ReceivableBalance:
        """The balance of one document (``KeyError`` when unknown)."""
        for item in self.balances:
            if item.id == document_id:
                return item
        raise KeyError(document_id)


def to_rows(documents: Iterable[ReceivableDocument]) -> tuple[list[DocRow], list[AllocRow]]:
    """Documents as kernel rows; amounts must be whole cents (named on error)."""
    kind_code = {kind: code for code, kind in enumerate(KINDS)}
    docs: list[DocRow] = []
    allocs: list[AllocRow] = []
    for doc in documents:
        what = f"document {doc.id}"
        docs.append(
            (
                doc.id,
                kind_code[doc.kind],
                doc.client,
                doc.date.toordinal(),
                cents(doc.amount, what=f"{what} amount"),
                doc.link,
            )
        )
        for n, alloc in enumerate(doc.allocations):
            allocs.append(
                (
                    doc.id,
                    alloc.to,
                    cents(alloc.amount, what=f"{what} allocation {n + 1}"),
                    alloc.date.toordinal(),
                )
            )
    return docs, allocs


def balance_from_row(row: BalanceRow) -> ReceivableBalance:
    """A kernel balance row as a :class:`ReceivableBalance`."""
    doc_id, outstanding, clear, flag, ptype, bank, receivables = row
    return ReceivableBalance(
        id=doc_id,
        outstanding=from_cents(outstanding),
        clear_date=None if clear is None else dt.date.fromordinal(clear),
        clear_flag=flag,
        payment_type=None if ptype < 0 else PAYMENT_TYPES[ptype],
        gl=GLAmounts(from_cents(bank), from_cents(receivables)),
    )


def repost_receivables(
    documents: Iterable[ReceivableDocument], *, period_start: dt.date
) -> ReceivablesResult:
    """Restore every document's balances; ``period_start`` opens the current period."""
    docs, allocs = to_rows(documents)
    rows, findings = repost_rows(docs, allocs, period_start.toordinal())
    return ReceivablesResult(tuple(balance_from_row(r) for r in rows), tuple(findings))


def _finding(code: Code, row: DocRow, message: str, **values: str | None) -> Finding:
    return Finding(
        code=code,
        scope=Scope(client=row[2], document=row[0]),
        message=f"{KINDS[row[1]].value} {row[0]}: {message}",
        expected=values.get("expected"),
        actual=values.get("actual"),
    )


_MULTI = "\x00multiple"


def _links(
    index: dict[str, DocRow], links: list[DocRow], findings: list[Finding]
) -> tuple[dict[str, int], dict[str, int], dict[str, int], dict[str, int]]:
    """Resolve reversals, refunds and deposit links.

    Returns (reversal date by receipt, applied cents, last date, misc cents by deposit).
    """
    reversed_on: dict[str, int] = {}
    reversal_by: dict[str, DocRow] = {}
    applied: dict[str, int] = {}
    last: dict[str, int] = {}
    misc: dict[str, int] = {}
    expect = {REV: CR, REF: CN, CR: DEP}
    # only reversals depend on order (the earliest of two reversals counts)
    reversals = sorted((r for r in links if r[1] == REV), key=lambda r: (r[3], r[0]))
    for row in (*(r for r in links if r[1] != REV), *reversals):
        _doc_id, kind, client, day, amount, link = row
        target = index.get(link or "")
        if target is None:
            findings.append(_finding(Code.AR_MISSING_DOCUMENT, row, f"links to missing {link}"))
            continue
        if target[1] != expect[kind]:
            want = KINDS[expect[kind]].value
            findings.append(
                _finding(Code.AR_BAD_LINK, row, f"links to {link}, which is not a {want}")
            )
            continue
        if kind == REV:
            if target[2] != client:
                findings.append(
                    _finding(Code.AR_CROSS_CLIENT, row, f"reverses {link} of another client")
                )
                continue
            key = target[0]
            if key in reversed_on:
                first = reversal_by[key][0]
                findings.append(
                    _finding(Code.AR_BAD_LINK, row, f"{link} already reversed by {first}")
                )
                continue
            reversed_on[key] = day
            reversal_by[key] = row
            if amount != -target[4]:
                findings.append(
                    _finding(
                        Code.AR_REVERSAL_AMOUNT,
                        row,
                        f"does not reverse the whole of {link}",
                        expected=str(from_cents(-target[4])),
                        actual=str(from_cents(amount)),
                    )
                )
        else:
            # a refund pays out a credit note; a receipt fills a deposit
            key = target[0]
            applied[key] = applied.get(key, 0) + amount
            if day > last.get(key, day - 1):
                last[key] = day
            if kind == CR and client is None:
                misc[key] = misc.get(key, 0) + amount
    return reversed_on, applied, last, misc


def repost_rows(
    docs: Iterable[DocRow],
    allocs: Iterable[AllocRow],
    period_start: int,
    *,
    only: Collection[str] | None = None,
    deposits: Mapping[str, DepositTotals] | None = None,
) -> tuple[list[BalanceRow], list[Finding]]:
    """The kernel: balance rows for ``docs`` (or just the ids in ``only``) and findings.

    ``period_start`` is the ordinal of the current period's first day. Findings
    are sorted by document and code so two runs over the same ledger agree.
    ``deposits`` gives pre-aggregated receipt totals of some deposits, so a
    scoped repost of a deposit need not read every receipt in it.
    """
    findings: list[Finding] = []
    index: dict[str, DocRow] = {}
    order: list[DocRow] = []
    links: list[DocRow] = []
    for row in docs:
        if row[0] in index:
            findings.append(_finding(Code.AR_DUPLICATE_ID, row, "id used more than once"))
            continue
        index[row[0]] = row
        order.append(row)
        if row[5] is not None and row[1] in (REV, REF, CR):
            links.append(row)
        elif row[1] == REV:
            findings.append(_finding(Code.AR_BAD_LINK, row, "names no cash receipt to reverse"))
    reversed_on, applied, last, misc = _links(index, links, findings)
    for dep_id, (total, misc_total, last_day) in (deposits or {}).items():
        if dep_id in index and index[dep_id][1] == DEP:
            applied[dep_id], misc[dep_id] = total, misc_total
            last.pop(dep_id, None)
            if last_day is not None:
                last[dep_id] = last_day

    payer: dict[str, str] = {}
    for src_id, to, amount, day in allocs:
        if src_id in reversed_on:
            continue
        src = index[src_id]
        target = index.get(to)
        if (src[1] != CR and src[1] != CN) or src[2] is None:
            findings.append(_finding(Code.AR_BAD_LINK, src, f"cannot allocate to {to}"))
            continue
        if target is None:
            findings.append(_finding(Code.AR_MISSING_DOCUMENT, src, f"allocates to missing {to}"))
            continue
        if target[1] > INT:
            findings.append(_finding(Code.AR_BAD_LINK, src, f"allocates to {to}, not an invoice"))
            continue
        if target[2] != src[2]:
            findings.append(
                _finding(Code.AR_CROSS_CLIENT, src, f"allocates to {to} of client {target[2]}")
            )
            continue
        applied[to] = applied.get(to, 0) + amount
        applied[src_id] = applied.get(src_id, 0) + amount
        if day > last.get(to, day - 1):
            last[to] = day
        if day > last.get(src_id, day - 1):
            last[src_id] = day
        first = payer.get(to)
        if first is None:
            payer[to] = src_id
        elif first != src_id:
            payer[to] = _MULTI

    wanted = None if only is None else set(only)
    rows: list[BalanceRow] = []
    for row in order:
        doc_id, kind, client, day, amount, _link = row
        if wanted is not None and doc_id not in wanted:
            continue
        ptype = -1
        if kind <= INT:
            outstanding = amount - applied.get(doc_id, 0)
            first = payer.get(doc_id)
            ptype = 0 if first is None else (2 if first == _MULTI else 1)
            bank, receivables = 0, amount
        elif kind == CR:
            bank, receivables = amount, -amount
            if client is None:
                rows.append((doc_id, 0, day, day < period_start, -1, amount, 0))
                continue
            if doc_id in reversed_on:
                clear = reversed_on[doc_id]
                rows.append((doc_id, 0, clear, clear < period_start, -1, bank, receivables))
                continue
            outstanding = amount - applied.get(doc_id, 0)
        elif kind == CN:
            outstanding = amount + applied.get(doc_id, 0)
            bank, receivables = 0, amount
        elif kind == DEP:
            outstanding = amount - applied.get(doc_id, 0)
            bank, receivables = amount, amount - misc.get(doc_id, 0)
        else:
            if kind == REV:
                bank, receivables = amount, (0 if client is None else -amount)
            else:
                bank, receivables = 0, amount
            rows.append((doc_id, 0, day, day < period_start, -1, bank, receivables))
            continue
        if outstanding == 0:
            clear = last.get(doc_id, day)
            rows.append((doc_id, 0, clear, clear < period_start, ptype, bank, receivables))
            continue
        if (outstanding > 0) if kind == CN else (outstanding < 0):
            findings.append(
                _finding(
                    Code.AR_OVER_APPLIED,
                    row,
                    "more is applied than the amount",
                    expected=str(from_cents(amount)),
                    actual=str(from_cents(amount - outstanding)),
                )
            )
        rows.append((doc_id, outstanding, None, False, ptype, bank, receivables))
    if wanted is not None:
        findings = [f for f in findings if f.scope.document in wanted]
    findings.sort(key=lambda f: (f.scope.document or "", f.code.value, f.message))
    return rows, findings


_AR_EFFECT = {INV: 1, INT: 1, CN: 1, CR: -1}


def open_receivables(docs: Iterable[DocRow], rows: Iterable[BalanceRow]) -> int:
    """What the customers owe, in cents, from outstanding amounts.

    Invoices, interest and credit notes count as they stand; a cash receipt's
    unapplied part is money received, so it counts against the balance.
    """
    kinds = {row[0]: row[1] for row in docs}
    return sum(_AR_EFFECT.get(kinds[row[0]], 0) * row[1] for row in rows)


def receivables_gl_balance(docs: Iterable[DocRow], rows: Iterable[BalanceRow]) -> int:
    """The receivables control account, in cents, from the restored GL amounts.

    A deposit's receivables line summarises its client cash receipts, which post
    their own lines, so deposits are left out to count each receipt once.
    """
    kinds = {row[0]: row[1] for row in docs}
    return sum(row[6] for row in rows if kinds[row[0]] != DEP)
