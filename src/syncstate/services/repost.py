"""Repost use cases over a ledger store: load, compute, plan, apply.

Nothing is written until a plan has been made and handed back to
:func:`apply_plan` (dry run by default). A full repost streams the ledger in
batches of whole clients, so memory is bounded by the largest batch, not by
the history; stored balances are compared and only changed rows are kept in
the plan. A scoped repost (one client, one invoice, a drill-down from a
finding) and an incremental repost (after the host changed some documents)
read only the neighbourhood of the documents they restore.

Every function takes a :class:`~syncstate.ports.ledger.RepostLedger`: the
memory, SQLite and PostgreSQL ledgers shipped here, or a host's own. WIP
reposts live in :mod:`syncstate.services.repost_wip` and are re-exported here;
:func:`drill_down` runs the calculator a finding's code names, in the scope
its drill-down allows (:func:`~syncstate.domain.repost.diagnostics.drill_down_scope`),
and :func:`apply_plan` applies a receivables or a WIP plan.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Collection, Iterable, Iterator

from syncstate.domain.repost.diagnostics import (
    Change,
    RepostPlan,
    diagnose_receivables,
    drill_down_scope,
    plan_receivables,
)
from syncstate.domain.repost.findings import DrillDown, Finding, Findings
from syncstate.domain.repost.ledger import affected_by, recompute
from syncstate.domain.repost.receivables import (
    BalanceRow,
    ReceivableDocument,
    to_rows,
)
from syncstate.errors import EmptySelectionError, InputError
from syncstate.ports import Progress
from syncstate.ports.ledger import RepostLedger, WorkLedger
from syncstate.services.repost_wip import (
    WipPlan,
    apply_wip_plan,
    import_wip,
    incremental_wip_repost,
    plan_wip_repost,
    wip_period,
)
from syncstate.services.repost_work import WorkPlan, apply_work_plan, diagnose_work

__all__ = [
    "WipPlan",
    "apply_plan",
    "apply_wip_plan",
    "diagnose_ledger",
    "drill_down",
    "import_receivables",
    "import_wip",
    "incremental_repost",
    "incremental_wip_repost",
    "plan_receivables_repost",
    "plan_wip_repost",
    "repost_receivables_streamed",
    "wip_period",
]

log = logging.getLogger(__name__)


def import_receivables(
    store: RepostLedger,
    company: str,
    documents: Iterable[ReceivableDocument],
    *,
    period_start: dt.date,
) -> int:
    """Load documents into the company's ledger atomically; return how many."""
    docs, allocs = to_rows(documents)  # bad amounts raise before anything is written
    return store.load_receivables(company, docs, allocs, period_start=period_start)


def _period(store: RepostLedger, company: str) -> dt.date:
    value = store.period_start(company, "receivables")
    if value is None:
        raise EmptySelectionError(
            f"company {company!r} has no receivables ledger in {store.location}"
        )
    return value


def _batches(
    store: RepostLedger, company: str, size: int, progress: Progress | None = None
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
    store: RepostLedger,
    company: str,
    scope: str,
    batches: Iterable[Collection[str]],
) -> RepostPlan:
    start = _period(store, company).toordinal()
    view = store.index(company)
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
    store: RepostLedger,
    company: str,
    *,
    client: str | None = None,
    document: str | None = None,
    batch: int = 20_000,
    progress: Progress | None = None,
) -> RepostPlan:
    """Plan a repost of the whole company, one client, or one document (dry run).

    A whole-company plan reports its progress, in clients, to ``progress``.
    ``client`` and ``document`` exclude each other.
    """
    if client is not None and document is not None:
        raise InputError("a repost takes one scope: a client or a document, not both")
    if document is not None:
        if not store.index(company).documents([document]):
            raise EmptySelectionError(f"company {company!r} has no document {document!r}")
        return _plan(store, company, f"document {document}", [[document]])
    if client is not None:
        ids = store.client_documents(company, client)
        if not ids:
            raise EmptySelectionError(f"company {company!r} has no documents of client {client!r}")
        return _plan(store, company, f"client {client}", [ids])
    return _plan(store, company, "company", _batches(store, company, batch, progress))


def repost_receivables_streamed(
    store: RepostLedger,
    company: str,
    *,
    batch: int = 20_000,
    progress: Progress | None = None,
) -> tuple[int, Findings]:
    """Plan and apply a whole-company receivables repost in one pass, in one transaction.

    For ledgers too large to hold a whole plan: batches of whole clients are
    recomputed one after the other and only their changed balance rows are
    handed to :meth:`~syncstate.ports.ledger.RepostLedger.write_balances` as a
    stream, so memory is bounded by a batch on a ledger that writes streams
    (SQLite); nothing is written if anything fails. Returns the rows written
    and the findings (codes the calculator reports while reposting).
    """
    start = _period(store, company).toordinal()
    view = store.index(company)
    findings = Findings()

    def changed() -> Iterator[BalanceRow]:
        for ids in _batches(store, company, batch, progress):
            computed, found = recompute(view, ids, start)
            findings.extend(f.in_company(company) for f in found)
            stored = store.balances(company, ids)
            yield from (row for row in computed if stored.get(row[0]) != row)

    written = store.write_balances(company, changed())
    log.info(
        "receivables repost of %s streamed: %d balance rows written, %d findings",
        company,
        written,
        len(findings),
        extra={"company": company, "records": written},
    )
    return written, findings


def incremental_repost(
    store: RepostLedger,
    company: str,
    *,
    upserts: Iterable[ReceivableDocument] = (),
    deletes: Collection[str] = (),
) -> RepostPlan:
    """Write the host's changed documents, then plan the repost of what they affect."""
    docs, allocs = to_rows(upserts)
    changed = {row[0] for row in docs} | set(deletes)
    view = store.index(company)
    affected = affected_by(view, changed)
    store.load_receivables(company, docs, allocs, deletes=deletes)
    affected |= affected_by(view, changed)
    affected.difference_update(deletes)
    return _plan(store, company, f"{len(changed)} changed documents", [affected])


def apply_plan(
    store: RepostLedger, plan: RepostPlan | WipPlan | WorkPlan, *, actor: str = "syncstate"
) -> int:
    """Write a plan in one transaction; return the rows (or WIP entries) written.

    A receivables plan writes its changed balance rows; a WIP plan (from
    :func:`plan_wip_repost` or a WIP drill-down) its deletions and restored
    entries; a staff or project plan (:mod:`syncstate.services.repost_work`,
    on a :class:`~syncstate.ports.ledger.WorkLedger`) its rows, and journals
    each value it changes with ``actor`` (:func:`~syncstate.services.repost_work.apply_work_plan`).
    Receivables and WIP applies are logged, not journaled.
    """
    if isinstance(plan, WipPlan):
        return apply_wip_plan(store, plan)
    if isinstance(plan, WorkPlan):
        if not isinstance(store, WorkLedger):
            raise InputError(f"{store.location} stores no staff or project ledgers")
        return apply_work_plan(store, plan, actor=actor)
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


def drill_down(store: RepostLedger, company: str, finding: Finding) -> RepostPlan | WipPlan:
    """The plan a drill-down for ``finding`` runs, never wider than the finding.

    The finding's code names the calculator (receivables or WIP) and the scope:
    a receivable document alone, a client's documents, the WIP entries of one
    invoice or one client, or one WIP entry. A code with no drill-down (staff,
    projects, duplicate ids) raises :class:`~syncstate.errors.InputError`.
    """
    target = drill_down_scope(finding)
    if target.kind is DrillDown.NONE:
        raise InputError(f"{target.reason}; run a full or scoped repost instead")
    if target.calculator == "wip":
        return plan_wip_repost(
            store,
            company,
            client=target.key if target.kind is DrillDown.CLIENT else None,
            invoice=target.key if target.kind is DrillDown.INVOICE else None,
            document=target.key if target.kind is DrillDown.ENTRY else None,
        )
    if target.kind is DrillDown.INVOICE and target.key is not None:
        return plan_receivables_repost(store, company, document=target.key)
    ids = store.client_documents(company, target.key)
    return _plan(store, company, target.label, [ids])


def diagnose_ledger(store: RepostLedger, company: str, *, batch: int = 20_000) -> Findings:
    """Every inconsistency in the company's receivables, WIP, staff and projects
    (the last two on a :class:`~syncstate.ports.ledger.WorkLedger`), without writing.

    The result is a list (:class:`~syncstate.domain.repost.findings.Findings`)
    that shows as a table in Jupyter.
    """
    findings = Findings()
    start = store.period_start(company, "receivables")
    if start is not None:
        view = store.index(company)
        for ids in _batches(store, company, batch):
            computed, found = recompute(view, ids, start.toordinal())
            clients = {row[0]: row[2] for row in view.documents(ids)}
            findings.extend(f.in_company(company) for f in found)
            findings.extend(
                diagnose_receivables(company, store.balances(company, ids), computed, clients)
            )
    if wip_period(store, company) is not None:
        findings.extend(plan_wip_repost(store, company, batch=batch).findings)
    if isinstance(store, WorkLedger):
        findings.extend(diagnose_work(store, company))
    if not findings and company not in store.companies():
        raise EmptySelectionError(f"company {company!r} has no repost ledger in {store.location}")
    return findings
