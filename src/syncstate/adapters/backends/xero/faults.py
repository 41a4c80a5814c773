"""Xero's error answers turned into syncstate's typed errors.

Xero answers a refused write with HTTP 400 and an ``ApiException`` body::

    {"ErrorNumber": 10, "Type": "ValidationException",
     "Message": "A validation exception occurred",
     "Elements": [{..., "ValidationErrors": [{"Message": "Email address must be valid"}]}]}

With ``summarizeErrors=false`` a batch answers HTTP 200 and marks each element
(``StatusAttributeString`` ``OK`` / ``WARNING`` / ``ERROR``, ``HasErrors``) with its own
``ValidationErrors``: :func:`element_error` reads one. Other answers carry at most a
``Title`` / ``Detail`` (``401``/``403``) or nothing useful (``404``, ``429``, ``5xx``).
The class is chosen by what a caller does about it:

==========================================  ==============================================
answer                                      error
==========================================  ==============================================
401, 403                                    :class:`~syncstate.errors.AuthenticationError`
429 (``X-Rate-Limit-Problem`` in ``code``)  :class:`~syncstate.errors.ThrottledError`
5xx                                         :class:`~syncstate.errors.AmbiguousOutcome`
400 "Idempotency Key ... is used with a     :class:`~syncstate.errors.AmbiguousOutcome`
different request"                          (the key was used before: look the document up)
404                                         :class:`~syncstate.errors.RemoteNotFound`
400 ``ValidationException``, element        :class:`~syncstate.errors.RemoteValidationError`
``ERROR``, anything else
==========================================  ==============================================
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from syncstate.errors import (
    AmbiguousOutcome,
    AuthenticationError,
    BackendError,
    RemoteNotFound,
    RemoteValidationError,
    ThrottledError,
)

__all__ = [
    "KEY_REUSED",
    "element_error",
    "error_from_response",
    "parse_retry_after",
    "validation_messages",
]

#: what Xero says when an ``Idempotency-Key`` comes back with a different request
KEY_REUSED = "is used with a different request"


def parse_retry_after(value: str | None, *, now: dt.datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - (now or dt.datetime.now(dt.UTC))).total_seconds())


def _loads(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8", "replace"), parse_float=Decimal)
    except ValueError:
        return None


def validation_messages(element: Mapping[str, Any]) -> list[str]:
    """Every ``ValidationErrors[].Message`` (or ``.Description``) of one element."""
    out = []
    for error in element.get("ValidationErrors") or []:
        if isinstance(error, Mapping):
            text = error.get("Message") or error.get("Description")
            if text:
                out.append(str(text))
    return out


def _errors(messages: list[str]) -> list[dict[str, str]]:
    return [{"code": "ValidationException", "message": m, "detail": "", "element": ""}
            for m in messages]  # fmt: skip


def element_error(element: Mapping[str, Any], *, record: str | None = None) -> BackendError | None:
    """The error of one element of a ``summarizeErrors=false`` answer (None when it is OK)."""
    status = str(element.get("StatusAttributeString") or "").upper()
    messages = validation_messages(element)
    if status != "ERROR" and not element.get("HasErrors") and not (status == "" and messages):
        return None
    messages = messages or ["Xero refused this element without a message"]
    return RemoteValidationError(
        messages[0], code="ValidationException", record=record, errors=_errors(messages)
    )


def error_from_response(
    status: int,
    body: bytes,
    *,
    retry_after: float | None = None,
    limit_problem: str | None = None,
    record: str | None = None,
) -> BackendError:
    """The syncstate error for a failed Xero answer (HTTP ``status`` >= 400)."""
    data = _loads(body)
    data = data if isinstance(data, Mapping) else {}
    common: dict[str, Any] = {"status": status, "record": record}
    if status == 429:
        which = limit_problem or "unknown"
        return ThrottledError(
            f"Xero rate limit reached ({which} limit)",
            retry_after=retry_after,
            code=limit_problem,
            **common,
        )
    if status >= 500:
        return AmbiguousOutcome(f"Xero answered HTTP {status}", **common)
    if status in (401, 403):
        detail = str(data.get("Detail") or data.get("Title") or "")
        what = "refused the access token" if status == 401 else "refused access to the tenant"
        return AuthenticationError(f"Xero {what}", detail=detail or None, **common)
    if status == 404:
        return RemoteNotFound("Xero has no such document", **common)
    messages: list[str] = []
    for element in data.get("Elements") or []:
        if isinstance(element, Mapping):
            messages += validation_messages(element)
    message = str(data.get("Message") or data.get("Detail") or f"Xero answered HTTP {status}")
    if any(KEY_REUSED in m for m in [message, *messages]):
        # the key was used by an earlier request, which may have created the document
        return AmbiguousOutcome(
            f"Xero has seen this Idempotency-Key with a different request: {message}",
            code="IdempotencyKeyReused",
            **common,
        )
    if messages:
        return RemoteValidationError(
            messages[0],
            code=str(data.get("Type") or "ValidationException"),
            detail=None if message == messages[0] else message,
            errors=_errors(messages),
            **common,
        )
    return RemoteValidationError(message, code=str(data.get("Type") or "") or None, **common)
