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
their content), un-bundling again finishes removing the association.
Export, PDFs and overwrite live in :mod:`syncstate.services.bundle_export`.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from typing import Any

import attrs

from syncstate.domain.bundling import (
    BUNDLE_KINDS,
    Application,
    Bundle,
    BundleKind,
    BundlingPolicy,
    OpenInvoice,
    make_bundle,
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
from syncstate.money import ZERO
from syncstate.notebook import Tabular
from syncstate.periods import DateRange
from syncstate.ports import BundleEntry, BundleStore, Clock, StateStore, StoredRecord, SystemClock

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
_RECONCILED = frozenset({ExportState.EXPORTED, ExportState.OUTDATED})


@attrs.frozen(kw_only=True)
class BundleView:
    """A live bundle with its export status: what the reconciled documents list shows."""

    bundle: Bundle
    state: ExportState
    remote_id: str | None = None
    remote_version: str | None = None
    message: str | None = None

    @property
    def key(self) -> RecordKey:
        """The bundle's record key."""
        return self.bundle.key

    @property
    def reconciled(self) -> bool:
        """True once the document exists at the back end (exported or outdated)."""
        return self.state in _RECONCILED

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON output."""
        b = self.bundle
        return {
            "bundle_id": b.bundle_id,
            "kind": b.kind.value,
            "client": b.client,
            "date": b.date.isoformat(),
            "currency": b.currency,
            "total": str(b.total),
            "paid": str(b.paid),
            "unapplied": str(b.unapplied),
            "state": self.state.value,
            "remote_id": self.remote_id,
            "remote_version": self.remote_version,
            "message": self.message,
            "members": [f"{k.kind}:{k.source_id}" for k in b.members],
            "lines": [
                {
                    "resource": ln.resource,
                    "quantity": str(ln.quantity),
                    "unit_price": str(ln.unit_price),
                    "amount": str(ln.amount),
                    "tax_code": ln.tax_code,
                }
                for ln in b.lines
            ],
            "applied": [{"invoice": a.invoice, "amount": str(a.amount)} for a in b.applied],
        }


@attrs.frozen(kw_only=True)
class BundleReport(Tabular):
    """What :meth:`BundleService.bundle` made (or, in a dry run, would make)."""

    company: str
    bundles: tuple[Bundle, ...]
    applied: bool

    def counts(self) -> dict[str, int]:
        """Bundles per kind."""
        return {kind.value: sum(b.kind is kind for b in self.bundles) for kind in BundleKind}

    def to_records(self) -> list[dict[str, Any]]:
        """One plain row per bundle (amounts stay ``Decimal``, the date a ``date``)."""
        return [
            {
                "bundle_id": b.bundle_id,
                "kind": b.kind.value,
                "client": b.client,
                "date": b.date,
                "currency": b.currency,
                "total": b.total,
                "paid": b.paid,
                "unapplied": b.unapplied,
                "members": len(b.members),
            }
            for b in self.bundles
        ]

    def _html_caption(self) -> str:
        verb = "made" if self.applied else "would be made (dry run)"
        return f"{len(self.bundles)} bundles of {self.company} {verb}"


@attrs.frozen(kw_only=True)
class HistoricalReport:
    """Open transactions marked as already accounted for, per client."""

    company: str
    cutoff: dt.date
    per_client: tuple[tuple[str, int], ...]

    @property
    def total(self) -> int:
        """Transactions marked."""
        return sum(n for _, n in self.per_client)


@attrs.frozen(kw_only=True)
class UnbundleReport(Tabular):
    """Bundles removed, transactions open again, and remote documents left alone."""

    company: str
    removed: tuple[RecordKey, ...]
    reopened: tuple[RecordKey, ...]
    #: (bundle, remote id) of documents still at the back end (not reversed)
    left_remote: tuple[tuple[RecordKey, str], ...] = ()
    #: bundles whose remote document was deleted or voided (reverse export)
    reversed: tuple[RecordKey, ...] = ()

    @property
    def warning(self) -> str:
        """What the caller must know about remote documents, or empty."""
        if not self.left_remote:
            return ""
        ids = ", ".join(remote for _, remote in self.left_remote)
        return (
            f"{len(self.left_remote)} document(s) already in the accounting system were NOT "
            f"removed there ({ids}); exporting the transactions again creates new documents"
        )

    def to_records(self) -> list[dict[str, Any]]:
        """One plain row per bundle removed, with what became of its remote document."""
        left = dict(self.left_remote)
        gone = set(self.reversed)
        return [
            {
                "bundle_id": key.source_id,
                "kind": key.kind,
                "remote_document": "reversed" if key in gone else "left" if key in left else "",
                "remote_id": left.get(key),
            }
            for key in self.removed
        ]

    def _html_caption(self) -> str:
        head = (
            f"{len(self.removed)} bundles of {self.company} removed, "
            f"{len(self.reopened)} transactions open again"
        )
        return f"{head}. {self.warning}" if self.warning else head


@attrs.frozen(kw_only=True)
class Trace:
    """A transaction traced to its bundle and remote document (or a bundle to members)."""

    record: RecordKey
    state: ExportState
    bundle: BundleView | None
    members: tuple[RecordKey, ...] = ()


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
            company, clients=clients, states=_RECONCILED, offset=offset, limit=limit
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
        rebuilt = [_rebuild(self.store, company, view.bundle) for view in views]
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
        if events:
            self.store.apply(company, events, at=self.clock.now(), actor=self.actor)
        removed = self.bundles.remove(company, keys)
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


def _rebuild(store: StateStore, company: str, bundle: Bundle) -> Bundle:
    usage: list[UsageLog] = []
    payments: list[Payment] = []
    for key in bundle.members:
        tx = read_transaction(store.get(key).record)
        (usage if isinstance(tx, UsageLog) else payments).append(tx)  # type: ignore[arg-type]
    applied = list(bundle.applied)
    if bundle.kind is BundleKind.PAYMENT:
        # keep the applications, oldest first, within the (possibly new) amount
        left = sum((p.amount for p in payments), ZERO)
        applied = []
        for a in bundle.applied:
            take = min(a.amount, left)
            if take > 0:
                applied.append(Application(a.invoice, take))
            left -= take
    problem = ""
    try:
        rebuilt = make_bundle(company, bundle.kind, usage=usage, payments=payments, applied=applied)
    except InputError as exc:
        problem = str(exc)
    else:
        if (rebuilt.client, rebuilt.currency) != (bundle.client, bundle.currency):
            problem = f"now {rebuilt.client!r} in {rebuilt.currency}"
    if problem:
        raise InputError(
            f"bundle {bundle.bundle_id} no longer holds together ({problem}); "
            "un-bundle it and bundle again"
        )
    return attrs.evolve(rebuilt, bundle_id=bundle.bundle_id)
