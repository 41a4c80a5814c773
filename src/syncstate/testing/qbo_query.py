"""The query language of the local QuickBooks-like server.

QuickBooks' ``select * from <Entity> where ... orderby ... startposition ...
maxresults ...``: the entity name in any case; ``where`` conditions joined by
``and`` (``=``, ``!=``, ``<``, ``<=``, ``>``, ``>=``, ``like`` with ``%``,
``in (...)``) on fields in any case, dotted for nested ones
(``MetaData.CreateTime``), a reference standing for its ``value``; ``orderby``
one field, ``asc`` or ``desc`` (``Id`` by default); ``startposition`` from 1;
``maxresults`` 100 by default and at most 1000. ``select count(*)`` counts.
Timestamps compare as moments, numbers as numbers, the rest as text. A
statement it cannot parse is fault 4000.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from syncstate.testing.qbo_faults import QboFaultAnswer

__all__ = ["WITH_ACTIVE", "run_query"]

#: name lists: a query without an ``Active`` condition sees only active entities
WITH_ACTIVE = frozenset(
    {"Customer", "Vendor", "Employee", "Item", "Account", "Class", "Department"}
)

_SELECT = re.compile(
    r"select\s+(?P<fields>.+?)\s+from\s+(?P<entity>\w+)"
    r"(?:\s+where\s+(?P<where>.+?))?(?:\s+order\s*by\s+(?P<order>[\w.]+(?:\s+(?:asc|desc))?))?"
    r"(?:\s+startposition\s+(?P<start>\d+))?(?:\s+maxresults\s+(?P<max>\d+))?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_CONDITION = re.compile(
    r"\s*(?P<field>[\w.]+)\s*(?P<op><=|>=|!=|=|<|>|\blike\b|\bin\b)\s*"
    r"(?P<value>'(?:[^'\\]|\\.)*'|\([^)]*\)|[\w.:+-]+)\s*(?P<rest>(?:and\s+.*)?)$",
    re.IGNORECASE | re.DOTALL,
)


def run_query(tables: Mapping[str, Mapping[str, dict[str, Any]]], statement: str) -> dict[str, Any]:
    """Run a QuickBooks query over ``tables`` (entity name → Id → entity).

    Answers what goes in ``QueryResponse``: ``{"totalCount": n}`` for
    ``count(*)``, else ``{entity: [copies of the page's rows], "startPosition":
    ..., "maxResults": ...}``, or ``{}`` when the page is empty. Raises
    :class:`~syncstate.testing.qbo_faults.QboFaultAnswer` (4000) if the statement
    does not parse or names an entity ``tables`` does not hold.
    """
    match = _SELECT.match(statement.strip())
    by_lower = {name.lower(): name for name in tables}
    entity = by_lower.get(match.group("entity").lower()) if match else None
    if match is None or entity is None:
        raise _parse_error(statement)
    rows: Iterable[dict[str, Any]] = tables[entity].values()
    conditions = _conditions(match.group("where") or "", statement)
    if entity in WITH_ACTIVE and not any(f.lower() == "active" for f, _op, _raw in conditions):
        # a name list shows only its active entities unless the query names Active
        conditions.append(("Active", "!=", "false"))
    for field, op, raw in conditions:
        rows = [r for r in rows if _test(_value(r, field), op, raw)]
    rows = list(rows)
    if match.group("fields").strip().lower() == "count(*)":
        return {"totalCount": len(rows)}
    order = (match.group("order") or "Id").split()
    descending = len(order) > 1 and order[1].lower() == "desc"
    rows.sort(key=lambda r: _sort_key(_field(r, order[0])), reverse=descending)
    start = int(match.group("start") or 1)
    limit = min(int(match.group("max") or 100), 1000)
    page = [copy.deepcopy(r) for r in rows[start - 1 : start - 1 + limit]]
    if not page:
        return {}
    return {entity: page, "startPosition": start, "maxResults": len(page)}


def _parse_error(statement: str) -> QboFaultAnswer:
    return QboFaultAnswer(
        "4000", "Error parsing query", f"QueryParserError: cannot parse {statement!r}"
    )


def _conditions(where: str, statement: str) -> list[tuple[str, str, str]]:
    out = []
    text = where.strip()
    while text:
        match = _CONDITION.match(text)
        if match is None:
            raise _parse_error(statement)
        out.append((match.group("field"), match.group("op").lower(), match.group("value")))
        text = match.group("rest")[3:].strip() if match.group("rest") else ""
    return out


def _unquote(raw: str) -> str:
    raw = raw.strip()
    if raw.startswith("'") and raw.endswith("'"):
        return re.sub(r"\\(.)", r"\1", raw[1:-1])
    return raw


def _split_list(raw: str) -> list[str]:
    """The values of ``(a, 'b,c', 'd\\'e')``: commas inside quotes do not split."""
    return [m.group(0) for m in re.finditer(r"'(?:[^'\\]|\\.)*'|[^,()\s]+", raw)]


def _field(record: Mapping[str, Any], path: str) -> Any:
    value: Any = record
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = next((v for k, v in value.items() if k.lower() == part.lower()), None)
    if isinstance(value, Mapping) and "value" in value:
        return value["value"]
    return value


def _comparable(value: Any) -> Any:
    text = str(value)
    try:
        return dt.datetime.fromisoformat(text).astimezone(dt.UTC)
    except ValueError:
        pass
    try:
        return Decimal(text)
    except ArithmeticError:
        return text


def _sort_key(value: Any) -> tuple[int, Any]:
    key = _comparable(value)
    rank = {dt.datetime: 0, Decimal: 1}.get(type(key), 2)
    return (rank, key if rank < 2 else str(key))


def _text(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _value(record: Mapping[str, Any], field: str) -> Any:
    value = _field(record, field)
    if value is None and field.lower() == "active":
        return True  # an entity without the flag is active
    return value


def _test(value: Any, op: str, raw: str) -> bool:
    if value is None:
        return False
    flag = isinstance(value, bool)
    value = _text(value)
    if op == "in":
        options = {_unquote(v) for v in _split_list(raw)}
        return value in ({o.lower() for o in options} if flag else options)
    if flag:
        raw = raw.lower()
    target = _unquote(raw)
    if op == "like":
        pattern = "".join(".*" if c == "%" else re.escape(c) for c in target)
        return re.fullmatch(pattern, str(value), re.IGNORECASE | re.DOTALL) is not None
    left, right = _comparable(value), _comparable(target)
    if type(left) is not type(right):
        left, right = str(value), target
    if op == "=":
        return bool(left == right)
    if op == "!=":
        return bool(left != right)
    if op == "<":
        return bool(left < right)
    if op == "<=":
        return bool(left <= right)
    if op == ">":
        return bool(left > right)
    return bool(left >= right)
