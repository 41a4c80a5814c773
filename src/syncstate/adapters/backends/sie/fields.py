"""Stage 2 of reading SIE: one line into fields, and the fields into values.

:func:`tokenize` splits a line (quoted strings with ``\\"`` escapes, ``{ }``
object lists); the field parsers (:func:`parse_date`, :func:`parse_amount`,
:func:`text_at`, ...) turn fields into values and raise :class:`LineError` for
what does not fit. :func:`ksumma_record` gives the bytes a record adds to the
``#KSUMMA`` checksum.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

from syncstate.adapters.backends.sie.model import ObjectRef

__all__ = [
    "DIGITS",
    "ROW_LABELS",
    "LineError",
    "Token",
    "ksumma_record",
    "optional_amount",
    "parse_amount",
    "parse_date",
    "parse_int",
    "parse_objects",
    "text_at",
    "tokenize",
]

#: one field of a line: a value, or the values of a ``{ }`` object list
Token = str | tuple[str, ...]

_TOKEN = re.compile(r'[ \t]*(?:"((?:[^"\\]|\\.)*)"|(\{)|(\})|([^ \t"{}]+))')
_UNESCAPE = re.compile(r'\\(["\\])')
#: the characters of a decimal amount
DIGITS = "0123456789.-"
#: the labels of voucher rows
ROW_LABELS = frozenset({"#TRANS", "#RTRANS", "#BTRANS"})


class LineError(Exception):
    """A problem with one line; the reader turns it into an error."""


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
            raise LineError("unterminated quoted string")
        pos = m.end()
        quoted, opening, closing, plain = m.groups()
        if opening:
            if group is not None:
                raise LineError("nested '{' in an object list")
            group = []
        elif closing:
            if group is None:
                raise LineError("'}' without '{'")
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
        raise LineError("object list '{' is not closed")
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


def parse_date(value: Token, what: str, cache: dict[str, dt.date]) -> dt.date:
    """A ``YYYYMMDD`` day; ``cache`` keeps the days already read (one object per value)."""
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
    raise LineError(f"{what} {value!r} is not a date (YYYYMMDD)")


def parse_amount(value: Token, what: str = "amount") -> Decimal:
    """A decimal amount (digits, ``.`` and ``-`` only)."""
    if isinstance(value, str) and value and not value.strip(DIGITS):
        try:
            return Decimal(value)
        except InvalidOperation:
            pass
    raise LineError(f"{what} {value!r} is not a decimal number")


def optional_amount(fields: list[Token], index: int, what: str) -> Decimal | None:
    """The amount at ``index``, or None when absent or empty."""
    if len(fields) <= index or fields[index] == "":
        return None
    return parse_amount(fields[index], what)


def text_at(fields: list[Token], index: int, what: str, *, required: bool = False) -> str:
    """The value at ``index`` (empty when absent, an error if ``required``)."""
    if len(fields) <= index:
        if required:
            raise LineError(f"{what} is missing")
        return ""
    value = fields[index]
    if isinstance(value, tuple):
        raise LineError(f"{what} is an object list, expected a value")
    return value


def parse_int(value: Token, what: str) -> int:
    """A whole number (an optional ``-`` and ASCII digits)."""
    if isinstance(value, str) and value.lstrip("-").isdigit() and value.isascii():
        return int(value)
    raise LineError(f"{what} {value!r} is not a whole number")


def parse_objects(value: Token) -> tuple[ObjectRef, ...]:
    """An object list ``{dimension object ...}`` as (dimension, object) pairs."""
    if not isinstance(value, tuple):
        raise LineError(f"expected an object list {{...}}, got {value!r}")
    if len(value) % 2:
        raise LineError("object list must hold (dimension, object) pairs")
    return tuple((value[i], value[i + 1]) for i in range(0, len(value), 2))
