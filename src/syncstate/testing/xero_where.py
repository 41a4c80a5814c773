"""The ``where`` filters of the local Xero-like server (the subset Xero documents).

A filter is terms joined by ``OR`` / ``AND`` (``||`` / ``&&``), evaluated left to
right without parentheses; a term compares a field (``Reference``, ``Contact.ContactID``)
to a double-quoted string: ``Field=="text"`` (or ``=``), ``Field!="text"``,
``Field.Contains("text")``, ``Field.StartsWith("text")``, ``Field.EndsWith("text")``.
Anything else is refused as Xero refuses a filter it cannot parse.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from syncstate.testing.xero_books import XeroRefusal

__all__ = ["compile_where"]

_TERM = re.compile(
    r"\s*(?P<field>[A-Za-z][\w.]*?)\s*"
    r'(?:(?P<op>==|!=|=)\s*"(?P<value>(?:[^"\\]|\\.)*)"'
    r'|\.(?P<method>Contains|StartsWith|EndsWith)\(\s*"(?P<arg>(?:[^"\\]|\\.)*)"\s*\))\s*'
)
_JOIN = re.compile(r"\s*(OR|AND|\|\||&&)\s*", re.IGNORECASE)

Predicate = Callable[[Mapping[str, Any]], bool]


def _field(row: Mapping[str, Any], path: str) -> str:
    value: Any = row
    for part in path.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return "" if value is None else str(value)


def _term(match: re.Match[str]) -> Predicate:
    field = match["field"]
    if match["op"]:
        value = match["value"].replace('\\"', '"')
        if match["op"] == "!=":
            return lambda row: _field(row, field) != value
        return lambda row: _field(row, field) == value
    arg = match["arg"].replace('\\"', '"')
    method = match["method"]
    if method == "Contains":
        return lambda row: arg in _field(row, field)
    if method == "StartsWith":
        return lambda row: _field(row, field).startswith(arg)
    return lambda row: _field(row, field).endswith(arg)


def compile_where(text: str) -> Predicate:
    """A predicate over elements for ``text``; :class:`XeroRefusal` when it cannot be read."""
    position, terms, joins = 0, [], []
    while True:
        match = _TERM.match(text, position)
        if match is None:
            raise XeroRefusal(f"The where clause could not be parsed near {text[position:]!r}")
        terms.append(_term(match))
        position = match.end()
        if position == len(text):
            break
        join = _JOIN.match(text, position)
        if join is None:
            raise XeroRefusal(f"The where clause could not be parsed near {text[position:]!r}")
        joins.append(join[1].upper() in ("OR", "||"))
        position = join.end()

    def predicate(row: Mapping[str, Any]) -> bool:
        result = terms[0](row)
        for is_or, term in zip(joins, terms[1:], strict=True):
            result = (result or term(row)) if is_or else (result and term(row))
        return result

    return predicate
