"""Bundles: open usage logs and payments of a client, grouped into accounting documents.

A :class:`Bundle` is one document to send: an **invoice** (usage on account), a
**sales receipt** (usage paid at the time of use, with the payments that paid
it) or a **payment** (a later payment, applied to open invoices). It knows its
members, its lines (one per bookable resource, unit price and tax code), its
totals and its kind; it never mixes clients or currencies.

Bundles are derived deterministically: :func:`make_bundle` names a bundle after
its content (kind, client, currency, members), so the same open transactions
always give the same bundles with the same ids. Which transactions go together
is decided by a :class:`BundlingPolicy` (:class:`SmartAccounting` by default;
a host may supply its own), and :func:`plan_bundles` checks what a policy
proposes before anyone stores it.

A bundle is stored as a :class:`~syncstate.domain.records.SourceRecord` of kind
``bundle.invoice``, ``bundle.sales_receipt`` or ``bundle.payment`` (subject: the
client), so the export-state machine, the journal, idempotency keys, overwrite
and reset apply to bundles exactly as to any other record.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import json
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Protocol

import attrs

from syncstate.domain.records import RecordKey, SourceRecord
from syncstate.domain.transactions import Payment, UsageLog
from syncstate.errors import InputError
from syncstate.money import ZERO, quantize, to_decimal

__all__ = [
    "BUNDLE_KINDS",
    "Application",
    "Bundle",
    "BundleKind",
    "BundleLine",
    "BundlingPolicy",
    "OpenInvoice",
    "make_bundle",
    "open_invoices",
]


class BundleKind(enum.Enum):
    """The accounting document a bundle becomes."""

    INVOICE = "invoice"
    SALES_RECEIPT = "sales_receipt"
    PAYMENT = "payment"

    @property
    def record_kind(self) -> str:
        """The record kind a bundle of this kind is stored under."""
        return f"bundle.{self.value}"

    @property
    def prefix(self) -> str:
        """Short prefix of bundle ids of this kind."""
        return {"invoice": "INV", "sales_receipt": "SR", "payment": "PMT"}[self.value]

    @classmethod
    def of_record_kind(cls, kind: str) -> BundleKind:
        """The bundle kind stored under record kind ``kind``."""
        for member in cls:
            if member.record_kind == kind:
                return member
        raise InputError(f"record kind {kind!r} is not a bundle kind")


#: record kinds of bundles, in the order an export sends them (invoices before payments)
BUNDLE_KINDS: tuple[str, ...] = tuple(kind.record_kind for kind in BundleKind)


@attrs.frozen(kw_only=True)
class BundleLine:
    """One document line: a bookable resource at one unit price and tax code."""

    resource: str
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal
    tax_code: str = ""
    description: str = ""


@attrs.frozen
class Application:
    """Part of a payment applied to an invoice bundle."""

    invoice: str
    amount: Decimal


@attrs.frozen(kw_only=True)
class OpenInvoice:
    """An invoice bundle with an unpaid balance, as payments see it."""

    bundle_id: str
    date: dt.date
    currency: str
    balance: Decimal


def _members(keys: Iterable[RecordKey]) -> tuple[RecordKey, ...]:
    return tuple(sorted(set(keys)))


@attrs.frozen(kw_only=True)
class Bundle:
    """A group of one client's transactions that becomes one accounting document.

    ``total`` is the sum of the usage (invoice, sales receipt) or the payment's
    amount (payment); ``paid`` what payments in the bundle cover; ``applied``
    how a payment is spread over invoices. ``unapplied`` is the credit left.
    """

    bundle_id: str
    company: str
    client: str
    kind: BundleKind
    currency: str
    date: dt.date
    members: tuple[RecordKey, ...] = attrs.field(converter=_members)
    lines: tuple[BundleLine, ...] = ()
    total: Decimal = ZERO
    paid: Decimal = ZERO
    applied: tuple[Application, ...] = ()
    method: str = ""
    reference: str = ""

    @property
    def key(self) -> RecordKey:
        """The bundle's record key in the state store."""
        return RecordKey(self.company, self.kind.record_kind, self.bundle_id)

    @property
    def unapplied(self) -> Decimal:
        """Money received but not used: overpayment of a receipt, unapplied payment."""
        if self.kind is BundleKind.PAYMENT:
            return quantize(self.total - sum((a.amount for a in self.applied), ZERO))
        if self.kind is BundleKind.SALES_RECEIPT:
            return quantize(self.paid - self.total)
        return ZERO

    def to_record(self) -> SourceRecord:
        """The bundle as a record (all content in string fields)."""
        lines = [
            [ln.resource, str(ln.quantity), str(ln.unit_price), str(ln.amount), ln.tax_code,
             ln.description]
            for ln in self.lines
        ]  # fmt: skip
        return SourceRecord(
            key=self.key,
            on=self.date,
            subject=self.client,
            fields={
                "type": self.kind.value,
                "currency": self.currency,
                "total": str(self.total),
                "paid": str(self.paid),
                "unapplied": str(self.unapplied),
                "method": self.method,
                "reference": self.reference,
                "members": ",".join(f"{k.kind}:{k.source_id}" for k in self.members),
                "lines": json.dumps(lines, separators=(",", ":"), ensure_ascii=False),
                "applied": json.dumps(
                    [[a.invoice, str(a.amount)] for a in self.applied], separators=(",", ":")
                ),
            },
        )

    @classmethod
    def from_record(cls, record: SourceRecord) -> Bundle:
        """Read a bundle back from its record."""
        kind = BundleKind.of_record_kind(record.key.kind)
        data = record.data
        try:
            members = [
                RecordKey(record.key.company, *item.split(":", 1))
                for item in data.get("members", "").split(",")
                if item
            ]
            lines = tuple(
                BundleLine(
                    resource=r,
                    quantity=to_decimal(q),
                    unit_price=to_decimal(p),
                    amount=to_decimal(a),
                    tax_code=t,
                    description=d,
                )
                for r, q, p, a, t, d in json.loads(data.get("lines", "[]"))
            )
            applied = tuple(
                Application(inv, to_decimal(amount))
                for inv, amount in json.loads(data.get("applied", "[]"))
            )
            return cls(
                bundle_id=record.key.source_id,
                company=record.key.company,
                client=record.subject,
                kind=kind,
                currency=data["currency"],
                date=record.on,
                members=members,
                lines=lines,
                total=to_decimal(data.get("total", "0")),
                paid=to_decimal(data.get("paid", "0")),
                applied=applied,
                method=data.get("method", ""),
                reference=data.get("reference", ""),
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise InputError(f"record {record.key}: malformed bundle record ({exc})") from exc


def bundle_id(
    company: str, client: str, kind: BundleKind, currency: str, members: Iterable[RecordKey]
) -> str:
    """The deterministic id of a bundle with this content: ``INV-<20 hex>``."""
    parts = [company, client, kind.value, currency]
    parts += [f"{k.kind}:{k.source_id}" for k in sorted(set(members))]
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:20]
    return f"{kind.prefix}-{digest}"


def _lines(usage: Sequence[UsageLog]) -> tuple[BundleLine, ...]:
    groups: dict[tuple[str, str, Decimal], list[UsageLog]] = {}
    for log in usage:
        groups.setdefault((log.resource, log.tax_code, log.unit_price), []).append(log)
    out = []
    for (resource, tax_code, price), logs in sorted(groups.items()):
        descriptions = {log.description for log in logs}
        out.append(
            BundleLine(
                resource=resource,
                quantity=sum((log.quantity for log in logs), Decimal(0)),
                unit_price=price,
                amount=quantize(sum((log.total.amount for log in logs), ZERO)),
                tax_code=tax_code,
                description=descriptions.pop() if len(descriptions) == 1 else "",
            )
        )
    return tuple(out)


def make_bundle(
    company: str,
    kind: BundleKind,
    *,
    usage: Sequence[UsageLog] = (),
    payments: Sequence[Payment] = (),
    applied: Sequence[Application] = (),
) -> Bundle:
    """Build a bundle of one client and currency from its transactions.

    Raises :class:`~syncstate.errors.InputError` if the transactions mix
    clients or currencies, or do not fit the kind (an invoice has no payments,
    a payment bundle is exactly one payment).
    """
    transactions: list[UsageLog | Payment] = [*usage, *payments]
    if not transactions:
        raise InputError(f"a {kind.value} bundle needs at least one transaction")
    keys = [RecordKey(company, tx.KIND, tx.source_id) for tx in transactions]
    clients = sorted({tx.client for tx in transactions})
    currencies = sorted({tx.currency for tx in transactions})
    if len(clients) > 1:
        raise InputError(f"a bundle never mixes clients: {', '.join(clients)} in {keys[0]}, ...")
    if len(currencies) > 1:
        listed = ", ".join(currencies)
        raise InputError(f"a bundle never mixes currencies: {listed} for {clients[0]}")
    if kind is BundleKind.INVOICE and payments:
        raise InputError("an invoice bundle holds usage only; payments are applied to it")
    if kind is BundleKind.PAYMENT and (usage or len(payments) != 1):
        raise InputError("a payment bundle holds exactly one payment and no usage")
    if kind is not BundleKind.PAYMENT and not usage:
        raise InputError(f"a {kind.value} bundle needs usage")
    if kind is not BundleKind.PAYMENT and applied:
        raise InputError(f"only payments are applied to invoices, not a {kind.value}")
    paid = quantize(sum((p.amount for p in payments), ZERO))
    total = (
        paid
        if kind is BundleKind.PAYMENT
        else quantize(sum((log.total.amount for log in usage), ZERO))
    )
    if sum((a.amount for a in applied), ZERO) > total:
        raise InputError(f"payment {payments[0].source_id}: applied more than its amount")
    methods = sorted({p.method for p in payments if p.method})
    references = sorted({p.reference for p in payments if p.reference})
    return Bundle(
        bundle_id=bundle_id(company, clients[0], kind, currencies[0], keys),
        company=company,
        client=clients[0],
        kind=kind,
        currency=currencies[0],
        date=max(tx.date for tx in transactions),
        members=keys,
        lines=_lines(usage),
        total=total,
        paid=paid,
        applied=tuple(applied),
        method=",".join(methods),
        reference=",".join(references),
    )


def open_invoices(bundles: Iterable[Bundle]) -> list[OpenInvoice]:
    """Invoices with an unpaid balance after every payment bundle's applications.

    Oldest first: by date, then bundle id.
    """
    items = list(bundles)
    applied: dict[str, Decimal] = {}
    for bundle in items:
        for application in bundle.applied:
            before = applied.get(application.invoice, ZERO)
            applied[application.invoice] = before + application.amount
    out = [
        OpenInvoice(
            bundle_id=b.bundle_id,
            date=b.date,
            currency=b.currency,
            balance=quantize(b.total - applied.get(b.bundle_id, ZERO)),
        )
        for b in items
        if b.kind is BundleKind.INVOICE
    ]
    return sorted((o for o in out if o.balance > 0), key=lambda o: (o.date, o.bundle_id))


class BundlingPolicy(Protocol):
    """Decides, per transaction, which bundle it goes into.

    ``usage`` and ``payments`` are one client's open transactions (sorted by
    date, then id); ``invoices`` that client's existing invoices with an unpaid
    balance, oldest first. Returns the new bundles, built with
    :func:`make_bundle`. A transaction may be left open (in no bundle), never
    put in two; :func:`~syncstate.domain.bundle_plan.plan_bundles` checks that.
    """

    @property
    def name(self) -> str:
        """The policy's name, shown in reports and errors."""
        ...

    def bundle(
        self,
        company: str,
        client: str,
        usage: Sequence[UsageLog],
        payments: Sequence[Payment],
        invoices: Sequence[OpenInvoice],
    ) -> list[Bundle]:
        """The bundles for one client's open transactions."""
        ...
