"""The ``Fault`` answers of the local QuickBooks-like server.

:class:`QboFaultAnswer` is an operation QuickBooks refuses; it knows its HTTP
status and ``Fault`` body. The helpers build the faults the books raise most:
a required field missing (2020), an invalid reference (2500) and an object not
found (610). :mod:`syncstate.testing.qbo_books` re-exports :class:`QboFaultAnswer`
and :func:`qbo_time`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

__all__ = ["QboFaultAnswer", "invalid_reference", "missing_field", "not_found", "qbo_time"]

_INACTIVE = (
    "Something you're trying to use has been made inactive. "
    "Check the fields with accounts, customers, items, vendors or employees."
)


def qbo_time(moment: dt.datetime) -> str:
    """A timestamp as QuickBooks writes it (seconds, with offset)."""
    return moment.isoformat(timespec="seconds")


class QboFaultAnswer(Exception):
    """An operation QuickBooks refuses: HTTP status plus one ``Fault`` error."""

    def __init__(
        self,
        code: str,
        message: str,
        detail: str = "",
        *,
        element: str = "",
        status: int = 400,
        fault_type: str = "ValidationFault",
    ) -> None:
        self.code = code
        self.message = message
        self.detail = detail
        self.element = element
        self.status = status
        self.fault_type = fault_type
        super().__init__(f"{code} {message}: {detail}")

    def error(self) -> dict[str, Any]:
        """The one entry of ``Fault.Error``."""
        return {
            "Message": self.message,
            "Detail": self.detail,
            "code": self.code,
            "element": self.element,
        }

    def body(self, now: dt.datetime) -> dict[str, Any]:
        """The JSON answer body, shaped like QuickBooks' own."""
        return {"Fault": {"Error": [self.error()], "type": self.fault_type}, "time": qbo_time(now)}


def missing_field(field: str) -> QboFaultAnswer:
    """Fault 2020: the required ``field`` is missing from the request."""
    return QboFaultAnswer(
        "2020",
        "Required param missing, need to supply the required value for the API",
        f"Required parameter {field} is missing in the request",
        element=field,
    )


def invalid_reference(entity: str, ref: Any) -> QboFaultAnswer:
    """Fault 2500: ``ref`` names no (active) ``entity``."""
    return QboFaultAnswer(
        "2500", "Invalid Reference Id", f"Invalid Reference Id : {entity} {ref!r}: {_INACTIVE}"
    )


def not_found(entity: str, ident: Any) -> QboFaultAnswer:
    """Fault 610: there is no ``entity`` with Id ``ident``."""
    return QboFaultAnswer(
        "610", "Object Not Found", f"Object Not Found : {_INACTIVE}", element=f"{entity} {ident}"
    )
