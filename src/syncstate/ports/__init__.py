"""Ports: the small protocols a host application plugs its own pieces into.

* :class:`StateStore` keeps records, their export status and the journal.
* :class:`AccountingBackend` is the remote side: QuickBooks, a ledger file, ...
* :class:`Clock` tells the time (so tests and replays control it).
* :class:`Progress` hears about long operations (a CLI bar, a notebook widget).
* :class:`BudgetStore` keeps each company's request rate and concurrency, shared by
  every worker (:mod:`.budget`).
* :class:`RepostLedger` holds the receivables and WIP the repost services restore.

Adapters depend on this package; the domain never depends on adapters. Each port lives
in a module of its own (:mod:`.state`, :mod:`.backend`, :mod:`.bundles`, :mod:`.mirror`,
:mod:`.runtime`, :mod:`.budget`); every name is importable from ``syncstate.ports``.
"""

from syncstate.ports.backend import (
    AccountingBackend,
    Capability,
    Document,
    DocumentLine,
    RemoteRef,
    can_look_up,
)
from syncstate.ports.budget import BudgetLimits, BudgetScope, BudgetStore, BudgetUsage, Grant
from syncstate.ports.bundles import (
    AtomicUnbundle,
    BundleEntry,
    BundleStore,
    CustomerDirectory,
    RemoteCustomer,
)
from syncstate.ports.ledger import RepostLedger
from syncstate.ports.mirror import MirrorStore, Source
from syncstate.ports.runtime import Clock, Progress, SystemClock
from syncstate.ports.state import IngestReport, StateStore, StoredRecord

__all__ = [
    "AccountingBackend",
    "AtomicUnbundle",
    "BudgetLimits",
    "BudgetScope",
    "BudgetStore",
    "BudgetUsage",
    "BundleEntry",
    "BundleStore",
    "Capability",
    "Clock",
    "CustomerDirectory",
    "Document",
    "DocumentLine",
    "Grant",
    "IngestReport",
    "MirrorStore",
    "Progress",
    "RemoteCustomer",
    "RemoteRef",
    "RepostLedger",
    "Source",
    "StateStore",
    "StoredRecord",
    "SystemClock",
    "can_look_up",
]
