"""Export bundles through the exactly-once engine; PDFs; overwrite; reverse un-bundle.

:func:`export_bundles` exports one bundle, a page of bundles (stable order) or
all bundles of some clients:

1. **Refresh**: bundles are re-derived from their members' current content;
   an exported bundle whose members changed becomes ``outdated``.
2. **Overwrite** (``overwrite=True``, as when one reconciled bundle is
   exported again): exported bundles are marked ``outdated``, so the engine
   *updates* the existing remote document with its version token instead of
   creating a second one; the report says ``updated``.
3. **Mappings** are checked for every member before anything is sent; every
   missing customer / item mapping is reported at once
   (:class:`~syncstate.errors.MappingError`).
4. **Send**: invoices and sales receipts first, then payments (a payment
   names the remote ids of the invoices it pays). A payment whose invoice is
   not at the back end yet waits (reported, not sent).

With a shared budget (``ExportOptions(budget=...)``; ``budget=`` for the PDF and the
reverse un-bundle) every request of these paths, the mapping check's look-ups
included, takes a slot of the company's shared rate and concurrency budget.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any

import attrs

from syncstate.domain.bundling import BUNDLE_KINDS, Bundle, BundleKind
from syncstate.domain.mapping import Mappings, check_mappings
from syncstate.domain.records import RecordKey
from syncstate.domain.state import Event, EventKind, ExportState
from syncstate.domain.transactions import Payment, UsageLog, read_transaction
from syncstate.errors import EmptySelectionError, InputError, MappingError, UnsupportedCapability
from syncstate.notebook import Tabular
from syncstate.ports import (
    AccountingBackend,
    BundleEntry,
    Capability,
    CustomerDirectory,
    Document,
    DocumentLine,
    Progress,
    RemoteRef,
    StateStore,
    StoredRecord,
)
from syncstate.ports.names import RemoteIdChecker
from syncstate.services.budgeted import company_budget, through_budget
from syncstate.services.budgets import Budgets, SharedBudget
from syncstate.services.bundling import BundleService, BundleView, UnbundleReport
from syncstate.services.export import ExportOptions, export_records, unexport
from syncstate.services.rendering import Renderer

__all__ = [
    "BundleExportReport",
    "BundleOutcome",
    "bundle_renderers",
    "export_bundles",
    "fetch_bundle_pdf",
    "mapping_tables",
    "unbundle_and_reverse",
]

log = logging.getLogger(__name__)


@attrs.frozen(kw_only=True)
class BundleOutcome:
    """What became of one bundle in an export."""

    bundle: RecordKey
    kind: str
    client: str
    outcome: str
    remote_id: str | None = None
    version: str | None = None
    message: str = ""

    @property
    def updated(self) -> bool:
        """True when an existing remote document was overwritten (not duplicated)."""
        return self.outcome == "updated"

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON output."""
        return {
            "bundle_id": self.bundle.source_id,
            "kind": self.kind,
            "client": self.client,
            "outcome": self.outcome,
            "remote_id": self.remote_id,
            "version": self.version,
            "message": self.message,
        }


@attrs.frozen(kw_only=True)
class BundleExportReport(Tabular):
    """Per-bundle outcomes of :func:`export_bundles`; a table in Jupyter."""

    company: str
    backend: str
    outcomes: tuple[BundleOutcome, ...]

    def count(self, outcome: str) -> int:
        """Bundles with ``outcome`` (``exported``, ``updated``, ``failed``, ``waiting``...)."""
        return sum(o.outcome == outcome for o in self.outcomes)

    @property
    def ok(self) -> bool:
        """True when every bundle was exported or updated."""
        return all(o.outcome in ("exported", "updated") for o in self.outcomes)

    def summary(self) -> dict[str, int]:
        """Bundles per outcome."""
        out: dict[str, int] = {}
        for o in self.outcomes:
            out[o.outcome] = out.get(o.outcome, 0) + 1
        return dict(sorted(out.items()))

    def to_records(self) -> list[dict[str, Any]]:
        """One plain row per bundle (:meth:`BundleOutcome.to_dict`)."""
        return [o.to_dict() for o in self.outcomes]

    def _html_caption(self) -> str:
        counts = ", ".join(f"{n} {name}" for name, n in self.summary().items())
        return f"bundle export of {self.company} to {self.backend}: {counts or 'nothing'}"


def mapping_tables(mappings: Mappings) -> dict[str, dict[str, str]]:
    """Mappings as the tables a back end adapter takes (``QboMapping.from_dict``).

    Deposit accounts are keyed by payment method, as bundle documents name them.
    """
    return {
        "customers": dict(mappings.customers),
        "items": dict(mappings.items),
        "accounts": dict(mappings.deposit_accounts),
        "vendors": dict(mappings.vendors),
    }


def _money(value: object) -> str:
    return str(value)


def bundle_renderers(store: StateStore, mappings: Mappings | None = None) -> dict[str, Renderer]:
    """Renderers for the three bundle kinds (pass as ``ExportOptions.renderers``).

    Documents name host ids (client as ``party``, resource as line ``item``,
    payment method as ``deposit_account`` when it has a mapping); back ends map
    them. A payment's ``applications`` name the remote ids of the invoices it
    pays (``applies_to`` too when it pays exactly one, in full).
    """
    deposit = mappings or Mappings()

    def render(stored: StoredRecord) -> Document:
        bundle = Bundle.from_record(stored.record)
        fields: dict[str, str] = {
            "bundle_id": bundle.bundle_id,
            "total": _money(bundle.total),
            "paid": _money(bundle.paid),
            "unapplied": _money(bundle.unapplied),
            "members": ",".join(f"{k.kind}:{k.source_id}" for k in bundle.members),
        }
        methods = [m for m in bundle.method.split(",") if m]
        if methods and deposit.deposit_account(methods[0]) is not None:
            fields["deposit_account"] = methods[0]
        if bundle.reference:
            fields["reference"] = bundle.reference
        if bundle.kind is BundleKind.PAYMENT:
            fields["amount"] = _money(bundle.total)
            fields["method"] = bundle.method
            applications = []
            for application in bundle.applied:
                invoice = store.get(
                    RecordKey(bundle.company, BundleKind.INVOICE.record_kind, application.invoice)
                )
                if not invoice.status.remote_id:
                    raise InputError(
                        f"record {stored.key}: invoice {application.invoice} is not exported yet"
                    )
                applications.append(f"{invoice.status.remote_id}={application.amount}")
            if applications:
                fields["applications"] = ";".join(applications)
            if len(applications) == 1 and bundle.unapplied == 0:
                fields["applies_to"] = applications[0].split("=", 1)[0]
        lines = tuple(
            DocumentLine(
                item=ln.resource,
                description=ln.description or ln.resource,
                quantity=ln.quantity,
                unit_price=ln.unit_price,
                amount=ln.amount,
                tax_code=ln.tax_code,
            )
            for ln in bundle.lines
        )
        return Document(
            kind=bundle.kind.value,
            source=stored.key,
            date=bundle.date,
            party=bundle.client,
            fields=fields,
            lines=lines,
            currency=bundle.currency,
            memo=f"syncstate bundle {bundle.bundle_id} ({len(bundle.members)} transactions)",
        )

    return dict.fromkeys(BUNDLE_KINDS, render)


def _targets(
    service: BundleService,
    company: str,
    *,
    bundle_ids: Iterable[str] | None,
    clients: Iterable[str] | None,
    offset: int,
    limit: int | None,
) -> list[BundleEntry]:
    if bundle_ids is not None:
        ids = list(dict.fromkeys(bundle_ids))
        keys = [service.get(company, bid).key for bid in ids]
        return service.bundles.entries(company, bundles=keys)
    entries = service.bundles.entries(company, clients=clients)
    end = None if limit is None else offset + limit
    return entries[offset:end]


def check_bundle_mappings(
    service: BundleService,
    company: str,
    bundles: Sequence[Bundle],
    backend: AccountingBackend | None = None,
    *,
    budget: SharedBudget | None = None,
) -> Mappings:
    """Raise :class:`MappingError` listing every missing mapping the bundles need.

    The back end's look-ups go through ``budget`` (one company's shared budget) if given.
    """
    mappings = service.mappings(company)
    transactions: list[UsageLog | Payment] = []
    for bundle in bundles:
        for key in bundle.members:
            transactions.append(read_transaction(service.store.get(key).record))
    # the mapped ids these bundles use, checked before anything is sent: one
    # request per list (all customers, then all items) with a RemoteIdChecker
    customers = {mappings.customer(t.client) for t in transactions} - {None}
    items = {mappings.item(t.resource) for t in transactions if isinstance(t, UsageLog)} - {None}
    unknown: dict[str, str] = {}
    unknown_items: dict[str, str] = {}
    if isinstance(backend, RemoteIdChecker):
        check = backend.check_remote_ids
        if customers:
            ids = sorted(customers)
            unknown.update(through_budget(budget, lambda: check(company, "customer", ids)))
        if items:
            wanted = sorted(items)
            unknown_items.update(through_budget(budget, lambda: check(company, "item", wanted)))
    elif isinstance(backend, CustomerDirectory):
        get = backend.get_customer
        for remote in sorted(customers):
            if through_budget(budget, lambda r=remote: get(company, r)) is None:
                unknown[remote] = "does not exist"
    missing = check_mappings(
        company, transactions, mappings, unknown_customers=unknown, unknown_items=unknown_items
    )
    if missing:
        raise MappingError(missing=missing)
    return mappings


def export_bundles(
    service: BundleService,
    backend: AccountingBackend,
    company: str,
    *,
    bundle_ids: Iterable[str] | None = None,
    clients: Iterable[str] | None = None,
    offset: int = 0,
    limit: int | None = None,
    overwrite: bool = False,
    check_mappings: bool = True,
    options: ExportOptions | None = None,
    progress: Progress | None = None,
) -> BundleExportReport:
    """Export bundles (see module doc); one outcome per bundle.

    Select with ``bundle_ids``, or ``clients`` and a page (``offset``,
    ``limit``) in the stable order of :meth:`BundleService.list_bundles`.
    Bundles already exported and unchanged are reported ``unchanged`` unless
    ``overwrite`` asks to update their remote documents.
    """
    entries = _targets(
        service, company, bundle_ids=bundle_ids, clients=clients, offset=offset, limit=limit
    )
    if not entries:
        raise EmptySelectionError(f"company {company!r} has no bundles to export there")
    service.refresh(company, entries)
    views = service.views(company, entries)
    clock, actor, store = service.clock, service.actor, service.store
    if overwrite:
        stale = [v.key for v in views if v.state is ExportState.EXPORTED]
        if stale:
            event = Event.of(EventKind.SOURCE_CHANGED, "overwrite requested")
            store.apply(company, [(k, event) for k in stale], at=clock.now(), actor=actor)
            views = service.views(company, entries)
    mappings = service.mappings(company)
    todo = [v for v in views if v.state is not ExportState.EXPORTED]
    if check_mappings and todo:
        with company_budget(options.budget if options else None, backend, company) as shared:
            bundles = [v.bundle for v in todo]
            mappings = check_bundle_mappings(service, company, bundles, backend, budget=shared)
    outcomes: dict[RecordKey, BundleOutcome] = {}
    for v in views:
        if v.state is ExportState.EXPORTED:
            outcomes[v.key] = _outcome(v, "unchanged", v.remote_id, v.remote_version)
    opts = attrs.evolve(
        options or ExportOptions(),
        renderers={**(options.renderers if options else {}), **bundle_renderers(store, mappings)},
    )
    first = [v for v in todo if v.bundle.kind is not BundleKind.PAYMENT]
    payments = [v for v in todo if v.bundle.kind is BundleKind.PAYMENT]
    for phase in (first, payments):
        ready = []
        for v in phase:
            waiting = _waiting_for(store, v)
            if waiting:
                outcomes[v.key] = _outcome(v, "waiting", message=waiting)
            else:
                ready.append(v)
        if not ready:
            continue
        report = export_records(
            store,
            backend,
            company,
            kinds=BUNDLE_KINDS,
            keys=[v.key for v in ready],
            actor=actor,
            clock=clock,
            progress=progress,
            options=opts,
        )
        by_key = {o.key: o for o in report.outcomes}
        for v in ready:
            o = by_key.get(v.key)
            if o is None:
                outcomes[v.key] = _outcome(v, "skipped", message="not exportable now")
            else:
                outcomes[v.key] = _outcome(v, o.outcome.value, o.remote_id, o.version, o.message)
    result = BundleExportReport(
        company=company,
        backend=backend.name,
        outcomes=tuple(outcomes[v.key] for v in views if v.key in outcomes),
    )
    log.info(
        "bundle export to %s: %s",
        backend.name,
        result.summary(),
        extra={"company": company, "records": len(result.outcomes)},
    )
    if log.isEnabledFor(logging.DEBUG):
        for item in result.outcomes:
            log.debug(
                "bundle %s %s (remote id %s)",
                item.bundle,
                item.outcome,
                item.remote_id,
                extra={"company": company, "record": str(item.bundle)},
            )
    return result


def _outcome(
    view: BundleView,
    outcome: str,
    remote_id: str | None = None,
    version: str | None = None,
    message: str = "",
) -> BundleOutcome:
    return BundleOutcome(
        bundle=view.key,
        kind=view.bundle.kind.value,
        client=view.bundle.client,
        outcome=outcome,
        remote_id=remote_id,
        version=version,
        message=message,
    )


def _waiting_for(store: StateStore, view: BundleView) -> str:
    for application in view.bundle.applied:
        key = RecordKey(view.key.company, BundleKind.INVOICE.record_kind, application.invoice)
        if not store.get(key).status.remote_id:
            return f"waits for invoice {application.invoice} to be exported"
    return ""


def fetch_bundle_pdf(
    service: BundleService,
    backend: AccountingBackend,
    company: str,
    bundle_id: str,
    *,
    budget: Budgets | None = None,
) -> bytes:
    """The PDF of a reconciled bundle's remote document, where the back end can.

    ``budget``: the request takes a slot of the company's shared budget.
    """
    view = service.get(company, bundle_id)
    if Capability.PDF not in backend.capabilities:
        raise UnsupportedCapability(f"back end {backend.name} cannot produce PDFs")
    if not view.reconciled or not view.remote_id:
        raise InputError(f"bundle {bundle_id} is {view.state.value}; export it first")
    ref = RemoteRef(
        remote_id=view.remote_id, version=view.remote_version, kind=view.bundle.kind.value
    )
    with company_budget(budget, backend, company) as shared:
        return through_budget(shared, lambda: backend.fetch_pdf(company, ref))


def unbundle_and_reverse(
    service: BundleService,
    company: str,
    bundle_ids: Iterable[str],
    *,
    backend: AccountingBackend | None = None,
    reverse: bool = False,
    cascade: bool = False,
    budget: Budgets | None = None,
) -> UnbundleReport:
    """Un-bundle; with ``reverse=True`` first delete or void the remote documents.

    Reverse export needs a back end declaring ``DELETE`` or ``VOID``; without
    it (or without ``reverse``) the remote documents stay and the report warns.
    ``budget``: the reverse export's requests keep to the company's shared budget
    (see :func:`~syncstate.services.unexport.unexport`).
    """
    ids = list(bundle_ids)
    reversed_keys: list[RecordKey] = []
    if reverse:
        if backend is None:
            raise InputError("reverse export needs a back end")
        views = [service.get(company, bid) for bid in ids]
        if cascade:
            everything = service.list_bundles(company)
            invoice_ids = {v.bundle.bundle_id for v in views}
            views += [
                v
                for v in everything
                if v.bundle.kind is BundleKind.PAYMENT
                and any(a.invoice in invoice_ids for a in v.bundle.applied)
                and v.key not in {w.key for w in views}
            ]
        # payments first: an invoice with a payment linked cannot be voided first
        linked = sorted(
            (v for v in views if v.reconciled),
            key=lambda v: v.bundle.kind is not BundleKind.PAYMENT,
        )
        if linked:
            report = unexport(
                service.store,
                backend,
                company,
                [v.key for v in linked],
                actor=service.actor,
                clock=service.clock,
                reason="un-bundled with reverse export",
                renderers=bundle_renderers(service.store),
                budget=budget,
            )
            if report.failed:
                first_key, message = report.failed[0]
                raise InputError(
                    f"reverse export failed for {len(report.failed)} bundle(s), e.g. "
                    f"{first_key}: {message}; {len(report.unexported)} document(s) were "
                    "removed remotely; nothing was un-bundled yet: run the un-bundle again"
                )
            reversed_keys = list(report.unexported)
    return service.unbundle(company, ids, cascade=cascade, reversed_keys=reversed_keys)
