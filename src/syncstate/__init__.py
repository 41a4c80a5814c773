"""syncstate: keep a host application's records in step with an accounting back end.

The names here are the public API. Adapters with optional third-party
dependencies (PostgreSQL, Beancount) and the QuickBooks adapter load on first
use, so ``import syncstate`` stays light.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from syncstate.adapters.storage.memory.state import MemoryStore
from syncstate.adapters.storage.sqlite.state import SQLiteStore
from syncstate.domain.records import RecordKey, SourceRecord, TimeEntry
from syncstate.domain.state import (
    EXPORTABLE,
    HIDDEN,
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
    BackendUnavailable,
    CompanyBusy,
    ConfigurationError,
    ConfirmationError,
    DuplicateDocumentError,
    EmptySelectionError,
    InputError,
    InterchangeError,
    InvalidTransition,
    MappingError,
    MoneyError,
    NotSent,
    PeriodError,
    PluginNotFound,
    RecordNotFound,
    RemoteNotFound,
    RemoteValidationError,
    SchemaVersionError,
    SieParseError,
    StaleVersionError,
    StorageError,
    SyncStateError,
    ThrottledError,
    TransientBackendError,
    UnmappedReference,
    UnresolvedOutcome,
    UnsupportedCapability,
)
from syncstate.money import Money, format_amount, parse_amount, to_decimal
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
from syncstate.services.historical import unmark_historical
from syncstate.services.leases import release_worker
from syncstate.services.preview import ExportPreview, preview_export
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
    from syncstate.adapters.backends.beancount.backend import BeancountBackend
    from syncstate.adapters.backends.memory import MemoryBackend
    from syncstate.adapters.backends.quickbooks.client import QuickBooksBackend, QuickBooksConfig
    from syncstate.adapters.backends.quickbooks.payloads import QboMapping
    from syncstate.adapters.backends.sie.check import check_sie
    from syncstate.adapters.backends.sie.parser import parse_sie, read_sie
    from syncstate.adapters.backends.sie.source import SieSource
    from syncstate.adapters.backends.sie.writer import write_sie
    from syncstate.adapters.storage.memory.bundles import MemoryBundleStore
    from syncstate.adapters.storage.postgres.state import PostgresStore
    from syncstate.adapters.storage.sqlite.bundles import SQLiteBundleStore
    from syncstate.adapters.storage.sqlite.ledger import SQLiteLedgerStore
    from syncstate.adapters.storage.sqlite.mirror import SQLiteMirrorStore
    from syncstate.domain.bundling import Bundle, BundleKind, BundlingPolicy
    from syncstate.domain.mapping import MappingKind, Mappings
    from syncstate.domain.repost.findings import Finding, Findings
    from syncstate.domain.repost.projects import repost_projects
    from syncstate.domain.repost.receivables import repost_receivables
    from syncstate.domain.repost.staff import repost_staff
    from syncstate.domain.repost.wip import repost_wip
    from syncstate.domain.smart_accounting import SmartAccounting
    from syncstate.domain.transactions import Payment, UsageLog
    from syncstate.services.bundle_export import (
        export_bundles,
        mapping_tables,
        unbundle_and_reverse,
    )
    from syncstate.services.bundling import BundleService
    from syncstate.services.customer_sync import sync_customers
    from syncstate.services.mirror import MirrorService

__version__ = "0.1.0.dev0"

#: public names loaded on first use: name -> module
_LAZY = {
    "Bundle": "syncstate.domain.bundling",
    "BundleKind": "syncstate.domain.bundling",
    "BundleService": "syncstate.services.bundling",
    "BundlingPolicy": "syncstate.domain.bundling",
    "Finding": "syncstate.domain.repost.findings",
    "Findings": "syncstate.domain.repost.findings",
    "MappingKind": "syncstate.domain.mapping",
    "Mappings": "syncstate.domain.mapping",
    "MemoryBundleStore": "syncstate.adapters.storage.memory.bundles",
    "MirrorService": "syncstate.services.mirror",
    "Payment": "syncstate.domain.transactions",
    "SQLiteBundleStore": "syncstate.adapters.storage.sqlite.bundles",
    "SQLiteLedgerStore": "syncstate.adapters.storage.sqlite.ledger",
    "SQLiteMirrorStore": "syncstate.adapters.storage.sqlite.mirror",
    "SieSource": "syncstate.adapters.backends.sie.source",
    "SmartAccounting": "syncstate.domain.smart_accounting",
    "UsageLog": "syncstate.domain.transactions",
    "check_sie": "syncstate.adapters.backends.sie.check",
    "export_bundles": "syncstate.services.bundle_export",
    "parse_sie": "syncstate.adapters.backends.sie.parser",
    "read_sie": "syncstate.adapters.backends.sie.parser",
    "repost_projects": "syncstate.domain.repost.projects",
    "repost_receivables": "syncstate.domain.repost.receivables",
    "repost_staff": "syncstate.domain.repost.staff",
    "repost_wip": "syncstate.domain.repost.wip",
    "sync_customers": "syncstate.services.customer_sync",
    "unbundle_and_reverse": "syncstate.services.bundle_export",
    "mapping_tables": "syncstate.services.bundle_export",
    "write_sie": "syncstate.adapters.backends.sie.writer",
    "BeancountBackend": "syncstate.adapters.backends.beancount.backend",
    "MemoryBackend": "syncstate.adapters.backends.memory",
    "PostgresStore": "syncstate.adapters.storage.postgres.state",
    "QboMapping": "syncstate.adapters.backends.quickbooks.payloads",
    "QuickBooksBackend": "syncstate.adapters.backends.quickbooks.client",
    "QuickBooksConfig": "syncstate.adapters.backends.quickbooks.client",
}


#: public names that need an optional extra: name -> extra
_EXTRAS = {"PostgresStore": "postgres"}


def _needs_extra(name: str, extra: str, missing: ImportError) -> type:
    """A stand-in for ``name`` when its extra is not installed.

    ``from syncstate import *`` and ``syncstate.PostgresStore`` keep working without
    the extra; using the name raises :class:`ConfigurationError` saying what to install.
    """

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise ConfigurationError(
            f"{name} needs the {extra!r} extra ({missing}); "
            f"install it with: pip install 'syncstate[{extra}]'"
        )

    return type(name, (), {"__new__": refuse, "__doc__": refuse.__doc__, "__module__": __name__})


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'syncstate' has no attribute {name!r}")
    try:
        value = getattr(importlib.import_module(module), name)
    except ImportError as exc:
        extra = _EXTRAS.get(name)
        if extra is None:
            raise
        value = _needs_extra(name, extra, exc)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "EXPORTABLE",
    "HIDDEN",
    "RESET_WARNING",
    "AccountingBackend",
    "AcknowledgementRequired",
    "AmbiguousOutcome",
    "AuthenticationError",
    "BackendError",
    "BackendUnavailable",
    "BeancountBackend",
    "Bundle",
    "BundleKind",
    "BundleService",
    "BundlingPolicy",
    "Capability",
    "Clock",
    "CompanyBusy",
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
    "ExportPreview",
    "ExportReport",
    "ExportState",
    "Finding",
    "Findings",
    "FiscalYear",
    "IngestReport",
    "InputError",
    "InterchangeError",
    "InvalidTransition",
    "JournalEntry",
    "MappingError",
    "MappingKind",
    "Mappings",
    "MemoryBackend",
    "MemoryBundleStore",
    "MemoryStore",
    "MirrorService",
    "Money",
    "MoneyError",
    "NotSent",
    "Payment",
    "Period",
    "PeriodError",
    "PluginNotFound",
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
    "SQLiteBundleStore",
    "SQLiteLedgerStore",
    "SQLiteMirrorStore",
    "SQLiteStore",
    "SchemaVersionError",
    "SieParseError",
    "SieSource",
    "SmartAccounting",
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
    "UnmappedReference",
    "UnresolvedOutcome",
    "UnsupportedCapability",
    "UsageLog",
    "apply_reset",
    "available_backends",
    "available_stores",
    "check_sie",
    "export_bundles",
    "export_records",
    "format_amount",
    "idempotency_key",
    "mapping_tables",
    "open_backend",
    "open_store",
    "parse_amount",
    "parse_sie",
    "plan_reset",
    "preview_export",
    "read_sie",
    "release_worker",
    "relink",
    "replay",
    "repost_projects",
    "repost_receivables",
    "repost_staff",
    "repost_wip",
    "sync_customers",
    "sync_results",
    "to_decimal",
    "transition",
    "unbundle_and_reverse",
    "unexport",
    "unlink",
    "unmark_historical",
    "write_sie",
]
