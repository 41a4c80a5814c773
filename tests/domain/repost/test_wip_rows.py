"""The row WIP kernel equals the object one, and an incremental WIP repost equals a full one."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import pytest

from syncstate.domain.repost.findings import Code
from syncstate.domain.repost.wip import WipEntry, repost_wip
from syncstate.domain.repost.wip_rows import WipIndex, repost_wip_rows, wip_row

START = dt.date(2024, 3, 1)


def _entries(rng: random.Random, n: int) -> tuple[list[WipEntry], dict[str, dt.date]]:
    invoices = {f"B{i}": START + dt.timedelta(days=rng.randrange(-40, 40)) for i in range(20)}
    out = []
    for k in range(n):
        out.append(
            WipEntry(
                id=f"W{k}",
                type=rng.choice(["time", "expense", "", None, "  ", "fee"]),
                client=rng.choice(["C1", "C2", None, "", " "]),
                date=START,
                work_code=rng.choice(["AUD", None, ""]),
                quantity=rng.choice([None, Decimal(0), Decimal("1.5")]),
                amount=rng.choice([None, Decimal(0), Decimal("300.00"), Decimal("-12.34")]),
                billed_amount=rng.choice([None, Decimal("350.00")]),
                invoice=rng.choice([None, "GONE", *invoices]),
                billing_status=rng.choice(["billed", "unbilled"]),
                hide=rng.random() < 0.3,
            )
        )
    return out, invoices


def _expected(entries: list[WipEntry], invoices: dict[str, dt.date]) -> tuple[object, ...]:
    result = repost_wip(entries, invoices, period_start=START)
    balances = [
        (
            b.id,
            b.clear_flag,
            None if b.clear_date is None else b.clear_date.toordinal(),
            None if b.write_updown is None else int(b.write_updown * 100),
            None if b.write_date is None else b.write_date.toordinal(),
            b.billing_status,
            b.hide,
        )
        for b in result.balances
    ]
    deletions = [(d.id, d.code) for d in result.deletions]
    orphans = [f.scope.document for f in result.findings if f.code is Code.WIP_ORPHAN_BILLED]
    return balances, deletions, orphans


@pytest.mark.parametrize("seed", range(5))
def test_the_row_kernel_gives_what_the_object_kernel_gives(seed: int) -> None:
    entries, invoices = _entries(random.Random(seed), 400)
    days = {k: v.toordinal() for k, v in invoices.items()}
    got = repost_wip_rows([wip_row(e) for e in entries], days, START.toordinal())
    assert got == _expected(entries, invoices)


@pytest.mark.parametrize("seed", range(3))
def test_an_incremental_wip_repost_equals_a_full_one(seed: int) -> None:
    rng = random.Random(seed)
    entries, invoices = _entries(rng, 300)
    days = {k: v.toordinal() for k, v in invoices.items()}
    index = WipIndex(wip_row(e) for e in entries)
    state = {r[0]: r for r in repost_wip_rows(index.all_rows(), days, START.toordinal())[0]}
    more, _ = _entries(random.Random(seed + 100), 40)
    upserts = [wip_row(e) for e in more[:30]]
    deletes = [f"W{k}" for k in rng.sample(range(300), 10)]
    moved = {"B1": START + dt.timedelta(days=-90)}  # an invoice re-dated
    days.update({k: v.toordinal() for k, v in moved.items()})
    affected = index.affected([r[0] for r in upserts] + deletes, moved)
    index.apply(upserts, deletes)
    affected |= index.affected([], moved)
    for doc_id in affected:
        state.pop(doc_id, None)
    kept, _, _ = repost_wip_rows(index.rows(sorted(affected)), days, START.toordinal())
    state.update((r[0], r) for r in kept)
    full, _, _ = repost_wip_rows(index.all_rows(), days, START.toordinal())
    assert state == {r[0]: r for r in full}
