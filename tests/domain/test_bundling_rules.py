"""Smart accounting, worked examples from the Chronos export seed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from syncstate.domain.bundling import (
    Application,
    Bundle,
    BundleKind,
    OpenInvoice,
    make_bundle,
    open_invoices,
)
from syncstate.domain.records import RecordKey
from syncstate.domain.smart_accounting import SmartAccounting, plan_bundles
from syncstate.domain.transactions import Payment, UsageLog
from syncstate.errors import InputError

CO = "acme"
D1, D2, D3 = dt.date(2024, 3, 1), dt.date(2024, 3, 2), dt.date(2024, 3, 5)


def usage(sid: str, client: str, day: dt.date, qty: str, price: str, **kw: str) -> UsageLog:
    return UsageLog(
        source_id=sid,
        client=client,
        date=day,
        resource=kw.pop("resource", "room-a"),
        quantity=qty,
        unit_price=price,
        currency=kw.pop("currency", "USD"),
        **kw,
    )


def pay(sid: str, client: str, day: dt.date, amount: str, **kw: str) -> Payment:
    return Payment(
        source_id=sid,
        client=client,
        date=day,
        amount=amount,
        currency=kw.pop("currency", "USD"),
        method=kw.pop("method", "card"),
        **kw,
    )


def by_kind(bundles: list[Bundle], kind: BundleKind) -> list[Bundle]:
    return [b for b in bundles if b.kind is kind]


def test_usage_paid_the_same_day_becomes_a_sales_receipt_with_its_payment() -> None:
    bundles = plan_bundles(
        CO,
        [usage("u1", "ann", D1, "2", "40.00")],
        [pay("p1", "ann", D1, "80.00")],
        SmartAccounting(),
    )
    (receipt,) = bundles
    assert receipt.kind is BundleKind.SALES_RECEIPT
    assert receipt.members == (RecordKey(CO, "payment", "p1"), RecordKey(CO, "usage_log", "u1"))
    assert receipt.total == Decimal("80.00") and receipt.paid == Decimal("80.00")
    assert receipt.unapplied == 0


def test_usage_on_account_becomes_an_invoice_and_a_later_payment_is_applied_to_it() -> None:
    bundles = plan_bundles(
        CO,
        [usage("u1", "ann", D1, "3", "25.00")],
        [pay("p1", "ann", D3, "75.00", method="cheque")],
        SmartAccounting(),
    )
    (invoice,) = by_kind(bundles, BundleKind.INVOICE)
    (payment,) = by_kind(bundles, BundleKind.PAYMENT)
    assert invoice.total == Decimal("75.00") and invoice.date == D1
    assert payment.applied == (Application(invoice.bundle_id, Decimal("75.00")),)
    assert payment.unapplied == 0
    assert open_invoices(bundles) == []


def test_payment_is_applied_to_the_oldest_open_invoices_first() -> None:
    bundles = plan_bundles(
        CO,
        [usage("u1", "ann", D1, "1", "50.00"), usage("u2", "ann", D2, "1", "30.00")],
        [pay("p1", "ann", D3, "60.00")],
        SmartAccounting(),
    )
    first, second = by_kind(bundles, BundleKind.INVOICE)
    assert (first.date, second.date) == (D1, D2)
    (payment,) = by_kind(bundles, BundleKind.PAYMENT)
    assert payment.applied == (
        Application(first.bundle_id, Decimal("50.00")),
        Application(second.bundle_id, Decimal("10.00")),
    )
    (still_open,) = open_invoices(bundles)
    assert still_open.bundle_id == second.bundle_id and still_open.balance == Decimal("20.00")


def test_a_new_payment_pays_existing_open_invoices_before_new_ones() -> None:
    old = OpenInvoice(bundle_id="INV-old", date=D1, currency="USD", balance=Decimal("20.00"))
    bundles = plan_bundles(
        CO,
        [usage("u2", "ann", D2, "1", "30.00")],
        [pay("p1", "ann", D3, "25.00")],
        SmartAccounting(),
        invoices={"ann": [old]},
    )
    (payment,) = by_kind(bundles, BundleKind.PAYMENT)
    (new_invoice,) = by_kind(bundles, BundleKind.INVOICE)
    assert payment.applied == (
        Application("INV-old", Decimal("20.00")),
        Application(new_invoice.bundle_id, Decimal("5.00")),
    )


def test_a_partial_same_day_payment_leaves_the_usage_on_account() -> None:
    bundles = plan_bundles(
        CO,
        [usage("u1", "ann", D1, "2", "40.00")],
        [pay("p1", "ann", D1, "50.00")],
        SmartAccounting(),
    )
    (invoice,) = by_kind(bundles, BundleKind.INVOICE)
    (payment,) = by_kind(bundles, BundleKind.PAYMENT)
    assert payment.applied == (Application(invoice.bundle_id, Decimal("50.00")),)
    assert open_invoices(bundles)[0].balance == Decimal("30.00")


def test_an_overpayment_at_use_stays_on_the_receipt_as_credit() -> None:
    (receipt,) = plan_bundles(
        CO,
        [usage("u1", "ann", D1, "1", "40.00")],
        [pay("p1", "ann", D1, "50.00")],
        SmartAccounting(),
    )
    assert receipt.kind is BundleKind.SALES_RECEIPT and receipt.unapplied == Decimal("10.00")


def test_a_payment_without_open_invoices_stays_unapplied() -> None:
    (payment,) = plan_bundles(CO, [], [pay("p1", "ann", D1, "15.00")], SmartAccounting())
    assert payment.kind is BundleKind.PAYMENT
    assert payment.applied == () and payment.unapplied == Decimal("15.00")


def test_lines_are_one_per_resource_price_and_tax_code() -> None:
    logs = [
        usage("u1", "ann", D1, "1", "10.00", resource="room-a", tax_code="TAX"),
        usage("u2", "ann", D1, "2", "10.00", resource="room-a", tax_code="TAX"),
        usage("u3", "ann", D1, "1", "99.00", resource="laser", tax_code="NON"),
    ]
    (invoice,) = plan_bundles(CO, logs, [], SmartAccounting())
    assert [(ln.resource, ln.quantity, ln.amount, ln.tax_code) for ln in invoice.lines] == [
        ("laser", Decimal("1"), Decimal("99.00"), "NON"),
        ("room-a", Decimal("3"), Decimal("30.00"), "TAX"),
    ]
    assert invoice.total == Decimal("129.00")


def test_monthly_invoicing_groups_a_months_usage_on_account() -> None:
    logs = [usage("u1", "ann", D1, "1", "10.00"), usage("u2", "ann", D3, "1", "5.00")]
    (invoice,) = plan_bundles(CO, logs, [], SmartAccounting(invoice_period="month"))
    assert invoice.total == Decimal("15.00") and invoice.date == D3


def test_a_bundle_never_mixes_clients_or_currencies() -> None:
    logs = [
        usage("u1", "ann", D1, "1", "10.00"),
        usage("u2", "ann", D1, "1", "10.00", currency="EUR"),
        usage("u3", "bob", D1, "1", "10.00"),
    ]
    bundles = plan_bundles(
        CO, logs, [pay("p1", "ann", D1, "10.00", currency="EUR")], SmartAccounting()
    )
    assert sorted((b.client, b.currency, b.kind.value) for b in bundles) == [
        ("ann", "EUR", "sales_receipt"),
        ("ann", "USD", "invoice"),
        ("bob", "USD", "invoice"),
    ]
    with pytest.raises(InputError, match="never mixes clients"):
        make_bundle(CO, BundleKind.INVOICE, usage=[logs[0], logs[2]])
    with pytest.raises(InputError, match="never mixes currencies"):
        make_bundle(CO, BundleKind.INVOICE, usage=logs[:2])


def test_a_bundle_survives_the_round_trip_through_its_record() -> None:
    bundles = plan_bundles(
        CO,
        [
            usage("u1", "ann", D1, "1.5", "40.00", description="Studio"),
            usage("u2", "ann", D2, "1", "30.00"),
        ],
        [pay("p1", "ann", D3, "45.00", reference="chq 17")],
        SmartAccounting(),
    )
    for bundle in bundles:
        record = bundle.to_record()
        assert record.key.kind == bundle.kind.record_kind and record.subject == "ann"
        assert Bundle.from_record(record) == bundle


def test_bundle_ids_depend_on_content_not_on_order_of_input() -> None:
    logs = [usage("u1", "ann", D1, "1", "10.00"), usage("u2", "ann", D1, "1", "10.00")]
    a = plan_bundles(CO, logs, [], SmartAccounting())
    b = plan_bundles(CO, list(reversed(logs)), [], SmartAccounting())
    assert a == b
    c = plan_bundles(CO, logs[:1], [], SmartAccounting())
    assert c[0].bundle_id != a[0].bundle_id


class GreedyPolicy:
    """A host policy with a bug: it puts one usage log in two bundles."""

    name = "greedy"

    def bundle(self, company, client, usage, payments, invoices):  # type: ignore[no-untyped-def]
        return [
            make_bundle(company, BundleKind.INVOICE, usage=usage),
            make_bundle(company, BundleKind.SALES_RECEIPT, usage=usage[:1]),
        ]


def test_a_host_policy_that_double_books_a_transaction_is_refused() -> None:
    with pytest.raises(InputError, match=r"greedy.*in two bundles"):
        plan_bundles(CO, [usage("u1", "ann", D1, "1", "10.00")], [], GreedyPolicy())


class InvoiceEverything:
    """A host policy: never a sales receipt; payments unapplied."""

    name = "invoice-everything"

    def bundle(self, company, client, usage, payments, invoices):  # type: ignore[no-untyped-def]
        out = [make_bundle(company, BundleKind.INVOICE, usage=usage)] if usage else []
        out += [make_bundle(company, BundleKind.PAYMENT, payments=[p]) for p in payments]
        return out


def test_a_host_can_supply_its_own_policy() -> None:
    bundles = plan_bundles(
        CO,
        [usage("u1", "ann", D1, "1", "10.00")],
        [pay("p1", "ann", D1, "10.00")],
        InvoiceEverything(),
    )
    assert sorted(b.kind.value for b in bundles) == ["invoice", "payment"]
