"""Properties of bundling: exactly one bundle per transaction, totals, determinism."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from syncstate.domain.bundling import BundleKind, open_invoices
from syncstate.domain.records import RecordKey
from syncstate.domain.smart_accounting import SmartAccounting, plan_bundles
from syncstate.domain.transactions import Payment, UsageLog

CO = "acme"
START = dt.date(2024, 1, 1)

cents = st.integers(min_value=1, max_value=50_000).map(lambda c: Decimal(c) / 100)
days = st.integers(min_value=0, max_value=20).map(lambda d: START + dt.timedelta(days=d))
clients = st.sampled_from(["ann", "bob", "cyd"])
currencies = st.sampled_from(["USD", "USD", "EUR"])


@st.composite
def transactions(draw: st.DrawFn) -> tuple[list[UsageLog], list[Payment]]:
    n_usage = draw(st.integers(min_value=0, max_value=25))
    n_pay = draw(st.integers(min_value=0, max_value=12))
    usage = [
        UsageLog(
            source_id=f"u{i}",
            client=draw(clients),
            date=draw(days),
            resource=draw(st.sampled_from(["room-a", "room-b", "laser"])),
            quantity=draw(st.integers(min_value=1, max_value=8)),
            unit_price=draw(cents),
            currency=draw(currencies),
            tax_code=draw(st.sampled_from(["", "TAX"])),
        )
        for i in range(n_usage)
    ]
    payments = [
        Payment(
            source_id=f"p{i}",
            client=draw(clients),
            date=draw(days),
            amount=draw(cents),
            currency=draw(currencies),
            method=draw(st.sampled_from(["card", "cash"])),
        )
        for i in range(n_pay)
    ]
    return usage, payments


POLICIES = st.sampled_from([SmartAccounting(), SmartAccounting(invoice_period="month")])


@settings(max_examples=150, deadline=None)
@given(transactions(), POLICIES)
def test_every_open_transaction_ends_in_exactly_one_bundle(data, policy) -> None:  # type: ignore[no-untyped-def]
    usage, payments = data
    bundles = plan_bundles(CO, usage, payments, policy)
    members = [key for b in bundles for key in b.members]
    expected = {RecordKey(CO, "usage_log", u.source_id) for u in usage}
    expected |= {RecordKey(CO, "payment", p.source_id) for p in payments}
    assert len(members) == len(set(members))
    assert set(members) == expected


@settings(max_examples=150, deadline=None)
@given(transactions(), POLICIES)
def test_bundle_totals_equal_the_sums_of_their_members(data, policy) -> None:  # type: ignore[no-untyped-def]
    usage, payments = data
    by_key = {RecordKey(CO, "usage_log", u.source_id): u for u in usage}
    by_key.update({RecordKey(CO, "payment", p.source_id): p for p in payments})
    for bundle in plan_bundles(CO, usage, payments, policy):
        txs = [by_key[k] for k in bundle.members]
        assert {t.client for t in txs} == {bundle.client}
        assert {t.currency for t in txs} == {bundle.currency}
        used = sum((t.total.amount for t in txs if isinstance(t, UsageLog)), Decimal(0))
        paid = sum((t.amount for t in txs if isinstance(t, Payment)), Decimal(0))
        assert sum((ln.amount for ln in bundle.lines), Decimal(0)) == used
        if bundle.kind is BundleKind.PAYMENT:
            assert bundle.total == paid and bundle.lines == ()
            assert sum(a.amount for a in bundle.applied) + bundle.unapplied == paid
        else:
            assert bundle.total == used and bundle.paid == paid
        if bundle.kind is BundleKind.SALES_RECEIPT:
            assert bundle.paid >= bundle.total


@settings(max_examples=100, deadline=None)
@given(transactions(), POLICIES, st.randoms(use_true_random=False))
def test_bundling_is_deterministic(data, policy, rnd: random.Random) -> None:  # type: ignore[no-untyped-def]
    usage, payments = data
    shuffled_u, shuffled_p = list(usage), list(payments)
    rnd.shuffle(shuffled_u)
    rnd.shuffle(shuffled_p)
    assert plan_bundles(CO, usage, payments, policy) == plan_bundles(
        CO, shuffled_u, shuffled_p, policy
    )


@settings(max_examples=100, deadline=None)
@given(transactions())
def test_payments_never_overpay_an_invoice_and_fill_older_ones_first(data) -> None:  # type: ignore[no-untyped-def]
    usage, payments = data
    bundles = plan_bundles(CO, usage, payments, SmartAccounting())
    invoices = {b.bundle_id: b for b in bundles if b.kind is BundleKind.INVOICE}
    applied: dict[str, Decimal] = {}
    for b in bundles:
        for a in b.applied:
            assert invoices[a.invoice].client == b.client
            applied[a.invoice] = applied.get(a.invoice, Decimal(0)) + a.amount
    for bid, amount in applied.items():
        assert amount <= invoices[bid].total
    still_open = {o.bundle_id for o in open_invoices(bundles)}
    for b in bundles:
        if b.kind is BundleKind.PAYMENT and b.unapplied > 0:
            # money left over means the client had nothing open in that currency
            assert not any(
                invoices[i].client == b.client and invoices[i].currency == b.currency
                for i in still_open
            )
