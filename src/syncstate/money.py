"""Money: ``decimal.Decimal`` amounts with an explicit currency, never ``float``.

One module owns numbers. :func:`to_decimal` is the single constructor for amounts
from outside (strings, ints, Decimals); floats and bools are refused because a
binary float cannot hold most cents exactly. :class:`Money` pairs an amount with
its currency and refuses arithmetic across currencies. One rounding rule,
:data:`ROUNDING` (half up, as ledgers and invoices round), applied by :func:`quantize`.

Accepted range and precision
----------------------------

* **Range**: at most :data:`MAX_INTEGER_DIGITS` (15) digits before the decimal
  point, that is ``|value| < 10**15`` (:data:`MAX_AMOUNT`, 999999999999999.99,
  for an amount with two decimals); larger values are refused with
  :class:`~syncstate.errors.MoneyError`, never rounded. The limit holds for
  every value :func:`to_decimal` reads, so for every :class:`Money` too.
* **Precision**: an *amount* has at most its currency's decimals
  (:func:`currency_places`: ISO 4217 minor units, 2 by default and for unknown
  codes), checked by :func:`parse_amount`; a *quantity* (hours, units, rates,
  unit prices) has at most :data:`QUANTITY_PLACES` (6), checked by
  :func:`parse_quantity`. Trailing zeros past that are fine (``"12.500"`` is
  12.50); a non-zero digit past it is refused, never rounded away.
* **Notation**: text must be plain decimal notation: optional sign, ASCII
  digits, optional decimal point and digits, surrounding blanks ignored.
  Exponent notation (``"1e3"``, ``"1E+2"``) is **refused**, even when it denotes
  an exact value in range, as are ``NaN``, ``Infinity``, underscores and
  non-ASCII digits. The shipped JSON schemas allow exactly this notation.
* **Output**: every amount the library prints goes through
  :func:`format_amount`: a plain decimal string, never exponent form, matching
  ``^-?[0-9]+(\\.[0-9]+)?$``.

Inside the range, sums stay exact in the default 28-digit context (ten thousand
million two-decimal amounts, or ten million six-decimal quantities);
:func:`exact_arithmetic` turns any rounding that would still happen into a
:class:`~syncstate.errors.MoneyError` instead of losing cents.
"""

from __future__ import annotations

import contextlib
import decimal
import re
import reprlib
from collections.abc import Iterable, Iterator
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import attrs

from syncstate.errors import MoneyError

__all__ = [
    "CENT",
    "DEFAULT_PLACES",
    "MAX_AMOUNT",
    "MAX_INTEGER_DIGITS",
    "QUANTITY_PLACES",
    "ROUNDING",
    "ZERO",
    "Money",
    "currency_places",
    "exact_arithmetic",
    "format_amount",
    "parse_amount",
    "parse_quantity",
    "quantize",
    "shown",
    "to_decimal",
]

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
ROUNDING = ROUND_HALF_UP

#: digits allowed before the decimal point of any amount or quantity
MAX_INTEGER_DIGITS = 15
#: decimals of an amount in a currency without its own entry in ISO 4217's table
DEFAULT_PLACES = 2
#: decimals allowed in a quantity, hour count, rate or unit price
QUANTITY_PLACES = 6
#: the largest amount accepted, with the default two decimals
MAX_AMOUNT = Decimal("999999999999999.99")

_LIMIT = Decimal(10) ** MAX_INTEGER_DIGITS
_INT_LIMIT = 10**MAX_INTEGER_DIGITS
_PLAIN = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_EXPONENT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)[eE][+-]?[0-9]+")
#: ISO 4217 minor units that are not 2
_CURRENCY_PLACES: dict[str, int] = {}
for _places, _codes in (
    (0, "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"),
    (3, "BHD IQD JOD KWD LYD OMR TND"),
    (4, "CLF UYW"),
):
    _CURRENCY_PLACES.update((code, _places) for code in _codes.split())

_short = reprlib.Repr()
_short.maxstring = 40
_short.maxother = 40
_short.maxlong = 40
_short.maxlevel = 2


def shown(value: object) -> str:
    """A short one-line ``repr`` of ``value`` for error messages (long input is cut)."""
    return _short.repr(value)


def currency_places(currency: str | None) -> int:
    """Decimals of an amount in ``currency`` (ISO 4217 minor units; 2 when unknown)."""
    if not currency:
        return DEFAULT_PLACES
    return _CURRENCY_PLACES.get(currency.strip().upper(), DEFAULT_PLACES)


def _from_text(value: str, what: str) -> Decimal:
    text = value.strip()
    if not _PLAIN.fullmatch(text):
        if _EXPONENT.fullmatch(text):
            raise MoneyError(f"{what}: {shown(value)} is in exponent notation; write plain digits")
        raise MoneyError(f"{what}: {shown(value)} is not a decimal number")
    digits = text.lstrip("+-").split(".", 1)[0].lstrip("0")
    if len(digits) > MAX_INTEGER_DIGITS:
        raise MoneyError(_too_large(value, what))
    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid text
        raise MoneyError(f"{what}: {shown(value)} is not a decimal number") from None


def _too_large(value: object, what: str) -> str:
    return (
        f"{what}: {shown(value)} is out of range: at most {MAX_INTEGER_DIGITS} digits "
        "before the decimal point"
    )


def to_decimal(value: object, *, what: str = "amount", places: int | None = None) -> Decimal:
    """Turn ``value`` (``Decimal``, ``int`` or a decimal string) into a ``Decimal``.

    Raises :class:`MoneyError` naming ``what`` for floats, bools, non-finite
    values, text that is not plain decimal notation (exponent notation
    included), values with more than :data:`MAX_INTEGER_DIGITS` digits before
    the point and, when ``places`` is given, a non-zero digit past ``places``
    decimals. A value with only zeros past ``places`` comes back with
    ``places`` decimals.
    """
    if isinstance(value, bool | float):
        raise MoneyError(
            f"{what}: {shown(value)} is a {type(value).__name__}; use a decimal string"
        )
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise MoneyError(f"{what}: {shown(value)} is not a finite amount")
        result = value
    elif isinstance(value, int):
        if abs(value) >= _INT_LIMIT:
            raise MoneyError(_too_large(value, what))
        result = Decimal(value)
    elif isinstance(value, str):
        result = _from_text(value, what)
    else:
        raise MoneyError(f"{what}: {shown(value)} ({type(value).__name__}) is not a decimal amount")
    if result.copy_abs() >= _LIMIT:
        raise MoneyError(_too_large(value, what))
    sign, digits, exponent = result.as_tuple()
    if places is not None and isinstance(exponent, int) and -exponent > places:
        # digits past ``places``: only zeros may go (no context, so no rounding)
        extra = -exponent - places
        if any(digits[-extra:]):
            raise MoneyError(f"{what}: {shown(value)} has more than {places} decimal places")
        result = Decimal((sign, digits[:-extra] or (0,), -places))
    return result


def parse_amount(value: object, *, what: str = "amount", currency: str | None = None) -> Decimal:
    """An amount of money from outside: :func:`to_decimal` with the currency's decimals."""
    return to_decimal(value, what=what, places=currency_places(currency))


def parse_quantity(value: object, *, what: str = "quantity") -> Decimal:
    """A quantity, hour count, rate or unit price: :data:`QUANTITY_PLACES` decimals at most."""
    return to_decimal(value, what=what, places=QUANTITY_PLACES)


def format_amount(amount: Decimal) -> str:
    """``amount`` as a plain decimal string: never exponent form, never ``-0``."""
    if not amount.is_finite():
        raise MoneyError(f"{shown(amount)} is not a finite amount")
    if amount.is_zero():
        amount = amount.copy_abs()
    return f"{amount:f}"


@contextlib.contextmanager
def exact_arithmetic(what: str = "a total") -> Iterator[decimal.Context]:
    """Decimal arithmetic that refuses to round: any inexact result raises
    :class:`MoneyError` naming ``what`` instead of silently dropping cents."""
    with decimal.localcontext() as ctx:
        ctx.traps[decimal.Inexact] = True
        ctx.traps[decimal.Overflow] = True
        ctx.traps[decimal.InvalidOperation] = True
        try:
            yield ctx
        except (decimal.Inexact, decimal.Overflow, decimal.InvalidOperation):
            raise MoneyError(
                f"{what} needs more than {ctx.prec} significant digits and would be rounded"
            ) from None


def quantize(amount: Decimal, exponent: Decimal = CENT) -> Decimal:
    """Round ``amount`` to ``exponent`` (cents by default) with :data:`ROUNDING`."""
    return amount.quantize(exponent, rounding=ROUNDING)


def _currency(value: str) -> str:
    code = value.strip().upper()
    if len(code) != 3 or not code.isalpha():
        raise MoneyError(f"currency {shown(value)} is not a three-letter ISO 4217 code")
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
        return f"{format_amount(self.amount)} {self.currency}"
