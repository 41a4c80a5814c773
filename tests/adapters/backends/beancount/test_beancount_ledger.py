"""The Beancount back end writes ledgers that Beancount itself loads without errors."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

pytest.importorskip("beancount", reason="needs the beancount extra")

from beancount_helpers import backend, balance, invoice, payment, transactions
from syncstate.domain.records import RecordKey
from syncstate.errors import UnmappedReference
from syncstate.ports import Document, DocumentLine


def time_activity(company: str, n: int, hours: str, **fields: str) -> Document:
    return Document(
        kind="time_activity",
        source=RecordKey(company, "time_entry", f"t{n}"),
        date=dt.date(2026, 3, 3),
        party="emp-1",
        fields={"hours": hours, **fields},
    )


def sales_receipt(company: str, n: int) -> Document:
    return Document(
        kind="sales_receipt",
        source=RecordKey(company, "sales_receipt", f"s{n}"),
        date=dt.date(2026, 3, 4),
        party="client-2",
        lines=(DocumentLine(item="hosting", quantity=Decimal(3), unit_price=Decimal("19.99")),),
        memo='walk-in "cash" sale\nsecond line',
    )


def test_every_kind_of_export_leaves_a_ledger_beancount_loads_cleanly(tmp_path: Path) -> None:
    books = backend(tmp_path)
    path = books.ledger_path("acme")
    ref = books.create("acme", invoice("acme", 1, "100.00"), idempotency_key="k-i1")
    assert len(transactions(path)) == 1
    books.create("acme", sales_receipt("acme", 1), idempotency_key="k-s1")
    books.create(
        "acme", payment("acme", 1, "60.00", applies_to=ref.remote_id), idempotency_key="k-p1"
    )
    books.create("acme", time_activity("acme", 1, "7.5"), idempotency_key="k-t1")
    books.create("acme", time_activity("acme", 2, "2", hourly_rate="90"), idempotency_key="k-t2")
    found = transactions(path)
    assert [t.meta["syncstate-kind"] for t in found] == [
        "invoice", "time_activity", "time_activity", "sales_receipt", "payment",
    ]  # fmt: skip
    assert balance(path, "Assets:Receivable") == {"USD": Decimal("40.00")}
    assert balance(path, "Assets:Bank") == {"USD": Decimal("119.97")}
    assert balance(path, "Expenses:Labour") == {"USD": Decimal("498.75")}  # 7.5*42.50 + 2*90
    sale = next(t for t in found if t.meta["syncstate-kind"] == "sales_receipt")
    assert sale.narration == 'sales receipt s1: walk-in "cash" sale second line'


def test_batch_update_and_delete_keep_the_ledger_valid(tmp_path: Path) -> None:
    books = backend(tmp_path)
    path = books.ledger_path("acme")
    refs = books.create_batch(
        "acme", [(invoice("acme", n, f"{n}00.00"), f"k{n}") for n in range(1, 6)]
    )
    assert len(transactions(path)) == 5
    first = refs[0]
    assert not isinstance(first, Exception)
    books.update("acme", first, invoice("acme", 1, "555.55"), idempotency_key="k1-v2")
    found = transactions(path)
    assert len(found) == 5
    assert found[0].meta["syncstate-id"] == first.remote_id
    assert found[0].postings[0].units.number == Decimal("555.55")
    third = refs[2]
    assert not isinstance(third, Exception)
    books.delete("acme", third)
    assert [t.meta["syncstate-source"] for t in transactions(path)] == [
        "acme/invoice/i1", "acme/invoice/i2", "acme/invoice/i4", "acme/invoice/i5",
    ]  # fmt: skip
    assert books.check("acme") == []


def test_lookup_reads_the_key_back_from_the_ledger_in_a_new_process(tmp_path: Path) -> None:
    ref = backend(tmp_path).create("acme", invoice("acme", 1, "10.00"), idempotency_key="k-1")
    again = backend(tmp_path)  # nothing cached: only the file knows
    assert again.lookup("acme", "invoice", "k-1") == ref
    assert again.lookup("acme", "payment", "k-1") is None
    assert again.create("acme", invoice("acme", 1, "10.00"), idempotency_key="k-1") == ref
    assert len(transactions(again.ledger_path("acme"))) == 1


def test_each_company_keeps_its_own_books(tmp_path: Path) -> None:
    books = backend(tmp_path)
    books.create("acme", invoice("acme", 1, "10.00"), idempotency_key="k-1")
    books.create("Globex Ltd", invoice("Globex Ltd", 1, "20.00"), idempotency_key="k-1")
    assert books.ledger_path("acme") != books.ledger_path("Globex Ltd")
    assert balance(books.ledger_path("acme"), "Assets:Receivable") == {"USD": Decimal("10.00")}
    assert balance(books.ledger_path("Globex Ltd"), "Income") == {"USD": Decimal("-20.00")}


def test_an_unmapped_customer_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    books = backend(tmp_path)
    books.create("acme", invoice("acme", 1, "10.00"), idempotency_key="k-1")
    before = books.ledger_path("acme").read_bytes()
    with pytest.raises(UnmappedReference, match="customer 'client-9'") as caught:
        books.create("acme", invoice("acme", 2, "10.00", party="client-9"), idempotency_key="k-2")
    assert caught.value.record == "acme/invoice/i2"
    assert books.ledger_path("acme").read_bytes() == before


def test_entries_a_person_adds_by_hand_survive_later_exports(tmp_path: Path) -> None:
    books = backend(tmp_path)
    path = books.ledger_path("acme")
    books.create("acme", invoice("acme", 1, "10.00"), idempotency_key="k-1")
    with path.open("a") as handle:
        handle.write(
            '\n2026-03-09 * "owner" "cash put in by hand"\n'
            "  Assets:Bank  5.00 USD\n  Income:Consulting  -5.00 USD"  # no final newline
        )
    books.create("acme", invoice("acme", 2, "20.00", day=10), idempotency_key="k-2")
    assert [t.narration for t in transactions(path)] == [
        "invoice INV-1", "cash put in by hand", "invoice INV-2",
    ]  # fmt: skip


def test_a_newly_mapped_account_is_opened_before_it_is_used(tmp_path: Path) -> None:
    from syncstate.adapters.backends.beancount.backend import BeancountBackend, LedgerAccounts

    backend(tmp_path).create("acme", invoice("acme", 1, "10.00"), idempotency_key="k-1")
    wider = BeancountBackend(
        tmp_path,
        accounts=LedgerAccounts(
            customers={"client-1": "Assets:Receivable:Client1", "new": "Assets:Receivable:New"},
            items={"consulting": "Income:Consulting", "hosting": "Income:Hosting"},
        ),
    )
    wider.create("acme", invoice("acme", 2, "20.00", party="new"), idempotency_key="k-2")
    assert balance(wider.ledger_path("acme"), "Assets:Receivable:New") == {"USD": Decimal("30.00")}


def test_derived_accounts_are_named_after_the_ids_and_opened_on_first_use(tmp_path: Path) -> None:
    from syncstate.adapters.backends.beancount.backend import BeancountBackend, LedgerAccounts

    books = BeancountBackend(tmp_path, accounts=LedgerAccounts(derive=True))
    doc = invoice("acme", 2, "10.00", party="acme corp/east")
    books.create("acme", doc, idempotency_key="k-1")
    path = books.ledger_path("acme")
    assert balance(path, "Assets:Receivable:Acme-corp-east") == {"USD": Decimal("20.00")}
    assert balance(path, "Income:Hosting") == {"USD": Decimal("-10.00")}
