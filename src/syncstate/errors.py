"""One exception tree for everything syncstate raises.

Grouped by what a caller does about it::

    SyncStateError
    ├── InputError                  bad input from the caller: fix the call
    │   ├── MoneyError              float, bool, mixed currencies, malformed amount
    │   ├── PeriodError             inverted or malformed date range / fiscal year
    │   ├── EmptySelectionError     a selection that matches nothing
    │   ├── AcknowledgementRequired a destructive plan applied without acknowledging it
    │   ├── ConfirmationError       a company confirmation that does not match
    │   ├── SieParseError           a malformed SIE file (file, line number, line)
    │   ├── PluginNotFound          no back end / store registered under that name
    │   ├── MappingError            customers / items not mapped: all of them at once,
    │   │                           naming the records; raised before anything is sent
    │   └── InterchangeError        a malformed repost JSON document (file, document, field)
    ├── InvalidTransition           an event not allowed from a record's current state
    ├── RecordNotFound              no record with that (company, kind, source id)
    ├── CompanyBusy                 another run holds this company's lock: retry later
    ├── ConfigurationError          a back end / store configured wrongly
    ├── StorageError                the store failed (disk, schema, connection)
    │   └── SchemaVersionError      the database is newer than this library
    └── BackendError                the accounting back end refused or failed
        ├── UnsupportedCapability   the back end cannot do that (e.g. delete)
        ├── RemoteValidationError   the back end rejected the document: never retried
        │   └── UnmappedReference   a host id (customer, employee, item) has no
        │                           back-end mapping; caught before sending
        ├── RemoteNotFound          the remote document does not exist
        ├── StaleVersionError       the remote version token is out of date
        ├── DuplicateDocumentError  the back end already has that document
        ├── AuthenticationError     token expired or revoked
        └── TransientBackendError   worth retrying
            ├── ThrottledError      429 / rate limit; may carry ``retry_after``
            └── AmbiguousOutcome    timeout, dropped connection, 5xx: the remote
                                    side may have committed; look up before resending

Every error takes keyword-only fields; ``str(error)`` is one readable line that
names the record, file and line where there is one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "AcknowledgementRequired",
    "AmbiguousOutcome",
    "AuthenticationError",
    "BackendError",
    "CompanyBusy",
    "ConfigurationError",
    "ConfirmationError",
    "DuplicateDocumentError",
    "EmptySelectionError",
    "InputError",
    "InterchangeError",
    "InvalidTransition",
    "MappingError",
    "MoneyError",
    "PeriodError",
    "PluginNotFound",
    "RecordNotFound",
    "RemoteNotFound",
    "RemoteValidationError",
    "SchemaVersionError",
    "SieParseError",
    "StaleVersionError",
    "StorageError",
    "SyncStateError",
    "ThrottledError",
    "TransientBackendError",
    "UnmappedReference",
    "UnsupportedCapability",
]


class SyncStateError(Exception):
    """Root of every exception syncstate raises."""


class InputError(SyncStateError, ValueError):
    """The caller passed something that cannot be used as given."""


class MoneyError(InputError):
    """A monetary value is not a valid Decimal amount, or currencies are mixed."""


class PeriodError(InputError):
    """A date range, period or fiscal year is malformed or inverted."""


class EmptySelectionError(InputError):
    """A selection (date range, employees, ...) matched nothing to act on."""


class AcknowledgementRequired(InputError):
    """A destructive plan was applied without the explicit acknowledgement it needs."""


class ConfirmationError(InputError):
    """The confirmation given for a destructive action does not match its target."""


class SieParseError(InputError):
    """An SIE file is malformed.

    ``file`` and ``line`` (1-based; 0 for the whole file) say where, ``text`` is
    the offending line as read, ``problems`` every error found in the file.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str,
        line: int,
        text: str = "",
        problems: tuple[Any, ...] = (),
    ) -> None:
        self.message = message
        self.file = file
        self.line = line
        self.text = text
        self.problems = problems
        where = f"{file}:{line}" if line else file
        shown = f": {text.strip()[:120]!r}" if text.strip() else ""
        super().__init__(f"{where}: {message}{shown}")


class MappingError(InputError):
    """Records need mappings (customer, item, deposit account) that are missing.

    Raised before anything is sent. ``missing`` holds every missing mapping
    found (each names the records that need it), not just the first.
    """

    def __init__(self, *, missing: tuple[Any, ...]) -> None:
        self.missing = missing
        listed = "; ".join(str(item) for item in missing)
        super().__init__(f"{len(missing)} missing mapping(s), nothing was sent: {listed}")


class PluginNotFound(InputError, LookupError):
    """No back end or store is registered under the name asked for.

    ``group`` is the entry-point group searched, ``available`` the names found.
    """

    def __init__(self, *, group: str, name: str, available: tuple[str, ...]) -> None:
        self.group = group
        self.name = name
        self.available = available
        listed = ", ".join(available) if available else "none"
        super().__init__(f"no plug-in {name!r} in entry-point group {group!r}; available: {listed}")


class InterchangeError(InputError):
    """A repost interchange (JSON) document is malformed.

    ``source`` names the file, ``document`` the document or entry, ``field`` the field.
    """

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        document: str | None = None,
        field: str | None = None,
    ) -> None:
        self.source = source
        self.document = document
        self.field = field
        where = [part for part in (source, document and f"document {document}") if part]
        where += [f"field {field!r}"] if field else []
        super().__init__(f"{': '.join(where)}: {message}" if where else message)


class InvalidTransition(SyncStateError):
    """An event is not allowed from a record's current export state."""

    def __init__(self, *, record: str, state: str, event: str, detail: str = "") -> None:
        self.record = record
        self.state = state
        self.event = event
        self.detail = detail
        message = f"record {record}: event {event!r} is not allowed in state {state!r}"
        if detail:
            message += f" ({detail})"
        super().__init__(message)


class RecordNotFound(SyncStateError, LookupError):
    """No record with the given identity exists in the store."""

    def __init__(self, *, record: str) -> None:
        self.record = record
        super().__init__(f"record {record} not found")


class CompanyBusy(SyncStateError):
    """Another run holds the lock of this company (other companies stay usable)."""

    def __init__(self, *, company: str, holder: str = "") -> None:
        self.company = company
        self.holder = holder
        by = f" by {holder}" if holder else ""
        super().__init__(f"company {company} is busy (locked{by}); retry when it finishes")


class ConfigurationError(SyncStateError):
    """A store, back end or option is configured wrongly."""


class StorageError(SyncStateError):
    """The state store failed."""


class SchemaVersionError(StorageError):
    """The database schema is newer than this version of syncstate understands."""


class BackendError(SyncStateError):
    """The accounting back end refused or failed a request.

    ``code`` is the back end's own error code (QuickBooks fault code, ...),
    ``detail`` its longer explanation, ``status`` the HTTP status where there is one.
    ``errors`` keeps every error the back end reported (a QuickBooks ``Fault`` may hold
    several), each a mapping with ``code``, ``message``, ``detail`` and ``element``;
    the first one is also in ``code`` / ``message`` / ``detail``. ``str(error)`` is one
    line: newlines in the back end's texts are folded, and further errors are named.
    """

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        detail: str | None = None,
        status: int | None = None,
        record: str | None = None,
        errors: Sequence[Mapping[str, str]] = (),
    ) -> None:
        self.message = message
        self.code = code
        self.detail = detail
        self.status = status
        self.record = record
        self.errors: tuple[Mapping[str, str], ...] = tuple(errors)
        parts = [message]
        if code:
            parts.append(f"code {code}")
        if detail:
            parts.append(detail)
        for extra in self.errors[1:]:
            text = " ".join(v for v in (extra.get("message"), extra.get("detail")) if v)
            parts.append(f"also code {extra.get('code') or '?'}: {text}".rstrip(": "))
        if record:
            parts.append(f"record {record}")
        super().__init__(" ".join("; ".join(parts).split()))

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON output and sync result views."""
        return {
            "error": type(self).__name__,
            "message": self.message,
            "code": self.code,
            "detail": self.detail,
            "status": self.status,
            "errors": [dict(e) for e in self.errors],
        }


class UnsupportedCapability(BackendError):
    """The back end does not declare the capability an operation needs."""


class RemoteValidationError(BackendError):
    """The back end rejected the document as invalid. Never retried."""


class UnmappedReference(RemoteValidationError):
    """A document names a host id with no mapping to the back end; nothing was sent.

    ``what`` is the kind of reference (``customer``, ``employee``, ``item``,
    ``account``) and ``host_id`` the host's id that is not mapped.
    """

    def __init__(self, message: str, *, what: str, host_id: str, **kwargs: Any) -> None:
        self.what = what
        self.host_id = host_id
        super().__init__(message, **kwargs)


class RemoteNotFound(BackendError):
    """The remote document does not exist (any more)."""


class StaleVersionError(BackendError):
    """The version token sent with an update is out of date."""


class DuplicateDocumentError(BackendError):
    """The back end already holds this document; ``existing_id`` names it when known."""

    def __init__(self, message: str, *, existing_id: str | None = None, **kwargs: Any) -> None:
        self.existing_id = existing_id
        super().__init__(message, **kwargs)


class AuthenticationError(BackendError):
    """The credentials were refused (expired or revoked token)."""


class TransientBackendError(BackendError):
    """A failure worth retrying after a pause."""


class ThrottledError(TransientBackendError):
    """The back end asked us to slow down; ``retry_after`` is in seconds when given."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kwargs)


class AmbiguousOutcome(TransientBackendError):
    """The request may or may not have been committed remotely.

    Timeouts, dropped connections and 5xx answers land here: the engine must look
    the document up by its idempotency key before it sends again.
    """


class NotSent(TransientBackendError):
    """The request provably never left this machine: nothing can exist remotely.

    Connection refused, DNS failure, TLS handshake failure, a connect timeout or a
    timeout waiting for a pooled connection. The engine retries it with the same
    key, or releases the record, and never needs a lookup for it.
    """


class UnresolvedOutcome(BackendError):
    """Resolving an ambiguous outcome failed: the document may or may not exist.

    Raised when the lookup by idempotency key that must precede a resend itself
    fails (a query fault, a 5xx, a timeout). The record stays in flight with the
    same key, reported as pending with this message; it is never marked failed,
    because a failed record's retry gets a new key and could create a duplicate.
    """


class BackendUnavailable(BackendError):
    """The back end could not be reached: the run stopped early (circuit breaker).

    Raised by :func:`~syncstate.export_records` after ``ExportOptions.max_connection_failures``
    consecutive requests that never left the machine, or after failing for
    ``ExportOptions.unavailable_after`` seconds. Everything the run held was
    released (or, where a send may have happened, left in flight with its key);
    ``report`` is the run's :class:`~syncstate.ExportReport`.
    """

    def __init__(self, message: str, *, report: Any = None, **kwargs: Any) -> None:
        self.report = report
        super().__init__(message, **kwargs)
