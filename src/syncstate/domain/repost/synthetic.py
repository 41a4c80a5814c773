"""Synthetic receivables ledgers for property tests, benchmarks and demos.

:func:`make_ledger` builds a realistic ledger as kernel rows: per client,
invoices and interest paid by cash receipts and credit notes (sometimes in
several parts), some receipts reversed, some credit notes refunded, receipts
gathered in daily deposits with miscellaneous receipts. With ``messy=True`` it
also plants the inconsistencies diagnostics look for (over-applications,
allocations to missing or other clients' documents, partial reversals).
:func:`random_changes` produces edits of an existing ledger. Everything is
driven by the ``random.Random`` passed in, so a seed reproduces a ledger.
"""

from __future__ import annotations

import random

import attrs

from syncstate.domain.repost.receivables import CN, CR, DEP, INT, INV, REF, REV, AllocRow, DocRow

__all__ = ["SyntheticLedger", "make_ledger", "random_changes"]

_START = 738_000  # an ordinal in 2021


@attrs.define
class _Open:
    id: str
    left: int


@attrs.define
class SyntheticLedger:
    """Documents and allocations by document id (mutable, for editing in tests)."""

    docs: dict[str, DocRow]
    allocs: dict[str, list[AllocRow]]
    period_start: int

    def rows(self) -> tuple[list[DocRow], list[AllocRow]]:
        """All documents and allocations as kernel rows."""
        return list(self.docs.values()), [a for v in self.allocs.values() for a in v]


def make_ledger(
    rng: random.Random,
    *,
    documents: int,
    clients: int,
    messy: bool = False,
    days: int = 730,
) -> SyntheticLedger:
    """About ``documents`` documents over ``clients`` clients and ``days`` days."""
    docs: dict[str, DocRow] = {}
    allocs: dict[str, list[AllocRow]] = {}
    open_inv: dict[str, list[_Open]] = {}
    receipts: dict[str, list[str]] = {}
    credit_open: dict[str, list[_Open]] = {}
    deposit_sum: dict[str, int] = {}
    n = 0
    per_day = max(1, documents // days)
    deposit = ""
    while n < documents:
        day = _START + n // per_day
        if n % per_day == 0 or not deposit:
            deposit = f"D{day}"
            docs[deposit] = (deposit, DEP, None, day, 0, None)
            deposit_sum[deposit] = 0
            n += 1
        client = f"C{rng.randrange(clients)}"
        roll = rng.random()
        doc_id = f"X{n}"
        n += 1
        if roll < 0.45:
            kind = INT if rng.random() < 0.05 else INV
            amount = rng.randrange(100, 500_000)
            docs[doc_id] = (doc_id, kind, client, day, amount, None)
            open_inv.setdefault(client, []).append(_Open(doc_id, amount))
        elif roll < 0.85:
            _pay(rng, doc_id, CR, client, day, docs, allocs, open_inv, messy)
            link_deposit = deposit
            row = docs[doc_id]
            docs[doc_id] = (*row[:5], link_deposit)
            deposit_sum[link_deposit] += row[4]
            receipts.setdefault(client, []).append(doc_id)
        elif roll < 0.93:
            _pay(rng, doc_id, CN, client, day, docs, allocs, open_inv, messy)
            applied = sum(a[2] for a in allocs.get(doc_id, ()))
            left = -docs[doc_id][4] - applied
            if left > 0:
                credit_open.setdefault(client, []).append(_Open(doc_id, left))
        elif roll < 0.96 and receipts.get(client):
            target = receipts[client].pop(rng.randrange(len(receipts[client])))
            amount = -docs[target][4]
            if messy and rng.random() < 0.2:
                amount = -rng.randrange(1, 1000)
            docs[doc_id] = (doc_id, REV, client, day, amount, target)
        elif roll < 0.98 and credit_open.get(client):
            credit = credit_open[client].pop()
            docs[doc_id] = (doc_id, REF, client, day, credit.left, credit.id)
        else:
            amount = rng.randrange(100, 20_000)
            docs[doc_id] = (doc_id, CR, None, day, amount, deposit)
            deposit_sum[deposit] += amount
    for dep_id, total in deposit_sum.items():
        row = docs[dep_id]
        if messy and rng.random() < 0.05:
            total += rng.randrange(1, 100)
        docs[dep_id] = (row[0], row[1], row[2], row[3], total, row[5])
    period_start = _START + (n // per_day) - 30
    return SyntheticLedger(docs, allocs, period_start)


def _pay(
    rng: random.Random,
    doc_id: str,
    kind: int,
    client: str,
    day: int,
    docs: dict[str, DocRow],
    allocs: dict[str, list[AllocRow]],
    open_inv: dict[str, list[_Open]],
    messy: bool,
) -> None:
    """A cash receipt or credit note that settles up to three open invoices."""
    total = 0
    mine: list[AllocRow] = []
    queue = open_inv.get(client, [])
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        if not queue:
            break
        item = queue[0]
        remaining = item.left
        part = remaining if rng.random() < 0.8 else rng.randrange(1, remaining + 1)
        if messy and rng.random() < 0.05:
            part += rng.randrange(1, 500)  # over-application
        target = item.id
        if messy and rng.random() < 0.03:
            target = rng.choice(("MISSING", f"X{rng.randrange(max(1, len(docs)))}"))
        mine.append((doc_id, target, part, day))
        total += part
        item.left = remaining - part
        if item.left <= 0:
            queue.pop(0)
    if rng.random() < 0.2:
        total += rng.randrange(0, 10_000)  # unapplied money on account
    total = max(total, 100)
    amount = total if kind == CR else -total
    docs[doc_id] = (doc_id, kind, client, day, amount, None)
    if mine:
        allocs[doc_id] = mine


def random_changes(
    rng: random.Random, ledger: SyntheticLedger, count: int
) -> tuple[list[tuple[DocRow, list[AllocRow]]], list[str]]:
    """``count`` edits: new amounts, new or dropped allocations, deletions, new documents.

    Returns ``(upserts, deletes)`` without applying them.
    """
    ids = list(ledger.docs)
    upserts: dict[str, tuple[DocRow, list[AllocRow]]] = {}
    deletes: list[str] = []
    for k in range(count):
        doc_id = rng.choice(ids)
        if doc_id in deletes:
            continue
        row, mine = upserts.get(doc_id, (ledger.docs[doc_id], ledger.allocs.get(doc_id, [])))
        roll = rng.random()
        if roll < 0.3:
            row = (*row[:4], row[4] + rng.randrange(-500, 500), row[5])
        elif roll < 0.5 and row[1] in (CR, CN):
            target = ledger.docs[rng.choice(ids)]
            mine = [*mine, (row[0], target[0], rng.randrange(1, 5000), row[3])]
        elif roll < 0.6 and mine:
            mine = mine[:-1]
        elif roll < 0.7:
            deletes.append(doc_id)
            upserts.pop(doc_id, None)
            continue
        elif roll < 0.8:
            new_id = f"N{k}-{rng.randrange(10**9)}"
            target = ledger.docs[rng.choice(ids)]
            kind = rng.choice((INV, CR, REV, REF))
            link = target[0] if kind in (REV, REF) else None
            new = (
                new_id,
                kind,
                target[2],
                target[3] + 1,
                -target[4] if kind == REV else 1000,
                link,
            )
            upserts[new_id] = (new, [])
            continue
        else:
            row = (row[0], row[1], f"C{rng.randrange(5)}", *row[3:])
        upserts[doc_id] = (row, mine)
    return list(upserts.values()), deletes
