"""syncstate: keep a host application's records in step with an accounting back end.

The names here are the public API. Adapters with optional third-party
dependencies (PostgreSQL, Beancount) and the QuickBooks adapter load on first
use, so ``import syncstate`` stays light.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from syncstate.adapters.storage.memory import MemoryStore
from syncstate.adapters.storage.sqlite import SQLiteStore
from syncstate.domain.records import RecordKey, SourceRecord, TimeEntry
from syncstate.domain.state import (
    Event,
    EventKind,
    ExportState,
    JournalEntry,
    Status,
    idempotency_key,
    replay,
    transition,
)
from syncstate.errors import (
    AcknowledgementRequired,
    AmbiguousOutcome,
    AuthenticationError,
    BackendError,
    ConfigurationError,
    ConfirmationError,
    DuplicateDocumentError,
    EmptySelectionError,
    InputError,
    InvalidTransition,
    MoneyError,
    PeriodError,
    RecordNotFound,
    RemoteNotFound,
    RemoteValidationError,
    SchemaVersionError,
    StaleVersionError,
    StorageError,
    SyncStateError,
    ThrottledError,
    TransientBackendError,
    UnsupportedCapability,
)
from syncstate.money import Money, to_decimal
from syncstate.periods import DateRange, FiscalYear, Period
from syncstate.plugins import available_backends, available_stores, open_backend, open_store
from syncstate.ports import (
    AccountingBackend,
    Capability,
    Clock,
    Document,
    DocumentLine,
    IngestReport,
    Progress,
    RemoteRef,
    StateStore,
    StoredRecord,
    SystemClock,
)
from syncstate.services.export import (
    ExportOptions,
    ExportReport,
    UnexportReport,
    export_records,
    unexport,
)
from syncstate.services.reset import RESET_WARNING, ResetPlan, ResetResult, apply_reset, plan_reset
from syncstate.services.results import (
    ResultFilter,
    SyncResult,
    SyncResultsPage,
    relink,
    sync_results,
    unlink,
)

if TYPE_CHECKING:
    from syncstate.adapters.backends.beancount import BeancountBackend
    from syncstate.adapters.backends.memory import MemoryBackend
    from syncstate.adapters.backends.quickbooks import QuickBooksBackend, QuickBooksConfig
    from syncstate.adapters.backends.quickbooks_payloads import QboMapping
    from syncstate.adapters.storage.postgres import PostgresStore

__version__ = "0.1.0.dev0"

#: public names loaded on first use: name -> module
_LAZY = {
    "BeancountBackend": "syncstate.adapters.backends.beancount",
    "MemoryBackend": "syncstate.adapters.backends.memory",
    "PostgresStore": "syncstate.adapters.storage.postgres",
    "QboMapping": "syncstate.adapters.backends.quickbooks_payloads",
    "QuickBooksBackend": "syncstate.adapters.backends.quickbooks",
    "QuickBooksConfig": "syncstate.adapters.backends.quickbooks",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'syncstate' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "RESET_WARNING",
    "AccountingBackend",
    "AcknowledgementRequired",
    "AmbiguousOutcome",
    "AuthenticationError",
    "BackendError",
    "BeancountBackend",
    "Capability",
    "Clock",
    "ConfigurationError",
    "ConfirmationError",
    "DateRange",
    "Document",
    "DocumentLine",
    "DuplicateDocumentError",
    "EmptySelectionError",
    "Event",
    "EventKind",
    "ExportOptions",
    "ExportReport",
    "ExportState",
    "FiscalYear",
    "IngestReport",
    "InputError",
    "InvalidTransition",
    "JournalEntry",
    "MemoryBackend",
    "MemoryStore",
    "Money",
    "MoneyError",
    "Period",
    "PeriodError",
    "PostgresStore",
    "Progress",
    "QboMapping",
    "QuickBooksBackend",
    "QuickBooksConfig",
    "RecordKey",
    "RecordNotFound",
    "RemoteNotFound",
    "RemoteRef",
    "RemoteValidationError",
    "ResetPlan",
    "ResetResult",
    "ResultFilter",
    "SQLiteStore",
    "SchemaVersionError",
    "SourceRecord",
    "StaleVersionError",
    "StateStore",
    "Status",
    "StorageError",
    "StoredRecord",
    "SyncResult",
    "SyncResultsPage",
    "SyncStateError",
    "SystemClock",
    "ThrottledError",
    "TimeEntry",
    "TransientBackendError",
    "UnexportReport",
    "UnsupportedCapability",
    "apply_reset",
    "available_backends",
    "available_stores",
    "export_records",
    "idempotency_key",
    "open_backend",
    "open_store",
    "plan_reset",
    "relink",
    "replay",
    "sync_results",
    "to_decimal",
    "transition",
    "unexport",
    "unlink",
]
