"""``readByQuery`` for the local Intacct-like server: conditions and result cursors.

Supports what Intacct documents and syncstate sends: ``FIELD = 'v'``, ``FIELD IN
('a','b')`` and ``FIELD >= / > / <= / < 'v'`` clauses joined by ``AND``; ``WHENCREATED``
and ``WHENMODIFIED`` compare as times (``mm/dd/yyyy[ HH:MM:SS]``), other fields as
case-sensitive strings. Anything else fails the function as Intacct's ``Query Failed``.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any

import attrs

from syncstate.testing.intacct_books import FunctionFailure, IntacctBooks

__all__ = ["Cursor", "run_query"]

_COMPARE = re.compile(r"^(\w+)\s*(=|>=|<=|>|<)\s*'([^']*)'$")
_IN = re.compile(r"^(\w+)\s+IN\s*\(\s*('[^']*'(?:\s*,\s*'[^']*')*)\s*\)$", re.IGNORECASE)
_TIMES = frozenset({"WHENCREATED", "WHENMODIFIED"})


@attrs.define
class Cursor:
    """What is left of one query's answer, paged by ``readMore``."""

    result_id: str
    company_id: str
    obj: str
    fields: list[str]
    page_size: int
    rows: list[dict[str, Any]]


def _time(text: str) -> dt.datetime:
    for pattern in ("%m/%d/%Y %H:%M:%S", "%m/%d/%Y"):
        try:
            return dt.datetime.strptime(text, pattern)
        except ValueError:
            continue
    raise FunctionFailure("Query Failed", f"{text!r} is not a date")


def _clause(text: str) -> Callable[[dict[str, Any]], bool]:
    found = _IN.match(text)
    if found:
        field, values = found.group(1), set(re.findall(r"'([^']*)'", found.group(2)))
        return lambda r: str(r.get(field, "")) in values
    found = _COMPARE.match(text)
    if not found:
        raise FunctionFailure("Query Failed", f"Invalid query condition: {text}")
    field, op, value = found.groups()
    if field in _TIMES:
        limit = _time(value)
        tests: dict[str, Callable[[dt.datetime], bool]] = {
            "=": lambda t: t == limit,
            ">=": lambda t: t >= limit,
            ">": lambda t: t > limit,
            "<=": lambda t: t <= limit,
            "<": lambda t: t < limit,
        }
        return lambda r: tests[op](_time(str(r.get(field, "01/01/1970"))))
    if op != "=":
        return lambda r: str(r.get(field, "")) > value if op == ">" else False
    return lambda r: str(r.get(field, "")) == value


def run_query(books: IntacctBooks, company_id: str, body: ET.Element) -> Cursor:
    """The cursor of a ``<readByQuery>``."""
    obj = (body.findtext("object") or "").strip()
    fields = [f.strip() for f in (body.findtext("fields") or "*").split(",") if f.strip()]
    condition = (body.findtext("query") or "").strip()
    try:
        page_size = int(body.findtext("pagesize") or "100")
    except ValueError:
        raise FunctionFailure("Query Failed", "pagesize is not a number") from None
    if not 1 <= page_size <= 1000:
        raise FunctionFailure("Query Failed", "pagesize must be 1..1000")
    tests = [_clause(c.strip()) for c in re.split(r"\s+AND\s+", condition) if c.strip()]
    rows = [
        dict(r)
        for _n, r in sorted(books.table(company_id, obj).items(), key=lambda kv: int(kv[0]))
        if all(test(r) for test in tests)
    ]
    return Cursor(uuid.uuid4().hex, company_id, obj, fields, page_size, rows)
