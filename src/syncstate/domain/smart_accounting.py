"""Smart accounting: the default bundling policy, and the check every policy passes.

The rules, decided per transaction (one client, one currency at a time):

1. **Paid at the time of use.** The usage of one day is paid at use when
   payments recorded the same day cover it. The day's usage and the same-day
   payments needed to cover it (taken in id order) become one **sales
   receipt**. An overpayment stays on the receipt as unapplied credit.
2. **On account.** Usage that is not paid at use becomes an **invoice**: one
   per client, currency and day (``invoice_period="day"``, the default) or
   month (``"month"``).
3. **Later payments.** Every other payment becomes a **payment** bundle of its
   own, applied to the client's open invoices (existing ones and those made in
   this run) **oldest first**; whatever no invoice needs stays unapplied.

:func:`plan_bundles` runs a policy for each client and checks its answer: no
transaction in two bundles, none that was not open, and payments applied only
to open invoices of the same client and currency, never beyond their balance.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Literal

import attrs

from syncstate.domain.bundling import (
    Application,
    Bundle,
    BundleKind,
    BundlingPolicy,
    OpenInvoice,
    make_bundle,
)
from syncstate.domain.records import RecordKey
from syncstate.domain.transactions import Payment, UsageLog
from syncstate.errors import InputError
from syncstate.money import ZERO, quantize

__all__ = ["SmartAccounting", "plan_bundles"]


def _period(day: dt.date, period: str) -> dt.date:
    return day.replace(day=1) if period == "month" else day


@attrs.frozen(kw_only=True)
class SmartAccounting:
    """The default :class:`~syncstate.domain.bundling.BundlingPolicy` (see module doc)."""

    invoice_period: Literal["day", "month"] = "day"
    name: str = "smart-accounting"

    def bundle(
        self,
        company: str,
        client: str,
        usage: Sequence[UsageLog],
        payments: Sequence[Payment],
        invoices: Sequence[OpenInvoice],
    ) -> list[Bundle]:
        """Sales receipts, invoices and applied payments for one client."""
        out: list[Bundle] = []
        for currency in sorted({u.currency for u in usage} | {p.currency for p in payments}):
            out += self._one_currency(
                company,
                [u for u in usage if u.currency == currency],
                [p for p in payments if p.currency == currency],
                [i for i in invoices if i.currency == currency],
            )
        return out

    def _one_currency(
        self,
        company: str,
        usage: Sequence[UsageLog],
        payments: Sequence[Payment],
        invoices: Sequence[OpenInvoice],
    ) -> list[Bundle]:
        by_day: dict[dt.date, list[UsageLog]] = {}
        for log in sorted(usage, key=lambda u: (u.date, u.source_id)):
            by_day.setdefault(log.date, []).append(log)
        paid_on: dict[dt.date, list[Payment]] = {}
        for payment in sorted(payments, key=lambda p: (p.date, p.source_id)):
            paid_on.setdefault(payment.date, []).append(payment)

        receipts: list[Bundle] = []
        on_account: dict[dt.date, list[UsageLog]] = {}
        used: set[str] = set()
        for day, logs in sorted(by_day.items()):
            due = sum((log.total.amount for log in logs), ZERO)
            taken: list[Payment] = []
            covered = ZERO
            for payment in paid_on.get(day, []):
                if covered >= due:
                    break
                taken.append(payment)
                covered += payment.amount
            if due > 0 and covered >= due:
                receipts.append(
                    make_bundle(company, BundleKind.SALES_RECEIPT, usage=logs, payments=taken)
                )
                used.update(p.source_id for p in taken)
            else:
                on_account.setdefault(_period(day, self.invoice_period), []).extend(logs)

        new_invoices = [
            make_bundle(company, BundleKind.INVOICE, usage=logs)
            for _, logs in sorted(on_account.items())
        ]
        balances = [(i.date, i.bundle_id, i.balance) for i in invoices]
        balances += [(b.date, b.bundle_id, b.total) for b in new_invoices]
        oldest_first = [bid for _, bid, bal in sorted(balances) if bal > 0]
        remaining: dict[str, Decimal] = {bid: bal for _, bid, bal in balances}

        payment_bundles: list[Bundle] = []
        for payment in sorted(payments, key=lambda p: (p.date, p.source_id)):
            if payment.source_id in used:
                continue
            left = payment.amount
            applied: list[Application] = []
            for invoice in oldest_first:
                if left <= 0:
                    break
                amount = min(remaining[invoice], left)
                if amount <= 0:
                    continue
                applied.append(Application(invoice, quantize(amount)))
                remaining[invoice] -= amount
                left -= amount
            payment_bundles.append(
                make_bundle(company, BundleKind.PAYMENT, payments=[payment], applied=applied)
            )
        return [*receipts, *new_invoices, *payment_bundles]


def _check(
    policy: BundlingPolicy,
    client: str,
    bundles: Sequence[Bundle],
    open_keys: set[RecordKey],
    invoices: Sequence[OpenInvoice],
) -> None:
    def refuse(detail: str) -> InputError:
        return InputError(f"bundling policy {policy.name!r}, client {client!r}: {detail}")

    seen: set[RecordKey] = set()
    balances = {i.bundle_id: (i.currency, i.balance) for i in invoices}
    balances.update(
        {b.bundle_id: (b.currency, b.total) for b in bundles if b.kind is BundleKind.INVOICE}
    )
    for bundle in bundles:
        if bundle.client != client:
            raise refuse(f"bundle {bundle.bundle_id} belongs to client {bundle.client!r}")
        for key in bundle.members:
            if key in seen:
                raise refuse(f"record {key} is in two bundles")
            if key not in open_keys:
                raise refuse(f"record {key} is not an open transaction of this client")
            seen.add(key)
        for application in bundle.applied:
            currency, balance = balances.get(application.invoice, ("", ZERO))
            if currency != bundle.currency or application.amount > balance:
                raise refuse(
                    f"payment bundle {bundle.bundle_id} applies {application.amount} to "
                    f"{application.invoice}, which is not open for that much in {bundle.currency}"
                )
            balances[application.invoice] = (currency, balance - application.amount)


def plan_bundles(
    company: str,
    usage: Iterable[UsageLog],
    payments: Iterable[Payment],
    policy: BundlingPolicy,
    *,
    invoices: Mapping[str, Sequence[OpenInvoice]] | None = None,
) -> list[Bundle]:
    """Bundle every client's open transactions with ``policy``; check the result.

    ``invoices`` maps a client to its existing open invoices. Returns the new
    bundles ordered by client, date and id. Pure and deterministic.
    """
    by_client: dict[str, tuple[list[UsageLog], list[Payment]]] = {}
    for log in usage:
        by_client.setdefault(log.client, ([], []))[0].append(log)
    for payment in payments:
        by_client.setdefault(payment.client, ([], []))[1].append(payment)
    out: list[Bundle] = []
    for client, (logs, pays) in sorted(by_client.items()):
        logs.sort(key=lambda u: (u.date, u.source_id))
        pays.sort(key=lambda p: (p.date, p.source_id))
        existing = list((invoices or {}).get(client, ()))
        bundles = policy.bundle(company, client, logs, pays, existing)
        open_keys = {RecordKey(company, u.KIND, u.source_id) for u in logs}
        open_keys |= {RecordKey(company, p.KIND, p.source_id) for p in pays}
        _check(policy, client, bundles, open_keys, existing)
        out += bundles
    return sorted(out, key=lambda b: (b.client, b.date, b.bundle_id))
