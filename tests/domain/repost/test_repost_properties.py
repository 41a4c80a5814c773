"""Properties of the receivables repost over random ledgers and random changes."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from syncstate.domain.repost.ledger import (
    MemoryLedger,
    RepostState,
    incremental_repost,
    recompute,
)
from syncstate.domain.repost.receivables import (
    open_receivables,
    receivables_gl_balance,
    repost_rows,
)
from syncstate.domain.repost.synthetic import SyntheticLedger, make_ledger, random_changes

seeds = st.integers(min_value=0, max_value=2**32 - 1)


def ledger(seed: int, messy: bool) -> SyntheticLedger:
    rng = random.Random(seed)
    return make_ledger(
        rng, documents=rng.randrange(20, 400), clients=rng.randrange(1, 12), messy=messy
    )


def full(led: SyntheticLedger) -> tuple[dict[str, tuple[object, ...]], list[object]]:
    docs, allocs = led.rows()
    rows, findings = repost_rows(docs, allocs, led.period_start)
    return {r[0]: r for r in rows}, findings


@settings(max_examples=60, deadline=None)
@given(seeds)
def test_sum_of_outstanding_equals_the_receivables_gl_balance(seed: int) -> None:
    led = ledger(seed, messy=False)
    docs, allocs = led.rows()
    rows, findings = repost_rows(docs, allocs, led.period_start)
    assert findings == []
    assert open_receivables(docs, rows) == receivables_gl_balance(docs, rows)


@settings(max_examples=30, deadline=None)
@given(seeds)
def test_repost_is_idempotent_and_order_independent(seed: int) -> None:
    led = ledger(seed, messy=True)
    docs, allocs = led.rows()
    first = repost_rows(docs, allocs, led.period_start)
    random.Random(seed).shuffle(docs)
    random.Random(seed + 1).shuffle(allocs)
    rows, findings = repost_rows(docs, allocs, led.period_start)
    assert {r[0]: r for r in rows} == {r[0]: r for r in first[0]}
    assert findings == first[1]


@settings(max_examples=60, deadline=None)
@given(seeds, st.integers(min_value=1, max_value=25), st.booleans())
def test_incremental_repost_equals_full_repost(seed: int, changes: int, messy: bool) -> None:
    led = ledger(seed, messy)
    docs, allocs = led.rows()
    index = MemoryLedger(docs, allocs)
    rows, findings = repost_rows(docs, allocs, led.period_start)
    state = RepostState.of(rows, findings)
    upserts, deletes = random_changes(random.Random(seed), led, changes)

    incremental_repost(
        index, state, upserts=upserts, deletes=deletes, period_start=led.period_start
    )

    for doc_id in deletes:
        led.docs.pop(doc_id, None)
        led.allocs.pop(doc_id, None)
    for row, mine in upserts:
        led.docs[row[0]] = row
        led.allocs[row[0]] = list(mine)
    expected_rows, expected_findings = full(led)
    assert state.balances == expected_rows
    assert state.all_findings() == expected_findings


@settings(max_examples=40, deadline=None)
@given(seeds, st.booleans())
def test_scoped_repost_of_one_client_equals_the_full_repost_restricted_to_it(
    seed: int, messy: bool
) -> None:
    led = ledger(seed, messy)
    docs, allocs = led.rows()
    expected_rows, expected_findings = full(led)
    index = MemoryLedger(docs, allocs)
    client = random.Random(seed).choice([d[2] for d in docs])
    ids = index.client_documents(client)

    rows, findings = recompute(index, ids, led.period_start)

    assert {r[0]: r for r in rows} == {i: expected_rows[i] for i in ids}
    assert findings == [f for f in expected_findings if f.scope.document in set(ids)]  # type: ignore[attr-defined]
