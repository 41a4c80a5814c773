"""Targeted faults for the local QuickBooks-like server: which requests, how often, what.

A :class:`FaultRule` picks requests (an operation, a field of the document, text in
a query) and answers every ``every``-th of them with a QuickBooks ``Fault``, a
dropped connection, or a commit followed by a failure, ``times`` times (or forever).
Rules are an extension point for plug-in authors' own trials::

    server.inject(FaultRule(operation="query", answer=QboFaultAnswer("4000", "parse error")))
    server.inject(FaultRule(operation="write", field="CustomerRef.value", value="7",
                            after_commit=True, every=3))
    server.inject(FaultRule(every=10, answer=throttle))   # every 10th request: 429
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from syncstate.testing.qbo_faults import QboFaultAnswer

__all__ = ["FaultRule", "field_value", "operation_of"]


def operation_of(method: str, rest: list[str], query: Mapping[str, str]) -> str:
    """``query``, ``batch``, ``read``, ``pdf`` or ``write`` for a request."""
    if rest[0] == "query":
        return "query"
    if rest[0] == "batch":
        return "batch"
    if method == "GET":
        return "pdf" if len(rest) == 3 and rest[2] == "pdf" else "read"
    return "write"


def field_value(document: Any, path: str) -> Any:
    """The value at a dotted ``path`` (``CustomerRef.value``) of a JSON document, or None."""
    value = document
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


@attrs.define
class FaultRule:
    """One targeted fault; change or remove it during a test."""

    #: the ``Fault`` to answer (ignored with ``drop``)
    answer: QboFaultAnswer | None = None
    #: drop the connection instead of answering
    drop: bool = False
    #: for writes: do the write first, then fail (a failure after commit)
    after_commit: bool = False
    #: only ``query``, ``batch``, ``read``, ``pdf`` or ``write`` requests (None: any)
    operation: str | None = None
    #: only this resource (``invoice``, ``timeactivity``; None: any)
    resource: str | None = None
    #: only documents whose JSON ``field`` (dotted path) equals ``value``
    field: str | None = None
    value: Any = None
    #: only requests whose query statement or body contains this text
    contains: str | None = None
    #: every Nth matching request (1: each one)
    every: int = 1
    #: how many more times it fires (None: forever)
    times: int | None = None
    #: matching requests seen, and faults fired
    seen: int = 0
    fired: int = 0

    def matches(self, operation: str, resource: str, statement: str, document: Any) -> bool:
        """Whether a request is one this rule picks (before ``every`` / ``times``)."""
        if self.operation is not None and operation != self.operation:
            return False
        if self.resource is not None and resource.lower() != self.resource.lower():
            return False
        if self.contains is not None and self.contains not in statement:
            return False
        return self.field is None or field_value(document, self.field) == self.value

    def fires(self) -> bool:
        """Count one matching request; true when this one gets the fault."""
        if self.times is not None and self.times <= 0:
            return False
        self.seen += 1
        if self.seen % max(self.every, 1):
            return False
        if self.times is not None:
            self.times -= 1
        self.fired += 1
        return True
