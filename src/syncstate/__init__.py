"""syncstate: keep a host application's records in step with an accounting back end.

The names here are the public API. Adapters with optional third-party
dependencies (PostgreSQL, Beancount) and the QuickBooks adapter load on first
use, so ``import syncstate`` stays light.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from syncstate._lazy import EXTRAS as _EXTRAS
from syncstate._lazy import LAZY as _LAZY
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
    from syncstate.adapters.backends.intacct import (
        IntacctBackend,
        IntacctConfig,
        IntacctCredentials,
        IntacctMapping,
    )
    from syncstate.adapters.backends.memory import MemoryBackend
    from syncstate.adapters.backends.quickbooks.cdc import ChangeFeed
    from syncstate.adapters.backends.quickbooks.client import QuickBooksBackend, QuickBooksConfig
    from syncstate.adapters.backends.quickbooks.oauth import OAuthApp, OAuthTokens, QuickBooksOAuth
    from syncstate.adapters.backends.quickbooks.payloads import QboMapping
    from syncstate.adapters.backends.quickbooks.webhooks import WebhookReceiver
    from syncstate.adapters.backends.sie.check import check_sie
    from syncstate.adapters.backends.sie.export_backend import SieExportBackend
    from syncstate.adapters.backends.sie.export_vouchers import SieExportMapping
    from syncstate.adapters.backends.sie.parser import parse_sie, read_sie
    from syncstate.adapters.backends.sie.source import SieSource
    from syncstate.adapters.backends.sie.writer import write_sie
    from syncstate.adapters.backends.xero import XeroBackend, XeroConfig, XeroMapping
    from syncstate.adapters.storage.memory import MemoryMirrorStore
    from syncstate.adapters.storage.memory.budgets import MemoryBudgetStore
    from syncstate.adapters.storage.memory.bundles import MemoryBundleStore
    from syncstate.adapters.storage.memory.ledger import MemoryRepostLedger
    from syncstate.adapters.storage.postgres import (
        PostgresBundleStore,
        PostgresLedgerStore,
        PostgresMirrorStore,
        PostgresStores,
        open_postgres,
    )
    from syncstate.adapters.storage.postgres.budgets import PostgresBudgetStore
    from syncstate.adapters.storage.postgres.state import PostgresStore
    from syncstate.adapters.storage.sqlite.budgets import SQLiteBudgetStore
    from syncstate.adapters.storage.sqlite.bundles import SQLiteBundleStore
    from syncstate.adapters.storage.sqlite.ledger import SQLiteLedgerStore
    from syncstate.adapters.storage.sqlite.mirror import SQLiteMirrorStore
    from syncstate.domain.bundling import Bundle, BundleKind, BundlingPolicy, make_bundle
    from syncstate.domain.mapping import MappingKind, Mappings
    from syncstate.domain.mirror_attempts import MirrorAttempt
    from syncstate.domain.repost.findings import Finding, Findings
    from syncstate.domain.repost.journal import RepostJournalEntry
    from syncstate.domain.repost.projects import repost_projects
    from syncstate.domain.repost.receivables import (
        Allocation,
        DocKind,
        ReceivableDocument,
        repost_receivables,
    )
    from syncstate.domain.repost.staff import repost_staff
    from syncstate.domain.repost.wip import repost_wip
    from syncstate.domain.smart_accounting import SmartAccounting
    from syncstate.domain.transactions import Payment, UsageLog
    from syncstate.periods import FiscalCalendar, FiscalPeriod, PeriodPattern
    from syncstate.plugins import (
        available_bundle_stores,
        available_bundling_policies,
        available_mirror_sources,
        available_mirror_stores,
        open_bundle_store,
        open_bundling_policy,
        open_mirror_source,
        open_mirror_store,
    )
    from syncstate.ports import AtomicUnbundle, RepostLedger
    from syncstate.ports.budget import BudgetLimits, BudgetStore
    from syncstate.ports.changes import RemoteChange
    from syncstate.ports.ledger import WorkLedger
    from syncstate.ports.names import NameCandidate, NameMatch
    from syncstate.ports.repost_journal import JournaledWorkLedger
    from syncstate.services.budgets import Budgets
    from syncstate.services.bundle_export import (
        export_bundles,
        fetch_bundle_pdf,
        mapping_tables,
        unbundle_and_reverse,
    )
    from syncstate.services.bundling import BundleService
    from syncstate.services.customer_sync import sync_customers
    from syncstate.services.directory_sync import DirectorySync, sync_items, sync_vendors
    from syncstate.services.fanout import PageOutcome, companies_with_work, export_page
    from syncstate.services.mirror import MirrorService
    from syncstate.services.reference_check import checked_renderers
    from syncstate.services.remote_changes import (
        RemoteChangeOutcome,
        RemoteChangesReport,
        apply_remote_changes,
        resolve_remote_change,
    )
    from syncstate.services.repost import (
        apply_plan,
        diagnose_ledger,
        drill_down,
        import_receivables,
        plan_receivables_repost,
        repost_receivables_streamed,
    )
    from syncstate.services.repost_wip import WipPlan, incremental_wip_repost, plan_wip_repost
    from syncstate.services.repost_work import (
        WorkPlan,
        apply_work_plan,
        plan_projects_repost,
        plan_staff_repost,
        work_journal,
    )
    from syncstate.services.retry import RetryPolicy

__version__ = "0.1.0.dev0"


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
    "Allocation",
    "AmbiguousOutcome",
    "AtomicUnbundle",
    "AuthenticationError",
    "BackendError",
    "BackendUnavailable",
    "BeancountBackend",
    "BudgetLimits",
    "BudgetStore",
    "Budgets",
    "Bundle",
    "BundleKind",
    "BundleService",
    "BundlingPolicy",
    "Capability",
    "ChangeFeed",
    "Clock",
    "CompanyBusy",
    "ConfigurationError",
    "ConfirmationError",
    "DateRange",
    "DirectorySync",
    "DocKind",
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
    "FiscalCalendar",
    "FiscalPeriod",
    "FiscalYear",
    "IngestReport",
    "InputError",
    "IntacctBackend",
    "IntacctConfig",
    "IntacctCredentials",
    "IntacctMapping",
    "InterchangeError",
    "InvalidTransition",
    "JournalEntry",
    "JournaledWorkLedger",
    "MappingError",
    "MappingKind",
    "Mappings",
    "MemoryBackend",
    "MemoryBudgetStore",
    "MemoryBundleStore",
    "MemoryMirrorStore",
    "MemoryRepostLedger",
    "MemoryStore",
    "MirrorAttempt",
    "MirrorService",
    "Money",
    "MoneyError",
    "NameCandidate",
    "NameMatch",
    "NotSent",
    "OAuthApp",
    "OAuthTokens",
    "PageOutcome",
    "Payment",
    "Period",
    "PeriodError",
    "PeriodPattern",
    "PluginNotFound",
    "PostgresBudgetStore",
    "PostgresBundleStore",
    "PostgresLedgerStore",
    "PostgresMirrorStore",
    "PostgresStore",
    "PostgresStores",
    "Progress",
    "QboMapping",
    "QuickBooksBackend",
    "QuickBooksConfig",
    "QuickBooksOAuth",
    "ReceivableDocument",
    "RecordKey",
    "RecordNotFound",
    "RemoteChange",
    "RemoteChangeOutcome",
    "RemoteChangesReport",
    "RemoteNotFound",
    "RemoteRef",
    "RemoteValidationError",
    "RepostJournalEntry",
    "RepostLedger",
    "ResetPlan",
    "ResetResult",
    "ResultFilter",
    "RetryPolicy",
    "SQLiteBudgetStore",
    "SQLiteBundleStore",
    "SQLiteLedgerStore",
    "SQLiteMirrorStore",
    "SQLiteStore",
    "SchemaVersionError",
    "SieExportBackend",
    "SieExportMapping",
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
    "WebhookReceiver",
    "WipPlan",
    "WorkLedger",
    "WorkPlan",
    "XeroBackend",
    "XeroConfig",
    "XeroMapping",
    "apply_plan",
    "apply_remote_changes",
    "apply_reset",
    "apply_work_plan",
    "available_backends",
    "available_bundle_stores",
    "available_bundling_policies",
    "available_mirror_sources",
    "available_mirror_stores",
    "available_stores",
    "check_sie",
    "checked_renderers",
    "companies_with_work",
    "diagnose_ledger",
    "drill_down",
    "export_bundles",
    "export_page",
    "export_records",
    "fetch_bundle_pdf",
    "format_amount",
    "idempotency_key",
    "import_receivables",
    "incremental_wip_repost",
    "make_bundle",
    "mapping_tables",
    "open_backend",
    "open_bundle_store",
    "open_bundling_policy",
    "open_mirror_source",
    "open_mirror_store",
    "open_postgres",
    "open_store",
    "parse_amount",
    "parse_sie",
    "plan_projects_repost",
    "plan_receivables_repost",
    "plan_reset",
    "plan_staff_repost",
    "plan_wip_repost",
    "preview_export",
    "read_sie",
    "release_worker",
    "relink",
    "replay",
    "repost_projects",
    "repost_receivables",
    "repost_receivables_streamed",
    "repost_staff",
    "repost_wip",
    "resolve_remote_change",
    "sync_customers",
    "sync_items",
    "sync_results",
    "sync_vendors",
    "to_decimal",
    "transition",
    "unbundle_and_reverse",
    "unexport",
    "unlink",
    "unmark_historical",
    "work_journal",
    "write_sie",
]
