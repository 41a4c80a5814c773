"""The accepted range and precision of amounts (syncstate.money), as docs/repost.md states it.

At most 15 digits before the point, the currency's decimals (2 by default), 6 for
quantities; exponent notation refused; every printed amount a plain decimal string.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from syncstate.errors import MoneyError
from syncstate.money import (
    MAX_AMOUNT,
    Money,
    currency_places,
    exact_arithmetic,
    format_amount,
    parse_amount,
    parse_quantity,
    to_decimal,
)

#: the pattern every decimal in the shipped output schemas must match
SCHEMA_DECIMAL = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("999999999999999.99", Decimal("999999999999999.99")),
        ("-999999999999999.99", Decimal("-999999999999999.99")),
        ("12.500", Decimal("12.50")),  # trailing zeros past the cents are dropped
        (" 7 ", Decimal("7")),
        ("0", Decimal("0")),
    ],
)
def test_amounts_in_range_are_read_exactly(text: str, expected: Decimal) -> None:
    value = parse_amount(text)
    assert value == expected and str(value) == str(expected)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("1000000000000000", "out of range"),
        ("-1000000000000000.00", "out of range"),
        (10**15, "out of range"),
        ("9" * 4301, "out of range"),
        ("12345678901234567890123456.78", "out of range"),  # would lose its cents
        ("1e999999", "exponent notation"),
        ("1E+2", "exponent notation"),  # exact, but refused all the same
        ("12.345", "more than 2 decimal places"),
        ("NaN", "not a decimal number"),
        ("Infinity", "not a decimal number"),
        ("1_000", "not a decimal number"),
        ("١٢", "not a decimal number"),
        (12.5, "is a float"),
        (True, "is a bool"),
        (Decimal("NaN"), "not a finite amount"),
    ],
)
def test_amounts_out_of_range_or_in_other_notations_are_refused(
    value: object, message: str
) -> None:
    with pytest.raises(MoneyError, match=message):
        parse_amount(value, what="amount")


def test_the_currency_sets_the_decimals_and_quantities_take_six() -> None:
    assert (currency_places("JPY"), currency_places("kwd"), currency_places("SEK")) == (0, 3, 2)
    assert currency_places(None) == 2
    with pytest.raises(MoneyError, match="more than 0 decimal places"):
        parse_amount("100.5", currency="JPY")
    assert parse_amount("1.125", currency="KWD") == Decimal("1.125")
    assert parse_quantity("0.000001") == Decimal("0.000001")
    with pytest.raises(MoneyError, match="more than 6 decimal places"):
        parse_quantity("0.0000001")


def test_error_messages_stay_short_whatever_the_input() -> None:
    with pytest.raises(MoneyError) as caught:
        parse_amount("9" * 100_000)
    assert len(str(caught.value)) < 200


amounts = st.decimals(
    min_value=-MAX_AMOUNT, max_value=MAX_AMOUNT, places=2, allow_nan=False, allow_infinity=False
)


@settings(max_examples=300, deadline=None)
@given(amounts, st.integers(min_value=0, max_value=10))
def test_every_amount_prints_plain_and_reads_back_equal(amount: Decimal, shift: int) -> None:
    # the same value in other internal forms (1E+2, 100.000) prints plainly too
    for value in (amount, amount.normalize(), amount.quantize(Decimal(1).scaleb(-shift - 2))):
        text = format_amount(value)
        assert SCHEMA_DECIMAL.match(text), text
        assert parse_amount(text) == amount
        assert not (amount.is_zero() and text.startswith("-"))


def test_format_amount_never_prints_exponent_form() -> None:
    assert format_amount(Decimal("1E+5")) == "100000"
    assert format_amount(Decimal("1E-7")) == "0.0000001"
    assert format_amount(Decimal("-0.00")) == "0.00"
    assert str(Money(Decimal("1E+2"), "usd")) == "100 USD"


def test_money_refuses_a_sum_out_of_range() -> None:
    big = Money(MAX_AMOUNT, "EUR")
    with pytest.raises(MoneyError, match="out of range"):
        big + Money(Decimal("0.01"), "EUR")


def test_exact_arithmetic_refuses_to_round_away_cents() -> None:
    with exact_arithmetic("the total"):
        assert sum([MAX_AMOUNT] * 1000, Decimal(0)) == MAX_AMOUNT * 1000
    with (
        pytest.raises(MoneyError, match="the total needs more than 28"),
        exact_arithmetic("the total"),
    ):
        Decimal("123456789012345678901234567.8") + Decimal("0.01")  # 29 digits


def test_to_decimal_keeps_its_range_for_every_caller() -> None:
    assert to_decimal("123.456789") == Decimal("123.456789")  # no decimals limit by default
    with pytest.raises(MoneyError, match="hours: '1e3' is in exponent notation"):
        to_decimal("1e3", what="hours")
