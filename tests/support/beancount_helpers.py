"""Shared pieces of the Beancount integration tests: documents and Beancount's own loader."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

from syncstate.adapters.backends.beancount.backend import BeancountBackend, LedgerAccounts
from syncstate.domain.records import RecordKey
from syncstate.ports import Document, DocumentLine

ACCOUNTS = LedgerAccounts(
    customers={
        "client-1": "Assets:Receivable:Client1",
        "client-2": "Assets:Receivable:Client2",
        "client-3": "Assets:Receivable:Client3",
    },
    items={"consulting": "Income:Consulting", "hosting": "Income:Hosting"},
    employees={"emp-1": "Expenses:Labour:Emp1"},
    cost_rates={"emp-1": "42.50"},
)


def backend(directory: Path) -> BeancountBackend:
    """A Beancount back end over ``directory`` with the test mappings."""
    return BeancountBackend(directory, accounts=ACCOUNTS)


def invoice(
    company: str, n: int, amount: str, *, party: str = "client-1", day: int = 1
) -> Document:
    """An invoice of one consulting line and, when ``n`` is even, a hosting line."""
    lines = [DocumentLine(item="consulting", quantity=Decimal(1), unit_price=Decimal(amount))]
    if n % 2 == 0:
        lines.append(DocumentLine(item="hosting", amount=Decimal("10.00")))
    return Document(
        kind="invoice",
        source=RecordKey(company, "invoice", f"i{n}"),
        date=dt.date(2026, 3, day),
        party=party,
        lines=tuple(lines),
        doc_number=f"INV-{n}",
    )


def payment(
    company: str, n: int, amount: str, *, party: str = "client-1", applies_to: str = ""
) -> Document:
    """A payment of ``amount`` from ``party``."""
    return Document(
        kind="payment",
        source=RecordKey(company, "payment", f"p{n}"),
        date=dt.date(2026, 3, 20),
        party=party,
        fields={"amount": amount, "applies_to": applies_to},
    )


def load(path: Path) -> tuple[list[Any], list[Any]]:
    """Beancount's entries and errors for the ledger at ``path``."""
    from beancount import loader

    entries, errors, _options = loader.load_file(str(path))
    return entries, errors


def transactions(path: Path) -> list[Any]:
    """The ledger's transactions, after asserting Beancount finds no errors."""
    from beancount.core import data

    entries, errors = load(path)
    assert errors == [], [e.message for e in errors]
    return [e for e in entries if isinstance(e, data.Transaction)]


def balance(path: Path, account: str) -> dict[str, Decimal]:
    """Beancount's balance of ``account`` and its sub-accounts, per currency."""
    from beancount.core import realization

    entries, errors = load(path)
    assert errors == [], [e.message for e in errors]
    node = realization.get(realization.realize(entries), account)
    if node is None:
        return {}
    total = realization.compute_balance(node)
    return {pos.units.currency: pos.units.number for pos in total}
