"""Sage Intacct gateway errors turned into syncstate's typed errors.

Intacct answers most failures with HTTP 200 and a ``<status>failure</status>`` at the
level that failed (``developer.intacct.com/web-services/error-handling``); each error
has an ``errorno``, ``description``, ``description2`` and ``correction``. The class is
chosen by what a caller does about it:

==============================================  =========================================
where / errorno                                 error
==============================================  =========================================
HTTP 429, ``GW-0010`` (rate limit)              :class:`~syncstate.errors.ThrottledError`
HTTP 5xx, an unreadable answer                  :class:`~syncstate.errors.AmbiguousOutcome`
authentication failure, ``XL03000006``          :class:`~syncstate.errors.AuthenticationError`
control-level refusal of a write with           :class:`DuplicateControlId` (the client
``uniqueid`` true (a repeated control id)       resolves it by querying the key)
other control-level failure (``XL03000003``     :class:`~syncstate.errors.RemoteValidationError`
XML schema error, ``GW-0011`` invalid request)
function ``aborted`` (rolled back with          :class:`~syncstate.errors.TransientBackendError`
another function of a transaction)              (nothing was written; send again)
function failure naming a missing record        :class:`~syncstate.errors.RemoteNotFound`
any other function failure (``BL...``,          :class:`~syncstate.errors.RemoteValidationError`
``PL...``, ``DL...``)
==============================================  =========================================

An error's text is ``description`` (or ``description2``); ``detail`` joins
``description2`` and ``correction``. Every error of the level is kept in ``errors``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from syncstate.adapters.backends.intacct.envelope import FunctionResult, GatewayError
from syncstate.errors import (
    AmbiguousOutcome,
    AuthenticationError,
    BackendError,
    DuplicateDocumentError,
    RemoteNotFound,
    RemoteValidationError,
    ThrottledError,
    TransientBackendError,
)

__all__ = [
    "AUTH_CODES",
    "THROTTLE_CODES",
    "DuplicateControlId",
    "control_error",
    "function_error",
    "http_error",
    "is_duplicate_control_id",
]

THROTTLE_CODES = frozenset({"GW-0010"})
AUTH_CODES = frozenset({"XL03000006"})
#: control-level errors that say the request itself is malformed: never a duplicate
MALFORMED_CODES = frozenset({"XL03000003", "GW-0011"})

_NOT_FOUND = re.compile(
    r"\b(not found|does not exist|no such|could not find|cannot find|invalid (record|key))",
    re.IGNORECASE,
)
_DUPLICATE_CONTROL = re.compile(r"control ?id", re.IGNORECASE)
_DUPLICATE_WORDS = re.compile(r"\b(already|duplicate|unique|repeated)\b", re.IGNORECASE)


class DuplicateControlId(DuplicateDocumentError):
    """The gateway refused a write request's control id (``uniqueid`` true): it may
    have been processed already. The client answers it by querying for the key."""


def _summary(errors: Sequence[GatewayError], fallback: str) -> tuple[str, str, str]:
    if not errors:
        return fallback, "", ""
    first = errors[0]
    message = first.description or first.description2 or fallback
    detail = " ".join(
        t for t in (first.description2 if first.description else "", first.correction) if t
    )
    return message, first.errorno, detail


def _make(
    cls: type[BackendError],
    message: str,
    errors: Sequence[GatewayError],
    record: str | None,
    code: str,
    detail: str,
) -> BackendError:
    return cls(
        message,
        code=code or None,
        detail=detail or None,
        record=record,
        errors=[e.as_dict() for e in errors],
    )


def is_duplicate_control_id(errors: Sequence[GatewayError]) -> bool:
    """Whether the errors say the control id was used before (by their words)."""
    return any(
        _DUPLICATE_CONTROL.search(text) and _DUPLICATE_WORDS.search(text)
        for e in errors
        for text in (e.description, e.description2)
        if text
    )


def control_error(
    errors: Sequence[GatewayError], *, unique_write: bool, record: str | None = None
) -> BackendError:
    """The error for a ``<control>`` failure (nothing ran).

    ``unique_write``: the request was a write sent with ``uniqueid`` true; a refusal that
    is not a known throttle, sign-in or malformed-XML error is then taken as a repeated
    control id (the gateway's exact code for it is not documented), which the client
    resolves by querying for the key instead of marking the record failed.
    """
    message, code, detail = _summary(errors, "Intacct refused the request")
    codes = {e.errorno for e in errors}
    cls: type[BackendError] = RemoteValidationError
    prefix = "Intacct refused the request"
    if codes & THROTTLE_CODES:
        cls, prefix = ThrottledError, "Intacct rate limit"
    elif codes & AUTH_CODES:
        cls, prefix = AuthenticationError, "Intacct refused the sender"
    elif unique_write and (is_duplicate_control_id(errors) or not codes & MALFORMED_CODES):
        cls, prefix = DuplicateControlId, "Intacct refused the control id"
    return _make(cls, f"{prefix}: {message}", errors, record, code, detail)


def auth_error(errors: Sequence[GatewayError]) -> AuthenticationError:
    """The error for an ``<authentication>`` failure (no function ran)."""
    message, code, detail = _summary(errors, "Intacct refused the sign-in")
    return AuthenticationError(
        f"Intacct sign-in failed: {message}",
        code=code,
        detail=detail,
        errors=[e.as_dict() for e in errors],
    )


def function_error(result: FunctionResult, *, record: str | None = None) -> BackendError:
    """The error for one failed ``<result>``."""
    message, code, detail = _summary(result.errors, f"Intacct {result.function} failed")
    if result.status == "aborted":
        text = f"Intacct rolled back {result.function} with the rest of its transaction: {message}"
        return _make(TransientBackendError, text, result.errors, record, code, detail)
    texts = [t for e in result.errors for t in (e.description, e.description2)]
    cls = RemoteNotFound if any(_NOT_FOUND.search(t) for t in texts) else RemoteValidationError
    return _make(cls, f"Intacct: {message}", result.errors, record, code, detail)


def http_error(
    status: int, *, retry_after: float | None, record: str | None = None
) -> BackendError:
    """The error for an HTTP status the gateway answered without an XML response."""
    if status == 429:
        return ThrottledError(
            "Intacct rate limit (HTTP 429)", retry_after=retry_after, status=status, record=record
        )
    if status in (401, 403):
        return AuthenticationError(f"Intacct refused the request (HTTP {status})", status=status)
    if status >= 500:
        return AmbiguousOutcome(
            f"Intacct failed mid-process (HTTP {status}); the request may have been committed",
            status=status,
            record=record,
        )
    return RemoteValidationError(f"Intacct answered HTTP {status}", status=status, record=record)
