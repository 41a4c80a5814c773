"""WIP repost use cases over a :class:`~syncstate.ports.ledger.RepostLedger`.

A WIP repost is planned for the whole company (streamed in batches of whole
clients), one client, one invoice (the entries billed on it) or one entry,
and touches nothing outside that scope: :class:`WipPlan` holds exactly the
entries it deletes and the entries it rewrites, and :func:`apply_wip_plan`
writes those in one transaction. Nothing is written until then.

:func:`incremental_wip_repost` plans only what a host's edits can move: an
entry's restored values depend on the entry and its invoice's billing date
alone, so it reads the changed entries by id and the entries billed on the
changed invoices (index lookups, a few hundred ids per statement), never the
rest of the ledger.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Collection, Iterator, Mapping
from typing import Any

import attrs

from syncstate.domain.repost.diagnostics import diagnose_wip
from syncstate.domain.repost.findings import Finding, Scope
from syncstate.domain.repost.wip import WipBalance, WipDeletion, WipEntry, WipResult, repost_wip
from syncstate.errors import EmptySelectionError, InputError
from syncstate.notebook import Tabular
from syncstate.ports import Progress
from syncstate.ports.ledger import RepostLedger
from syncstate.services.repost_io import wip_from_json

__all__ = [
    "WipPlan",
    "apply_wip_plan",
    "import_wip",
    "incremental_wip_repost",
    "plan_wip_repost",
    "wip_period",
]

log = logging.getLogger(__name__)

#: how many clients a whole-company WIP repost reads at a time
CLIENTS_PER_BATCH = 500


def wip_period(store: RepostLedger, company: str) -> dt.date | None:
    """The company's WIP period start, or ``None`` when no WIP was ever loaded."""
    return store.period_start(company, "wip")


def import_wip(
    store: RepostLedger,
    company: str,
    data: object,
    *,
    source: str = "input",
) -> int:
    """Load a WIP interchange document into the ledger atomically; return the entries."""
    period_start, entries, invoice_days = wip_from_json(data, source=source)
    return store.load_wip(company, entries, invoice_days, period_start=period_start)


@attrs.frozen(kw_only=True)
class WipPlan(Tabular):
    """A WIP repost of one scope of a company: what it deletes and rewrites.

    ``result`` holds the restored values of every entry in scope and the
    deletions; ``updates`` only the entries whose stored values change (with
    the restored values), which is all :func:`apply_wip_plan` writes besides
    the deletions. Its rows (:meth:`to_records`) are the result's.
    """

    company: str
    result: WipResult
    findings: tuple[Finding, ...]
    scope: str = "company"
    updates: tuple[WipEntry, ...] = ()
    calculator: str = "wip"

    @property
    def is_empty(self) -> bool:
        """True when applying the plan would change nothing."""
        return not self.updates and not self.result.deletions

    def to_records(self) -> list[dict[str, Any]]:
        """One plain row per WIP entry (:meth:`WipResult.to_records`)."""
        return self.result.to_records()

    def _html_caption(self) -> str:
        return (
            f"WIP repost of {self.scope} ({self.company}): {len(self.result.balances)} entries "
            f"kept, {len(self.result.deletions)} deleted, {len(self.updates)} rewritten, "
            f"{len(self.findings)} findings"
        )


def _restored(entry: WipEntry, b: WipBalance) -> WipEntry:
    return attrs.evolve(
        entry,
        clear_flag=b.clear_flag,
        clear_date=b.clear_date,
        write_updown=b.write_updown,
        write_date=b.write_date,
        billing_status=b.billing_status,
        hide=b.hide,
    )


def _select(
    store: RepostLedger,
    company: str,
    client: str | None,
    invoice: str | None,
    document: str | None,
    batch: int,
    progress: Progress | None,
) -> tuple[str, Iterator[list[WipEntry]]]:
    chosen = [
        name
        for name, v in (("client", client), ("invoice", invoice), ("document", document))
        if v is not None
    ]
    if len(chosen) > 1:
        raise InputError(f"a WIP repost takes one scope, not {' and '.join(chosen)}")
    if client is not None:
        return f"client {client}", iter([store.wip_by_client(company, [client])])
    if invoice is not None:
        return f"invoice {invoice}", iter([store.wip_by_invoice(company, invoice)])
    if document is not None:
        return f"entry {document}", iter([store.wip_by_id(company, [document])])
    return "company", _company_batches(store, company, batch, progress)


def _company_batches(
    store: RepostLedger, company: str, batch: int, progress: Progress | None
) -> Iterator[list[WipEntry]]:
    clients = store.wip_clients(company)
    if progress is not None:
        progress.start(len(clients), f"WIP repost of {company}")
    step = max(1, min(batch, CLIENTS_PER_BATCH))
    for n in range(0, len(clients), step):
        group = clients[n : n + step]
        yield store.wip_by_client(company, group)
        if progress is not None:
            progress.advance(len(group), outcome="clients")
    if progress is not None:
        progress.finish()


def _plan_part(
    company: str,
    entries: list[WipEntry],
    invoices: Mapping[str, dt.date],
    period_start: dt.date,
) -> tuple[WipResult, list[WipEntry], list[Finding]]:
    result = repost_wip(entries, invoices, period_start=period_start)
    by_id = {e.id: e for e in entries}
    findings = [f.in_company(company) for f in result.findings]
    for deletion in result.deletions:
        gone = by_id[deletion.id]
        findings.append(
            Finding(
                code=deletion.code,
                scope=Scope(
                    company=company, client=gone.client, document=gone.id, invoice=gone.invoice
                ),
                message=f"WIP {deletion.id} will be deleted: {deletion.reason}",
            )
        )
    findings.extend(diagnose_wip(company, entries, result.balances))
    updates = []
    for b in result.balances:
        old = by_id[b.id]
        new = _restored(old, b)
        if new != old:
            updates.append(new)
    return result, updates, findings


def plan_wip_repost(
    store: RepostLedger,
    company: str,
    *,
    client: str | None = None,
    invoice: str | None = None,
    document: str | None = None,
    batch: int = 20_000,
    progress: Progress | None = None,
) -> WipPlan:
    """Plan a WIP repost (dry run): the whole company, one client, the entries
    billed on one invoice, or one entry (``document``); at most one scope.

    A scope that selects no entry raises
    :class:`~syncstate.errors.EmptySelectionError`.
    """
    period_start = wip_period(store, company)
    if period_start is None:
        raise EmptySelectionError(f"company {company!r} has no WIP ledger in {store.location}")
    scope, parts = _select(store, company, client, invoice, document, batch, progress)
    plan = _plan_parts(store, company, scope, parts, period_start)
    if not plan.result.balances and not plan.result.deletions and scope != "company":
        raise EmptySelectionError(f"company {company!r} has no WIP entries for {scope}")
    return plan


def incremental_wip_repost(
    store: RepostLedger,
    company: str,
    *,
    changed: Collection[str] = (),
    invoices: Collection[str] = (),
) -> WipPlan:
    """Plan the WIP repost of only what the host changed (dry run).

    ``changed`` are the ids of WIP entries the host inserted or edited;
    ``invoices`` the invoices whose billing date it changed (every entry billed
    on one is redone). Entries it deleted need nothing. The plan equals the
    part of a whole-company repost that concerns these entries; ids no longer
    in the ledger are skipped, and nothing to redo gives an empty plan.
    """
    period_start = wip_period(store, company)
    if period_start is None:
        raise EmptySelectionError(f"company {company!r} has no WIP ledger in {store.location}")
    picked = {e.id: e for e in store.wip_by_id(company, sorted(set(changed)))}
    for invoice in sorted(set(invoices)):
        picked.update((e.id, e) for e in store.wip_by_invoice(company, invoice))
    scope = f"{len(set(changed))} changed WIP entries and {len(set(invoices))} invoices"
    entries = [picked[i] for i in sorted(picked)]
    return _plan_parts(store, company, scope, iter([entries]), period_start)


def _plan_parts(
    store: RepostLedger,
    company: str,
    scope: str,
    parts: Iterator[list[WipEntry]],
    period_start: dt.date,
) -> WipPlan:
    balances: list[WipBalance] = []
    deletions: list[WipDeletion] = []
    found: list[Finding] = []
    findings: list[Finding] = []
    updates: list[WipEntry] = []
    for entries in parts:
        wanted = {e.invoice for e in entries if e.invoice is not None}
        invoices = store.wip_invoices(company, wanted)
        result, changed, part_findings = _plan_part(company, entries, invoices, period_start)
        balances.extend(result.balances)
        deletions.extend(result.deletions)
        found.extend(result.findings)
        findings.extend(part_findings)
        updates.extend(changed)
    log.info(
        "WIP repost of %s planned: %d deletions, %d rewrites, %d findings",
        scope,
        len(deletions),
        len(updates),
        len(findings),
        extra={"company": company, "records": len(balances)},
    )
    return WipPlan(
        company=company,
        result=WipResult(tuple(balances), tuple(deletions), tuple(found)),
        findings=tuple(findings),
        scope=scope,
        updates=tuple(updates),
    )


def apply_wip_plan(store: RepostLedger, plan: WipPlan) -> int:
    """Delete the plan's blank entries and store its restored entries, in one
    transaction; return the entries touched. Nothing outside the plan changes."""
    deletes = [d.id for d in plan.result.deletions]
    touched = store.write_wip(plan.company, plan.updates, deletes)
    log.info(
        "WIP repost of %s applied: %d entries updated, %d deleted",
        plan.scope,
        len(plan.updates),
        len(deletes),
        extra={"company": plan.company, "records": touched},
    )
    if log.isEnabledFor(logging.DEBUG):
        for d in plan.result.deletions:
            log.debug(
                "WIP entry %s deleted (%s)",
                d.id,
                d.code.value,
                extra={"company": plan.company, "record": d.id},
            )
    return touched
