"""Bundling use cases: open transactions, bundle, backlog, reconciled documents, un-bundle.

:class:`BundleService` joins the three places bundling state lives:

* the :class:`~syncstate.ports.StateStore` holds usage logs, payments and the
  bundles themselves (records of kind ``bundle.*``, with export states,
  journal and idempotency keys like any record);
* the :class:`~syncstate.ports.BundleStore` holds which transactions are in
  which bundle (a transaction in at most one), and the name mappings;
* the policy (:class:`~syncstate.domain.bundling.BundlingPolicy`) decides.

Writes go state store first, bundle store second, so an interrupted call can
be repeated: bundling again recreates the same bundles (their ids come from
their content), un-bundling again finishes removing the association. When the
bundle store was opened beside the state store in one database (it offers
:class:`~syncstate.ports.AtomicUnbundle`), an un-bundle is one transaction
over both: after a crash, membership and export state always agree.
Export, PDFs and overwrite live in :mod:`syncstate.services.bundle_export`; the
views and reports the service answers with live in
:mod:`syncstate.services.bundle_reports` (and are re-exported here).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence

from syncstate.domain.bundling import (
    BUNDLE_KINDS,
    Bundle,
    BundleKind,
    BundlingPolicy,
    OpenInvoice,
    open_invoices,
)
from syncstate.domain.mapping import MappingKind, Mappings
from syncstate.domain.records import RecordKey
from syncstate.domain.smart_accounting import SmartAccounting, plan_bundles
from syncstate.domain.state import EXPORTABLE, Event, EventKind, ExportState
from syncstate.domain.transactions import (
    TRANSACTION_KINDS,
    Payment,
    UsageLog,
    read_transaction,
)
from syncstate.errors import EmptySelectionError, InputError, InvalidTransition
from syncstate.periods import DateRange
from syncstate.ports import (
    AtomicUnbundle,
    BundleEntry,
    BundleStore,
    Clock,
    StateStore,
    StoredRecord,
    SystemClock,
)
from syncstate.services.bundle_rebuild import rebuild_bundle
from syncstate.services.bundle_reports import (
    RECONCILED,
    BundleReport,
    BundleView,
    HistoricalReport,
    Trace,
    UnbundleReport,
)

__all__ = [
    "BundleReport",
    "BundleService",
    "BundleView",
    "HistoricalReport",
    "Trace",
    "UnbundleReport",
]

log = logging.getLogger(__name__)

_EARLIEST = dt.date(1, 1, 1)


class BundleService:
    """Bundling use cases over a state store and a bundle store (see module doc)."""

    def __init__(
        self,
        store: StateStore,
        bundles: BundleStore,
        *,
        policy: BundlingPolicy | None = None,
        clock: Clock | None = None,
        actor: str = "syncstate",
    ) -> None:
        self.store = store
        self.bundles = bundles
        self.policy: BundlingPolicy = policy or SmartAccounting()
        self.clock: Clock = clock or SystemClock()
        self.actor = actor

    def __repr__(self) -> str:
        return f"BundleService({self.store!r}, {self.bundles!r}, policy={self.policy.name!r})"

    # ----------------------------------------------------------------- reads

    def open_records(
        self,
        company: str,
        *,
        clients: Iterable[str] | None = None,
        through: dt.date | None = None,
    ) -> list[StoredRecord]:
        """Usage logs and payments that are in no bundle and still to account for."""
        found = self.store.find(
            company,
            kinds=TRANSACTION_KINDS,
            subjects=None if clients is None else list(clients),
            date_range=None if through is None else DateRange(_EARLIEST, through),
            states=EXPORTABLE,
        )
        bundled = self.bundles.bundle_of(company, [s.key for s in found])
        return [s for s in found if s.key not in bundled]

    def open_transactions(
        self,
        company: str,
        *,
        clients: Iterable[str] | None = None,
        through: dt.date | None = None,
    ) -> tuple[list[UsageLog], list[Payment]]:
        """The open usage logs and payments, typed."""
        usage: list[UsageLog] = []
        payments: list[Payment] = []
        for stored in self.open_records(company, clients=clients, through=through):
            tx = read_transaction(stored.record)
            (usage if isinstance(tx, UsageLog) else payments).append(tx)  # type: ignore[arg-type]
        return usage, payments

    def views(self, company: str, entries: Sequence[BundleEntry]) -> list[BundleView]:
        """Bundle views (content and status) of ``entries``, in their order."""
        by_kind: dict[str, list[str]] = {}
        for entry in entries:
            by_kind.setdefault(entry.bundle.kind, []).append(entry.bundle.source_id)
        stored: dict[RecordKey, StoredRecord] = {}
        for kind, ids in by_kind.items():
            for found in self.store.find(company, kinds=[kind], source_ids=ids):
                stored[found.key] = found
        out = []
        for entry in entries:
            item = stored.get(entry.bundle)
            if item is None:
                continue  # association written, record not: repaired by bundling again
            out.append(
                BundleView(
                    bundle=Bundle.from_record(item.record),
                    state=item.state,
                    remote_id=item.status.remote_id,
                    remote_version=item.status.remote_version,
                    message=item.status.message,
                )
            )
        return out

    def list_bundles(
        self,
        company: str,
        *,
        clients: Iterable[str] | None = None,
        states: Iterable[ExportState] | None = None,
        offset: int = 0,
        limit: int | None = None,
    ) -> list[BundleView]:
        """Live bundles in stable order (client, date, kind, id), optionally by state."""
        if offset < 0 or (limit is not None and limit < 1):
            raise InputError(f"page offset {offset} / limit {limit} is out of range")
        entries = self.bundles.entries(company, clients=clients)
        views = self.views(company, entries)
        if states is not None:
            wanted = set(states)
            views = [v for v in views if v.state in wanted]
        end = None if limit is None else offset + limit
        return views[offset:end]

    def reconciled(
        self,
        company: str,
        *,
        clients: Iterable[str] | None = None,
        offset: int = 0,
        limit: int | None = None,
    ) -> list[BundleView]:
        """Reconciled documents: bundles exported (or outdated) with their remote ids."""
        return self.list_bundles(
            company, clients=clients, states=RECONCILED, offset=offset, limit=limit
        )

    def get(self, company: str, bundle_id: str) -> BundleView:
        """One live bundle by id; :class:`InputError` if there is none."""
        keys = [RecordKey(company, kind, bundle_id) for kind in BUNDLE_KINDS]
        entries = self.bundles.entries(company, bundles=keys)
        views = self.views(company, entries)
        if not views:
            raise EmptySelectionError(f"company {company!r} has no bundle {bundle_id!r}")
        return views[0]

    def trace(self, company: str, key: RecordKey) -> Trace:
        """A usage log or payment → its bundle and document; a bundle → its members."""
        stored = self.store.get(key)
        if key.kind in BUNDLE_KINDS:
            view = self.get(company, key.source_id)
            return Trace(record=key, state=stored.state, bundle=view, members=view.bundle.members)
        owner = self.bundles.bundle_of(company, [key]).get(key)
        found = None if owner is None else self.get(company, owner.source_id)
        return Trace(record=key, state=stored.state, bundle=found)

    def mappings(self, company: str) -> Mappings:
        """The company's customer, item and deposit-account mappings."""
        return Mappings.from_rows(
            (MappingKind(kind), local, remote)
            for kind, local, remote in self.bundles.mappings(company)
        )

    def set_mapping(self, company: str, kind: MappingKind | str, local: str, remote: str) -> None:
        """Map ``local`` (a client, resource or payment method) to ``remote``."""
        try:
            kind = MappingKind(kind)
        except ValueError:
            names = ", ".join(k.value for k in MappingKind)
            raise InputError(f"mapping kind {kind!r} is not one of {names}") from None
        if not local.strip():
            raise InputError(f"a {kind.value} mapping needs a non-empty {kind.label}")
        self.bundles.set_mappings(company, [(kind.value, local, remote)])

    # ---------------------------------------------------------------- writes

    def _existing_invoices(
        self, company: str, clients: Iterable[str]
    ) -> dict[str, list[OpenInvoice]]:
        entries = self.bundles.entries(company, clients=sorted(set(clients)))
        by_client: dict[str, list[Bundle]] = {}
        for view in self.views(company, entries):
            by_client.setdefault(view.bundle.client, []).append(view.bundle)
        return {client: open_invoices(items) for client, items in by_client.items()}

    def plan(
        self,
        company: str,
        *,
        clients: Iterable[str] | None = None,
        through: dt.date | None = None,
    ) -> list[Bundle]:
        """The bundles the policy would make now (a dry run: nothing is stored)."""
        usage, payments = self.open_transactions(company, clients=clients, through=through)
        involved = {u.client for u in usage} | {p.client for p in payments}
        return plan_bundles(
            company,
            usage,
            payments,
            self.policy,
            invoices=self._existing_invoices(company, involved),
        )

    def bundle(
        self,
        company: str,
        *,
        clients: Iterable[str] | None = None,
        through: dt.date | None = None,
        dry_run: bool = False,
    ) -> BundleReport:
        """Bundle the open transactions of ``clients`` (all when ``None``) up to ``through``."""
        planned = self.plan(company, clients=clients, through=through)
        if not dry_run and planned:
            self.store_bundles(company, planned)
        log.info(
            "%s %d bundles",
            "dry run: would make" if dry_run else "made",
            len(planned),
            extra={"company": company, "records": len(planned), "dry_run": dry_run},
        )
        if log.isEnabledFor(logging.DEBUG):
            for b in planned:
                log.debug(
                    "bundle %s holds %d transactions",
                    b.key,
                    len(b.members),
                    extra={"company": company, "record": str(b.key)},
                )
        return BundleReport(company=company, bundles=tuple(planned), applied=not dry_run)

    def store_bundles(self, company: str, bundles: Sequence[Bundle]) -> None:
        """Store bundles: records first (re-linking ids un-bundled before), then members."""
        now = self.clock.now()
        by_kind: dict[str, list[str]] = {}
        for b in bundles:
            by_kind.setdefault(b.key.kind, []).append(b.bundle_id)
        unlinked = [
            s.key
            for kind, ids in by_kind.items()
            for s in self.store.find(
                company, kinds=[kind], source_ids=ids, states=[ExportState.UNLINKED]
            )
        ]
        self.store.ingest(company, [b.to_record() for b in bundles], at=now, actor=self.actor)
        if unlinked:
            event = Event.of(EventKind.RELINK, "bundled again")
            self.store.apply(company, [(k, event) for k in unlinked], at=now, actor=self.actor)
        self.bundles.add(
            company,
            [
                BundleEntry(bundle=b.key, client=b.client, on=b.date, members=b.members)
                for b in bundles
            ],
        )

    def mark_historical(
        self,
        company: str,
        *,
        cutoff: dt.date,
        clients: Iterable[str] | None = None,
        dry_run: bool = False,
    ) -> HistoricalReport:
        """Mark open transactions up to ``cutoff`` as already accounted for (never sent)."""
        found = self.open_records(company, clients=clients, through=cutoff)
        per_client: dict[str, int] = {}
        for s in found:
            per_client[s.record.subject] = per_client.get(s.record.subject, 0) + 1
        if found and not dry_run:
            event = Event.of(
                EventKind.MARK_HISTORICAL, f"historical backlog up to {cutoff.isoformat()}"
            )
            self.store.apply(
                company, [(s.key, event) for s in found], at=self.clock.now(), actor=self.actor
            )
        return HistoricalReport(
            company=company, cutoff=cutoff, per_client=tuple(sorted(per_client.items()))
        )

    def refresh(self, company: str, entries: Sequence[BundleEntry]) -> list[RecordKey]:
        """Re-derive bundles from their members' current content.

        A bundle whose members changed at the source gets new content; if it was
        exported it becomes ``outdated``, so the next export overwrites the
        remote document. Returns the bundles whose content changed.
        """
        views = self.views(company, entries)
        rebuilt = [rebuild_bundle(self.store, company, view.bundle) for view in views]
        changed = [
            new.to_record()
            for new, view in zip(rebuilt, views, strict=True)
            if new.to_record().hash != view.bundle.to_record().hash
        ]
        if changed:
            self.store.ingest(company, changed, at=self.clock.now(), actor=self.actor)
        return [r.key for r in changed]

    def unbundle(
        self,
        company: str,
        bundle_ids: Iterable[str],
        *,
        cascade: bool = False,
        reversed_keys: Iterable[RecordKey] = (),
    ) -> UnbundleReport:
        """Delete bundles and their associations; their transactions are open again.

        The remote documents are left alone (the report says which). An invoice
        that payments are applied to is only un-bundled with ``cascade=True``,
        which un-bundles those payments too. ``reversed_keys`` names bundles
        whose remote document a reverse export already removed
        (:func:`~syncstate.services.bundle_export.unbundle_and_reverse`).
        """
        targets = {self.get(company, bid).key: None for bid in bundle_ids}
        if not targets:
            raise EmptySelectionError("no bundle given to un-bundle")
        views = {v.key: v for v in self.views(company, self.bundles.entries(company))}
        dependants = _payments_on(views.values(), {k.source_id for k in targets})
        extra = [k for k in dependants if k not in targets]
        if extra and not cascade:
            listed = ", ".join(k.source_id for k in extra)
            raise InputError(
                f"payments {listed} are applied to the invoice(s) being un-bundled; "
                "un-bundle them too (cascade)"
            )
        keys = [*targets, *extra]
        events: list[tuple[RecordKey, Event]] = []
        left: list[tuple[RecordKey, str]] = []
        for key in keys:
            status = self.store.get(key).status
            if status.state is ExportState.IN_FLIGHT:
                raise InvalidTransition(
                    record=str(key),
                    state=status.state.value,
                    event="unbundle",
                    detail="the bundle is being exported; wait for the export to finish",
                )
            if status.state in (ExportState.EXPORTED, ExportState.OUTDATED, ExportState.FAILED):
                if status.remote_id:
                    left.append((key, status.remote_id))
                events.append((key, Event.of(EventKind.RESET, "un-bundled")))
            if status.state is not ExportState.UNLINKED:
                events.append((key, Event.of(EventKind.UNLINK, "un-bundled")))
        bundles = self.bundles
        if isinstance(bundles, AtomicUnbundle) and bundles.shares_transactions_with(self.store):
            # one database: the reset and the membership go in one transaction
            removed = bundles.remove_and_apply(
                company, keys, events, at=self.clock.now(), actor=self.actor
            )
        else:
            # two databases: state first; running the un-bundle again finishes it
            if events:
                self.store.apply(company, events, at=self.clock.now(), actor=self.actor)
            removed = bundles.remove(company, keys)
        reopened = sorted(m for entry in removed for m in entry.members)
        gone = set(reversed_keys)
        log.info(
            "un-bundled %d bundles; %d transactions open again; %d remote documents left",
            len(removed),
            len(reopened),
            sum(k not in gone for k, _ in left),
            extra={"company": company, "records": len(removed)},
        )
        if log.isEnabledFor(logging.DEBUG):
            for entry in removed:
                log.debug(
                    "un-bundled %s",
                    entry.bundle,
                    extra={"company": company, "record": str(entry.bundle)},
                )
        return UnbundleReport(
            company=company,
            removed=tuple(e.bundle for e in removed),
            reopened=tuple(reopened),
            left_remote=tuple((k, r) for k, r in left if k not in gone),
            reversed=tuple(k for k in keys if k in gone),
        )


def _payments_on(views: Iterable[BundleView], invoice_ids: set[str]) -> list[RecordKey]:
    return sorted(
        v.key
        for v in views
        if v.bundle.kind is BundleKind.PAYMENT
        and any(a.invoice in invoice_ids for a in v.bundle.applied)
    )
