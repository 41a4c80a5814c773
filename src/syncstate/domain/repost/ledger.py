"""Scoped and incremental receivables reposts over an indexed ledger.

A document's balances depend on a small neighbourhood: the allocations from
and to it, the documents they join, and the reversals, refunds and receipts
that link to it. :class:`LedgerIndex` is the port that answers those look-ups
(:class:`MemoryLedger` here, the SQLite ledger store in the adapters), so
a repost of a few documents reads only their neighbourhood:

* :func:`recompute` restores the balances of chosen documents (one invoice,
  one client's documents) exactly as a full repost would;
* :func:`affected_by` finds the documents whose balances a change can move;
* :class:`RepostState` holds a previous result and merges a partial one.

The incremental repost (``affected_by`` before and after the change, then
``recompute``) gives the same balances and findings as a full repost.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from typing import Protocol

import attrs

from syncstate.domain.repost.findings import Finding
from syncstate.domain.repost.receivables import (
    CR,
    DEP,
    REV,
    AllocRow,
    BalanceRow,
    DepositTotals,
    DocRow,
    repost_rows,
)

__all__ = [
    "LedgerIndex",
    "MemoryLedger",
    "RepostState",
    "affected_by",
    "neighbourhood",
    "recompute",
]


class LedgerIndex(Protocol):
    """Look-ups a scoped or incremental receivables repost needs (one company)."""

    def documents(self, ids: Collection[str]) -> list[DocRow]:
        """The documents with these ids (unknown ids are skipped)."""
        ...

    def allocations_from(self, ids: Collection[str]) -> list[AllocRow]:
        """Allocations made by these documents."""
        ...

    def allocations_to(self, ids: Collection[str]) -> list[AllocRow]:
        """Allocations that settle these documents."""
        ...

    def linked_to(self, ids: Collection[str]) -> list[DocRow]:
        """Documents whose link (reverses, refunds, deposit) names one of these ids."""
        ...

    def deposit_totals(self, ids: Collection[str]) -> dict[str, DepositTotals]:
        """For each id, its cash receipts' (sum, sum without client, last date)."""
        ...


class MemoryLedger:
    """An in-memory :class:`LedgerIndex` that also takes changes."""

    def __init__(self, docs: Iterable[DocRow] = (), allocs: Iterable[AllocRow] = ()) -> None:
        self._docs: dict[str, DocRow] = {}
        self._from: dict[str, list[AllocRow]] = {}
        self._payers: dict[str, set[str]] = {}
        self._linked: dict[str, set[str]] = {}
        # deposit id -> [sum, miscellaneous sum, {day: receipts that day}]
        self._deposits: dict[str, tuple[list[int], dict[int, int]]] = {}
        for row in docs:
            self._put(row)
        for alloc in allocs:
            self._from.setdefault(alloc[0], []).append(alloc)
            self._payers.setdefault(alloc[1], set()).add(alloc[0])

    def _put(self, row: DocRow) -> None:
        self._docs[row[0]] = row
        if row[5] is not None:
            self._linked.setdefault(row[5], set()).add(row[0])
            if row[1] == CR:
                self._count(row, 1)

    def _count(self, row: DocRow, sign: int) -> None:
        sums, days = self._deposits.setdefault(row[5] or "", ([0, 0], {}))
        sums[0] += sign * row[4]
        if row[2] is None:
            sums[1] += sign * row[4]
        days[row[3]] = days.get(row[3], 0) + sign
        if not days[row[3]]:
            del days[row[3]]

    def _drop(self, doc_id: str) -> None:
        old = self._docs.pop(doc_id, None)
        if old is not None and old[5] is not None:
            self._linked.get(old[5], set()).discard(doc_id)
            if old[1] == CR:
                self._count(old, -1)
        for alloc in self._from.pop(doc_id, ()):
            self._payers.get(alloc[1], set()).discard(doc_id)

    def apply(
        self,
        upserts: Iterable[tuple[DocRow, Iterable[AllocRow]]] = (),
        deletes: Iterable[str] = (),
    ) -> None:
        """Replace documents (with all their allocations) and delete others."""
        for doc_id in deletes:
            self._drop(doc_id)
        for row, allocs in upserts:
            self._drop(row[0])
            self._put(row)
            mine = list(allocs)
            if mine:
                self._from[row[0]] = mine
            for alloc in mine:
                self._payers.setdefault(alloc[1], set()).add(row[0])

    def __len__(self) -> int:
        return len(self._docs)

    def all_documents(self) -> Iterator[DocRow]:
        """Every document, in insertion order."""
        return iter(self._docs.values())

    def all_allocations(self) -> Iterator[AllocRow]:
        """Every allocation."""
        for allocs in self._from.values():
            yield from allocs

    def client_documents(self, client: str | None) -> list[str]:
        """Ids of one client's documents."""
        return [row[0] for row in self._docs.values() if row[2] == client]

    def documents(self, ids: Collection[str]) -> list[DocRow]:
        """The documents with these ids."""
        docs = self._docs
        return [docs[i] for i in ids if i in docs]

    def allocations_from(self, ids: Collection[str]) -> list[AllocRow]:
        """Allocations made by these documents."""
        out: list[AllocRow] = []
        for i in ids:
            out.extend(self._from.get(i, ()))
        return out

    def allocations_to(self, ids: Collection[str]) -> list[AllocRow]:
        """Allocations that settle these documents."""
        wanted = set(ids)
        payers: set[str] = set()
        for i in wanted:
            payers |= self._payers.get(i, set())
        return [a for a in self.allocations_from(payers) if a[1] in wanted]

    def linked_to(self, ids: Collection[str]) -> list[DocRow]:
        """Documents linking to these ids."""
        found: set[str] = set()
        for i in ids:
            found |= self._linked.get(i, set())
        return self.documents(found)

    def deposit_totals(self, ids: Collection[str]) -> dict[str, DepositTotals]:
        """Receipt totals of these deposits, kept up to date on every change."""
        out: dict[str, DepositTotals] = {}
        for i in ids:
            sums, days = self._deposits.get(i, ([0, 0], {}))
            out[i] = (sums[0], sums[1], max(days) if days else None)
        return out


def neighbourhood(
    index: LedgerIndex, ids: Collection[str]
) -> tuple[list[DocRow], list[AllocRow], dict[str, DepositTotals]]:
    """The documents, allocations and deposit totals that decide the balances of ``ids``."""
    wanted = set(ids)
    docs = {row[0]: row for row in index.documents(wanted)}
    deposits = {i for i, row in docs.items() if row[1] == DEP}
    allocs = index.allocations_from(wanted)
    incoming = [a for a in index.allocations_to(wanted) if a[0] not in wanted]
    allocs.extend(incoming)
    for row in index.linked_to(wanted - deposits):
        docs.setdefault(row[0], row)
    payers = {a[0] for a in incoming}
    for row in index.linked_to(payers):
        docs.setdefault(row[0], row)
    targets = {row[5] for row in docs.values() if row[0] in wanted and row[5] is not None}
    reversed_ = {
        row[5] for row in docs.values() if row[0] in wanted and row[1] == REV and row[5] is not None
    }
    for row in index.linked_to(reversed_):
        docs.setdefault(row[0], row)
    need = {a[1] for a in allocs} | payers | targets
    need.difference_update(docs)
    for row in index.documents(need):
        docs[row[0]] = row
    return list(docs.values()), allocs, index.deposit_totals(deposits)


def recompute(
    index: LedgerIndex, ids: Collection[str], period_start: int
) -> tuple[list[BalanceRow], list[Finding]]:
    """Balances and findings of just ``ids``, equal to a full repost's for them."""
    docs, allocs, deposits = neighbourhood(index, ids)
    return repost_rows(docs, allocs, period_start, only=ids, deposits=deposits)


def affected_by(index: LedgerIndex, changed: Collection[str]) -> set[str]:
    """Documents whose balances or findings may move when ``changed`` change.

    Call it on the ledger before the change and again after, and repost the union.
    """
    result = set(changed)
    docs = index.documents(changed)
    result.update(a[1] for a in index.allocations_from(changed))
    result.update(a[0] for a in index.allocations_to(changed))
    result.update(row[0] for row in index.linked_to(changed))
    result.update(row[5] for row in docs if row[5] is not None)
    # a reversal also moves what its receipt paid, and decides which of two
    # reversals of one receipt counts
    reversed_ = {row[5] for row in docs if row[5] is not None and row[1] == REV}
    result.update(row[0] for row in index.linked_to(reversed_))
    result.update(a[1] for a in index.allocations_from(reversed_))
    return result


@attrs.define
class RepostState:
    """The result of the last repost: balance rows and findings by document."""

    balances: dict[str, BalanceRow] = attrs.field(factory=dict)
    findings: dict[str, list[Finding]] = attrs.field(factory=dict)

    @classmethod
    def of(cls, rows: Iterable[BalanceRow], findings: Iterable[Finding]) -> RepostState:
        """A state from a full repost's output."""
        state = cls({row[0]: row for row in rows})
        for finding in findings:
            state.findings.setdefault(finding.scope.document or "", []).append(finding)
        return state

    def merge(
        self,
        ids: Collection[str],
        rows: Iterable[BalanceRow],
        findings: Iterable[Finding],
    ) -> None:
        """Replace what is known about ``ids`` (documents gone are dropped)."""
        for doc_id in ids:
            self.balances.pop(doc_id, None)
            self.findings.pop(doc_id, None)
        for row in rows:
            self.balances[row[0]] = row
        for finding in findings:
            self.findings.setdefault(finding.scope.document or "", []).append(finding)

    def all_findings(self) -> list[Finding]:
        """Every finding, sorted as :func:`repost_rows` sorts them."""
        out = [f for group in self.findings.values() for f in group]
        out.sort(key=lambda f: (f.scope.document or "", f.code.value, f.message))
        return out


def incremental_repost(
    index: MemoryLedger,
    state: RepostState,
    *,
    upserts: Iterable[tuple[DocRow, Iterable[AllocRow]]] = (),
    deletes: Iterable[str] = (),
    period_start: int,
) -> set[str]:
    """Apply changes to ``index`` and bring ``state`` up to date; return the reposted ids."""
    changes = [(row, tuple(allocs)) for row, allocs in upserts]
    gone = list(deletes)
    changed = {row[0] for row, _ in changes} | set(gone)
    affected = affected_by(index, changed)
    index.apply(changes, gone)
    affected |= affected_by(index, changed)
    rows, findings = recompute(index, affected, period_start)
    state.merge(affected, rows, findings)
    return affected
