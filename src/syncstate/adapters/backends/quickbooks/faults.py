"""QuickBooks Online ``Fault`` answers turned into syncstate's typed errors.

QuickBooks answers a refused request with a ``Fault``: a type
(``ValidationFault``, ``SERVICE``, ``AUTHENTICATION``, ...) and a list of
errors, each with a ``code`` (a string such as ``"5010"``), a ``Message``, a
``Detail`` and sometimes an ``element``. Most answers are JSON with capitalised
keys; authentication failures come with lower-case keys (``fault`` /
``error``); throttling answers are sometimes XML (``IntuitResponse``) even
when JSON was asked for. :func:`parse_fault` reads all three shapes and
:func:`error_from_fault` picks the error class by what a caller does about it:

=================================  =========================================
code / status                      error
=================================  =========================================
HTTP 401, 3200, 120, 6190          :class:`~syncstate.errors.AuthenticationError`
429, 3001 / ``ThrottleExceeded``   :class:`~syncstate.errors.ThrottledError`
HTTP 5xx (any code)                :class:`~syncstate.errors.AmbiguousOutcome`
610                                :class:`~syncstate.errors.RemoteNotFound`
5010                               :class:`~syncstate.errors.StaleVersionError`
6140, 6240                         :class:`~syncstate.errors.DuplicateDocumentError`
anything else (620, 2020, 2500,    :class:`~syncstate.errors.RemoteValidationError`
6000, 6210, 6540, 4000, ...)
=================================  =========================================
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any

import attrs

from syncstate.errors import (
    AmbiguousOutcome,
    AuthenticationError,
    BackendError,
    DuplicateDocumentError,
    RemoteNotFound,
    RemoteValidationError,
    StaleVersionError,
    ThrottledError,
)

__all__ = [
    "FaultError",
    "QboFault",
    "error_from_fault",
    "error_from_response",
    "parse_fault",
    "parse_retry_after",
]

AUTH_CODES = frozenset({"3200", "120", "6190"})
THROTTLE_CODES = frozenset({"3001", "003001"})
NOT_FOUND_CODES = frozenset({"610"})
STALE_CODES = frozenset({"5010"})
DUPLICATE_CODES = frozenset({"6140", "6240"})

_TXN_ID = re.compile(r"\bTxnId\s*=\s*(\w+)", re.IGNORECASE)
_NAME_ID = re.compile(r"\bId\s*=\s*(\d+)")


@attrs.frozen
class FaultError:
    """One error inside a QuickBooks ``Fault``."""

    code: str
    message: str = ""
    detail: str = ""
    element: str = ""


@attrs.frozen
class QboFault:
    """A parsed QuickBooks ``Fault``: its type and its errors (at least one)."""

    type: str
    errors: tuple[FaultError, ...]

    @property
    def first(self) -> FaultError:
        """The first error, which QuickBooks puts the cause in."""
        return self.errors[0]

    @property
    def throttled(self) -> bool:
        """True for a ``ThrottleExceeded`` fault, whatever the HTTP status."""
        return any(e.code in THROTTLE_CODES or "ThrottleExceeded" in e.message for e in self.errors)


def _get(mapping: Mapping[str, Any], name: str) -> Any:
    """``mapping[name]`` ignoring the case of the key (401 answers use lower case)."""
    if name in mapping:
        return mapping[name]
    lowered = name.lower()
    for key, value in mapping.items():
        if key.lower() == lowered:
            return value
    return None


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def fault_from_json(data: Mapping[str, Any]) -> QboFault | None:
    """The fault inside a decoded JSON body (``{"Fault": ...}``), or None."""
    fault = _get(data, "Fault")
    if not isinstance(fault, Mapping):
        return None
    raw_errors = _get(fault, "Error") or []
    if isinstance(raw_errors, Mapping):
        raw_errors = [raw_errors]
    errors = tuple(
        FaultError(
            code=_text(_get(e, "code")),
            message=_text(_get(e, "Message")),
            detail=_text(_get(e, "Detail")),
            element=_text(_get(e, "element")),
        )
        for e in raw_errors
        if isinstance(e, Mapping)
    )
    if not errors:
        errors = (FaultError(code="", message="QuickBooks returned an empty Fault"),)
    return QboFault(type=_text(_get(fault, "type")), errors=errors)


def _fault_from_xml(text: str) -> QboFault | None:
    try:
        root = ET.fromstring(text)
    except ET.ParseError:
        return None
    for node in root.iter():
        if node.tag.rsplit("}", 1)[-1] != "Fault":
            continue
        errors = []
        for err in node:
            if err.tag.rsplit("}", 1)[-1] != "Error":
                continue
            fields = {child.tag.rsplit("}", 1)[-1]: (child.text or "") for child in err}
            errors.append(
                FaultError(
                    code=err.get("code", ""),
                    message=fields.get("Message", ""),
                    detail=fields.get("Detail", ""),
                    element=err.get("element", ""),
                )
            )
        if errors:
            return QboFault(type=node.get("type", ""), errors=tuple(errors))
    return None


def parse_fault(body: bytes | str) -> QboFault | None:
    """The ``Fault`` in a QuickBooks answer body (JSON or XML), or None if there is none."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    stripped = text.lstrip()
    if stripped.startswith("<"):
        return _fault_from_xml(stripped)
    try:
        data = json.loads(stripped)
    except ValueError:
        return None
    return fault_from_json(data) if isinstance(data, Mapping) else None


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
    current = now or dt.datetime.now(dt.UTC)
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - current).total_seconds())


def _existing_id(error: FaultError) -> str | None:
    text = f"{error.detail} {error.message}"
    match = _TXN_ID.search(text) or _NAME_ID.search(text)
    return match.group(1) if match else None


def error_from_fault(
    fault: QboFault,
    *,
    status: int | None = None,
    retry_after: float | None = None,
    record: str | None = None,
) -> BackendError:
    """The syncstate error for ``fault`` answered with HTTP ``status``."""
    first = fault.first
    message = first.message or fault.type or "QuickBooks fault"
    detail = first.detail or None
    if first.element and detail and first.element not in detail:
        detail = f"{detail} (element {first.element})"
    common: dict[str, Any] = {
        "code": first.code or None,
        "detail": detail,
        "status": status,
        "record": record,
        "errors": [
            {"code": e.code, "message": e.message, "detail": e.detail, "element": e.element}
            for e in fault.errors
        ],
    }
    if fault.throttled or status == 429:
        return ThrottledError(message, retry_after=retry_after, **common)
    if status is not None and status >= 500:
        return AmbiguousOutcome(message, **common)
    if status == 401 or first.code in AUTH_CODES or fault.type.upper() == "AUTHENTICATION":
        return AuthenticationError(message, **common)
    if first.code in STALE_CODES:
        return StaleVersionError(message, **common)
    if first.code in DUPLICATE_CODES:
        return DuplicateDocumentError(message, existing_id=_existing_id(first), **common)
    if first.code in NOT_FOUND_CODES:
        return RemoteNotFound(message, **common)
    return RemoteValidationError(message, **common)


def error_from_response(
    status: int,
    body: bytes,
    *,
    retry_after: float | None = None,
    record: str | None = None,
) -> BackendError:
    """The syncstate error for a failed HTTP answer (status >= 400), fault or not."""
    fault = parse_fault(body)
    if fault is not None:
        return error_from_fault(fault, status=status, retry_after=retry_after, record=record)
    common: dict[str, Any] = {"status": status, "record": record}
    if status == 429:
        return ThrottledError("QuickBooks throttled the request", retry_after=retry_after, **common)
    if status >= 500:
        return AmbiguousOutcome(f"QuickBooks answered HTTP {status}", **common)
    if status in (401, 403):
        return AuthenticationError("QuickBooks refused the access token", **common)
    if status == 404:
        return RemoteNotFound("QuickBooks has no such resource", **common)
    return RemoteValidationError(f"QuickBooks answered HTTP {status}", **common)
