"""Money: ``decimal.Decimal`` amounts with an explicit currency, never ``float``.

One module owns numbers. :func:`to_decimal` is the single constructor for amounts
from outside (strings, ints, Decimals); floats and bools are refused because a
binary float cannot hold most cents exactly. :class:`Money` pairs an amount with
its currency and refuses arithmetic across currencies. One rounding rule,
:data:`ROUNDING` (half up, as ledgers and invoices round), applied by :func:`quantize`.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import attrs

from syncstate.errors import MoneyError

__all__ = ["CENT", "ROUNDING", "ZERO", "Money", "quantize", "to_decimal"]

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
ROUNDING = ROUND_HALF_UP


def to_decimal(value: object, *, what: str = "amount") -> Decimal:
    """Turn ``value`` (``Decimal``, ``int`` or a decimal string) into a ``Decimal``.

    Raises :class:`MoneyError` naming ``what`` for floats, bools, non-finite
    values and anything that does not parse.
    """
    if isinstance(value, bool | float):
        raise MoneyError(f"{what}: {value!r} is a {type(value).__name__}; use a decimal string")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            raise MoneyError(f"{what}: {value!r} is not a decimal number") from None
    else:
        raise MoneyError(f"{what}: {value!r} ({type(value).__name__}) is not a decimal amount")
    if not result.is_finite():
        raise MoneyError(f"{what}: {value!r} is not a finite amount")
    return result


def quantize(amount: Decimal, exponent: Decimal = CENT) -> Decimal:
    """Round ``amount`` to ``exponent`` (cents by default) with :data:`ROUNDING`."""
    return amount.quantize(exponent, rounding=ROUNDING)


def _currency(value: str) -> str:
    code = value.strip().upper()
    if len(code) != 3 or not code.isalpha():
        raise MoneyError(f"currency {value!r} is not a three-letter ISO 4217 code")
    return code


@attrs.frozen
class Money:
    """An amount in one currency. Arithmetic refuses mixed currencies."""

    amount: Decimal = attrs.field(converter=to_decimal)
    currency: str = attrs.field(converter=_currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        """The zero amount in ``currency``."""
        return cls(ZERO, currency)

    @classmethod
    def sum(cls, items: Iterable[Money], currency: str) -> Money:
        """Sum ``items``, all in ``currency``; an empty iterable gives zero."""
        total = cls.zero(currency)
        for item in items:
            total = total + item
        return total

    def _check(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise MoneyError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise MoneyError(f"cannot combine {self.currency} with {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._check(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._check(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __mul__(self, factor: Decimal | int) -> Money:
        return Money(self.amount * to_decimal(factor, what="factor"), self.currency)

    def rounded(self) -> Money:
        """This amount rounded to cents."""
        return Money(quantize(self.amount), self.currency)

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"
