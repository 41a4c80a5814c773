"""Repost use cases over a ledger store: load, compute, plan, apply.

Nothing is written until a plan has been made and handed back to
:func:`apply_plan` (dry run by default). A full repost streams the ledger in
batches of whole clients, so memory is bounded by the largest batch, not by
the history; stored balances are compared and only changed rows are kept in
the plan. A scoped repost (one client, one invoice, a drill-down from a
finding) and an incremental repost (after the host changed some documents)
read only the neighbourhood of the documents they restore.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Collection, Iterable, Iterator
from typing import Any

import attrs

from syncstate.adapters.storage.sqlite.ledger import SQLiteLedgerStore
from syncstate.domain.repost.diagnostics import (
    Change,
    RepostPlan,
    diagnose_receivables,
    diagnose_wip,
    drill_down_scope,
    plan_receivables,
)
from syncstate.domain.repost.findings import DrillDown, Finding, Findings, Scope
from syncstate.domain.repost.ledger import affected_by, recompute
from syncstate.domain.repost.receivables import (
    BalanceRow,
    ReceivableDocument,
    to_rows,
)
from syncstate.domain.repost.wip import WipResult, repost_wip
from syncstate.errors import EmptySelectionError, InputError
from syncstate.notebook import Tabular
from syncstate.periods import parse_date
from syncstate.ports import Progress
from syncstate.services.repost_io import Reader, wip_from_json

__all__ = [
    "WipPlan",
    "apply_plan",
    "apply_wip_plan",
    "diagnose_ledger",
    "drill_down",
    "import_receivables",
    "import_wip",
    "incremental_repost",
    "plan_receivables_repost",
    "plan_wip_repost",
]

log = logging.getLogger(__name__)

_PERIOD = "period_start"
_WIP_PERIOD = "wip_period_start"


def import_receivables(
    store: SQLiteLedgerStore,
    company: str,
    documents: Iterable[ReceivableDocument],
    *,
    period_start: dt.date,
) -> int:
    """Load documents into the company's ledger atomically; return how many."""
    docs, allocs = to_rows(documents)  # bad amounts raise before anything is written
    with store.writing() as conn:
        count = store.put_receivables(company, docs, allocs, conn=conn)
        store.set_setting(company, _PERIOD, period_start.isoformat(), conn=conn)
    return count


def _period(store: SQLiteLedgerStore, company: str, name: str = _PERIOD) -> dt.date:
    value = store.setting(company, name)
    if value is None:
        raise EmptySelectionError(f"company {company!r} has no repost ledger in {store.path}")
    return parse_date(value)


def _batches(
    store: SQLiteLedgerStore, company: str, size: int, progress: Progress | None = None
) -> Iterator[list[str]]:
    """Document ids in batches of whole clients (a large client is a batch alone).

    ``progress`` counts clients, advanced once the caller asks for the next
    batch (that is, once the previous one is done).
    """
    batch: list[str] = []
    clients = store.clients(company)
    if progress is not None:
        progress.start(len(clients), f"repost of {company}")
    pending = 0
    for client in clients:
        batch.extend(store.client_documents(company, client))
        pending += 1
        if len(batch) >= size:
            yield batch
            if progress is not None:
                progress.advance(pending, outcome="clients")
            pending = 0
            batch = []
    if batch:
        yield batch
    if progress is not None:
        if pending:
            progress.advance(pending, outcome="clients")
        progress.finish()


def _plan(
    store: SQLiteLedgerStore,
    company: str,
    scope: str,
    batches: Iterable[Collection[str]],
) -> RepostPlan:
    start = _period(store, company).toordinal()
    view = store.ledger(company)
    rows: list[BalanceRow] = []
    changes: list[Change] = []
    findings: list[Finding] = []
    for ids in batches:
        computed, found = recompute(view, ids, start)
        clients = {row[0]: row[2] for row in view.documents(ids)}
        part = plan_receivables(
            company, scope, store.balances(company, ids), computed, clients, found
        )
        rows.extend(part.changed_rows())
        changes.extend(part.changes)
        findings.extend(part.findings)
    log.info(
        "receivables repost planned for %s: %d changes, %d findings",
        scope,
        len(changes),
        len(findings),
        extra={"company": company, "records": len(rows)},
    )
    return RepostPlan(
        company=company,
        calculator="receivables",
        scope=scope,
        rows=tuple(rows),
        changes=tuple(changes),
        findings=tuple(findings),
    )


def plan_receivables_repost(
    store: SQLiteLedgerStore,
    company: str,
    *,
    client: str | None = None,
    document: str | None = None,
    batch: int = 20_000,
    progress: Progress | None = None,
) -> RepostPlan:
    """Plan a repost of the whole company, one client, or one document (dry run).

    A whole-company plan reports its progress, in clients, to ``progress``.
    """
    if document is not None:
        if not store.ledger(company).documents([document]):
            raise EmptySelectionError(f"company {company!r} has no document {document!r}")
        return _plan(store, company, f"document {document}", [[document]])
    if client is not None:
        ids = store.client_documents(company, client)
        if not ids:
            raise EmptySelectionError(f"company {company!r} has no documents of client {client!r}")
        return _plan(store, company, f"client {client}", [ids])
    return _plan(store, company, "company", _batches(store, company, batch, progress))


def incremental_repost(
    store: SQLiteLedgerStore,
    company: str,
    *,
    upserts: Iterable[ReceivableDocument] = (),
    deletes: Collection[str] = (),
) -> RepostPlan:
    """Write the host's changed documents, then plan the repost of what they affect."""
    docs, allocs = to_rows(upserts)
    changed = {row[0] for row in docs} | set(deletes)
    view = store.ledger(company)
    affected = affected_by(view, changed)
    with store.writing() as conn:
        store.delete_receivables(company, deletes, conn=conn)
        store.put_receivables(company, docs, allocs, conn=conn)
    affected |= affected_by(view, changed)
    affected.difference_update(deletes)
    return _plan(store, company, f"{len(changed)} changed documents", [affected])


def apply_plan(store: SQLiteLedgerStore, plan: RepostPlan) -> int:
    """Write a plan's changed balances in one transaction; return the rows written."""
    if plan.calculator != "receivables":
        raise InputError(f"a {plan.calculator} plan cannot be applied to receivables")
    written = store.write_balances(plan.company, plan.rows)
    log.info(
        "receivables repost of %s applied: %d balance rows written",
        plan.scope,
        written,
        extra={"company": plan.company, "records": written},
    )
    if log.isEnabledFor(logging.DEBUG):
        for row in plan.rows:
            log.debug(
                "balances of document %s rewritten",
                row[0],
                extra={"company": plan.company, "record": row[0]},
            )
    return written


def drill_down(store: SQLiteLedgerStore, company: str, finding: Finding) -> RepostPlan:
    """The plan a drill-down for ``finding`` runs: its invoice alone, or its client."""
    kind, target = drill_down_scope(finding)
    if kind is DrillDown.INVOICE and target is not None:
        return plan_receivables_repost(store, company, document=target)
    if kind is DrillDown.CLIENT:
        ids = store.client_documents(company, target)
        return _plan(store, company, f"client {target}", [ids])
    raise InputError(
        f"{finding.code.value} is not repaired by a drill-down; run a full repost instead"
    )


def diagnose_ledger(store: SQLiteLedgerStore, company: str, *, batch: int = 20_000) -> Findings:
    """Every inconsistency in the company's receivables and WIP, without writing.

    The result is a list (:class:`~syncstate.domain.repost.findings.Findings`)
    that shows as a table in Jupyter.
    """
    findings = Findings()
    if store.setting(company, _PERIOD) is not None:
        start = _period(store, company).toordinal()
        view = store.ledger(company)
        for ids in _batches(store, company, batch):
            computed, found = recompute(view, ids, start)
            clients = {row[0]: row[2] for row in view.documents(ids)}
            findings.extend(f.in_company(company) for f in found)
            findings.extend(
                diagnose_receivables(company, store.balances(company, ids), computed, clients)
            )
    if store.setting(company, _WIP_PERIOD) is not None:
        plan = plan_wip_repost(store, company)
        findings.extend(plan.findings)
    if not findings and not store.companies().count(company):
        raise EmptySelectionError(f"company {company!r} has no repost ledger in {store.path}")
    return findings


# -------------------------------------------------------------------------- WIP


def import_wip(
    store: SQLiteLedgerStore, company: str, data: object, *, source: str = "input"
) -> int:
    """Load a WIP interchange document into the ledger atomically; return the entries."""
    period_start, entries, invoice_days = wip_from_json(data, source=source)
    raw = {str(item["id"]): item for item in Reader(data, source=source).items("entries")}
    rows = [(e.id, e.client, raw[e.id]) for e in entries]
    invoices = [(i, day.isoformat()) for i, day in invoice_days.items()]
    with store.writing() as conn:
        store.put_wip(company, rows, invoices, conn=conn)
        store.set_setting(company, _WIP_PERIOD, period_start.isoformat(), conn=conn)
    return len(rows)


@attrs.frozen(kw_only=True)
class WipPlan(Tabular):
    """A WIP repost of one company: the result, and the findings with company set.

    Its rows (:meth:`to_records`) are the result's: one per entry kept or deleted.
    """

    company: str
    result: WipResult
    findings: tuple[Finding, ...]

    def to_records(self) -> list[dict[str, Any]]:
        """One plain row per WIP entry (:meth:`WipResult.to_records`)."""
        return self.result.to_records()

    def _html_caption(self) -> str:
        return (
            f"WIP repost of {self.company}: {len(self.result.balances)} entries kept, "
            f"{len(self.result.deletions)} deleted, {len(self.findings)} findings"
        )


def plan_wip_repost(store: SQLiteLedgerStore, company: str) -> WipPlan:
    """Plan a WIP repost: what it deletes, what it restores, what differs."""
    entries_raw, invoices = store.wip(company)
    data = {
        "period_start": _period(store, company, _WIP_PERIOD).isoformat(),
        "entries": entries_raw,
        "invoices": [{"id": i, "date": d} for i, d in invoices],
    }
    period_start, entries, invoice_days = wip_from_json(data, source=store.path)
    result = repost_wip(entries, invoice_days, period_start=period_start)
    findings = [f.in_company(company) for f in result.findings]
    for deletion in result.deletions:
        findings.append(
            Finding(
                code=deletion.code,
                scope=Scope(company=company, document=deletion.id),
                message=f"WIP {deletion.id} will be deleted: {deletion.reason}",
            )
        )
    findings.extend(diagnose_wip(company, entries, result.balances))
    log.info(
        "WIP repost planned: %d deletions, %d findings",
        len(result.deletions),
        len(findings),
        extra={"company": company, "records": len(result.balances)},
    )
    return WipPlan(company=company, result=result, findings=tuple(findings))


def apply_wip_plan(store: SQLiteLedgerStore, plan: WipPlan) -> int:
    """Delete the plan's blank entries and store restored values; return entries touched."""
    entries_raw, _ = store.wip(plan.company)
    by_id = {str(e["id"]): e for e in entries_raw}
    updated = []
    for b in plan.result.balances:
        item = dict(by_id[b.id])
        item.update(
            clear_flag=b.clear_flag,
            clear_date=None if b.clear_date is None else b.clear_date.isoformat(),
            write_updown=None if b.write_updown is None else str(b.write_updown),
            write_date=None if b.write_date is None else b.write_date.isoformat(),
            billing_status=b.billing_status,
            hide=b.hide,
        )
        if item != by_id[b.id]:
            updated.append((b.id, b.client, item))
    with store.writing() as conn:
        store.delete_wip(plan.company, [d.id for d in plan.result.deletions], conn=conn)
        store.put_wip(plan.company, updated, (), conn=conn)
    touched = len(updated) + len(plan.result.deletions)
    log.info(
        "WIP repost applied: %d entries updated, %d deleted",
        len(updated),
        len(plan.result.deletions),
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
