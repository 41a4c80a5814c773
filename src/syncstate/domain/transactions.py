"""Sales transactions of a client: usage logs and payments.

Typed views over :class:`~syncstate.domain.records.SourceRecord`, like
:class:`~syncstate.domain.records.TimeEntry`: a **usage log** says that a client
used a bookable resource (a room, a machine, an hour of a consultant) on a day,
for a quantity at a unit price; a **payment** says that a client paid an amount
on a day by some method. The record's ``subject`` is the client.

Both turn into records with ``to_record`` and back with ``from_record``; amounts
are ``Decimal`` with an explicit currency (:class:`~syncstate.money.Money`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import ClassVar

import attrs

from syncstate.domain.records import RecordKey, SourceRecord
from syncstate.errors import InputError
from syncstate.money import Money, quantize, to_decimal

__all__ = ["PAYMENT", "TRANSACTION_KINDS", "USAGE_LOG", "Payment", "UsageLog", "read_transaction"]

#: record kind of a usage log
USAGE_LOG = "usage_log"
#: record kind of a payment
PAYMENT = "payment"
#: the record kinds that bundling consumes
TRANSACTION_KINDS = (PAYMENT, USAGE_LOG)


def _quantity(value: object) -> Decimal:
    return to_decimal(value, what="quantity")


def _price(value: object) -> Decimal:
    return to_decimal(value, what="unit price")


def _optional_amount(value: object) -> Decimal | None:
    if value is None or value == "":
        return None
    return to_decimal(value, what="amount")


def _amount(value: object) -> Decimal:
    return to_decimal(value, what="amount")


def _currency(value: str) -> str:
    return Money.zero(value).currency


@contextlib.contextmanager
def _reading(record: SourceRecord, kind: str, what: str) -> Iterator[None]:
    """Read a record of ``kind`` back: refuse another kind, and name the record in any
    :class:`InputError` raised meanwhile (unless it already does)."""
    if record.key.kind != kind:
        raise InputError(f"record {record.key} is a {record.key.kind}, not {what}")
    try:
        yield
    except InputError as exc:
        if str(record.key) in str(exc):
            raise
        raise type(exc)(f"record {record.key}: {exc}") from exc


def _field(record: SourceRecord, name: str, *, default: str | None = None) -> str:
    value = record.data.get(name, default)
    if value is None:
        raise InputError(f"record {record.key}: field {name!r} is missing")
    return value


@attrs.frozen(kw_only=True)
class UsageLog:
    """A client used a bookable resource on a day: quantity × unit price = amount.

    ``amount`` defaults to ``quantity × unit_price`` rounded to cents; a host
    may pass its own (a discount, a minimum charge).
    """

    KIND: ClassVar[str] = USAGE_LOG

    source_id: str
    client: str
    date: dt.date
    resource: str
    quantity: Decimal = attrs.field(converter=_quantity)
    unit_price: Decimal = attrs.field(converter=_price)
    currency: str = attrs.field(converter=_currency)
    amount: Decimal | None = attrs.field(default=None, converter=_optional_amount)
    tax_code: str = ""
    description: str = ""

    def __attrs_post_init__(self) -> None:
        if not self.client.strip():
            raise InputError(f"usage log {self.source_id}: the client is empty")
        if not self.resource.strip():
            raise InputError(f"usage log {self.source_id}: the bookable resource is empty")
        if self.amount is None:
            object.__setattr__(self, "amount", quantize(self.quantity * self.unit_price))

    @property
    def total(self) -> Money:
        """The amount with its currency."""
        assert self.amount is not None  # set in __attrs_post_init__
        return Money(self.amount, self.currency)

    def to_record(self, company: str) -> SourceRecord:
        """The usage log as a :class:`SourceRecord` of ``company``."""
        return SourceRecord(
            key=RecordKey(company, self.KIND, self.source_id),
            on=self.date,
            subject=self.client,
            fields={
                "resource": self.resource,
                "quantity": str(self.quantity),
                "unit_price": str(self.unit_price),
                "amount": str(self.amount),
                "currency": self.currency,
                "tax_code": self.tax_code,
                "description": self.description,
            },
        )

    @classmethod
    def from_record(cls, record: SourceRecord) -> UsageLog:
        """Read a usage log back from a stored record; errors name the record."""
        with _reading(record, cls.KIND, "a usage log"):
            return cls(
                source_id=record.key.source_id,
                client=record.subject,
                date=record.on,
                resource=_field(record, "resource"),
                quantity=_field(record, "quantity", default="1"),
                unit_price=_field(record, "unit_price", default="0"),
                currency=_field(record, "currency"),
                amount=record.data.get("amount") or None,
                tax_code=record.data.get("tax_code", ""),
                description=record.data.get("description", ""),
            )


@attrs.frozen(kw_only=True)
class Payment:
    """A client paid ``amount`` on a day, by ``method`` (cash, card, cheque, ...)."""

    KIND: ClassVar[str] = PAYMENT

    source_id: str
    client: str
    date: dt.date
    amount: Decimal = attrs.field(converter=_amount)
    currency: str = attrs.field(converter=_currency)
    method: str = ""
    reference: str = ""

    def __attrs_post_init__(self) -> None:
        if not self.client.strip():
            raise InputError(f"payment {self.source_id}: the client is empty")
        if self.amount <= 0:
            raise InputError(f"payment {self.source_id}: amount {self.amount} is not positive")

    @property
    def total(self) -> Money:
        """The amount with its currency."""
        return Money(self.amount, self.currency)

    def to_record(self, company: str) -> SourceRecord:
        """The payment as a :class:`SourceRecord` of ``company``."""
        return SourceRecord(
            key=RecordKey(company, self.KIND, self.source_id),
            on=self.date,
            subject=self.client,
            fields={
                "amount": str(self.amount),
                "currency": self.currency,
                "method": self.method,
                "reference": self.reference,
            },
        )

    @classmethod
    def from_record(cls, record: SourceRecord) -> Payment:
        """Read a payment back from a stored record; errors name the record."""
        with _reading(record, cls.KIND, "a payment"):
            return cls(
                source_id=record.key.source_id,
                client=record.subject,
                date=record.on,
                amount=_field(record, "amount"),
                currency=_field(record, "currency"),
                method=record.data.get("method", ""),
                reference=record.data.get("reference", ""),
            )


def read_transaction(record: SourceRecord) -> UsageLog | Payment:
    """The typed view of a usage-log or payment record."""
    if record.key.kind == USAGE_LOG:
        return UsageLog.from_record(record)
    if record.key.kind == PAYMENT:
        return Payment.from_record(record)
    raise InputError(f"record {record.key} is a {record.key.kind}, not a usage log or payment")
