"""How a payment moves the balance of the invoices it is applied to, as QuickBooks does.

A ``Payment`` line that links an invoice (``LinkedTxn`` with ``TxnType`` ``Invoice``)
lowers that invoice's ``Balance`` by the line's ``Amount``; voiding or deleting the
payment, or changing its lines, gives the amounts back first. A balance never goes
below zero here (an amount beyond it stays unapplied credit on the payment).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

__all__ = ["apply_payment"]


def apply_payment(
    invoices: Mapping[str, dict[str, Any]], payment: Mapping[str, Any], sign: int
) -> None:
    """Apply (``sign=-1``) or take back (``sign=+1``) ``payment``'s lines on ``invoices``."""
    for line in payment.get("Line") or []:
        amount = Decimal(str(line.get("Amount") or 0))
        for link in line.get("LinkedTxn") or []:
            if link.get("TxnType", "Invoice") != "Invoice":
                continue
            invoice = invoices.get(str(link.get("TxnId")))
            if invoice is None:
                continue
            total = Decimal(str(invoice.get("TotalAmt") or 0))
            balance = Decimal(str(invoice.get("Balance", total))) + sign * amount
            invoice["Balance"] = min(max(balance, Decimal(0)), total)
