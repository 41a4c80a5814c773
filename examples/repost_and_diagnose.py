"""Repost receivables, then diagnose drift and repair it with a drill-down.

A practice-management host keeps invoices, cash receipts and credit notes,
and stores derived balances (outstanding amount, clear date and flag,
payment type, GL amounts) beside them. syncstate recomputes those balances
from the transactions: a dry-run plan first, applied second. Later the host
writes a credit note without reposting; ``diagnose_ledger`` finds every stale
balance by stable error code, and a drill-down reposts only the affected
invoice or client.

Run it: ``python examples/repost_and_diagnose.py`` (well under a second).
"""

from __future__ import annotations

import datetime as dt
import tempfile
from decimal import Decimal
from pathlib import Path

from syncstate import (
    Allocation,
    DocKind,
    ReceivableDocument,
    SQLiteLedgerStore,
    apply_plan,
    diagnose_ledger,
    drill_down,
    import_receivables,
    plan_receivables_repost,
)

COMPANY = "lee-and-partners"
PERIOD_START = dt.date(2026, 3, 1)


def doc(
    ident: str,
    kind: DocKind,
    client: str | None,
    day: str,
    amount: str,
    *,
    pays: tuple[tuple[str, str, str], ...] = (),
    deposit: str | None = None,
) -> ReceivableDocument:
    """A receivable document; ``pays`` lists ``(invoice, amount, day)`` allocations."""
    return ReceivableDocument(
        id=ident,
        kind=kind,
        client=client,
        date=dt.date.fromisoformat(day),
        amount=Decimal(amount),
        allocations=tuple(
            Allocation(to=to, amount=Decimal(value), date=dt.date.fromisoformat(on))
            for to, value, on in pays
        ),
        deposit=deposit,
    )


LEDGER = [
    doc("INV-1", DocKind.INVOICE, "ACME", "2026-01-10", "1000.00"),
    doc("INV-2", DocKind.INVOICE, "ACME", "2026-02-05", "500.00"),
    doc("INV-3", DocKind.INVOICE, "BETA", "2026-02-07", "80.00"),
    doc("DEP-1", DocKind.DEPOSIT, None, "2026-02-10", "600.00"),
    doc(
        "CR-1",
        DocKind.CASH_RECEIPT,
        "ACME",
        "2026-02-10",
        "600.00",
        deposit="DEP-1",
        pays=(("INV-1", "600.00", "2026-02-10"),),
    ),
]
LATE_CREDIT_NOTE = doc(
    "CN-1",
    DocKind.CREDIT_NOTE,
    "ACME",
    "2026-02-20",
    "-400.00",
    pays=(("INV-1", "400.00", "2026-02-20"),),
)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, SQLiteLedgerStore(Path(tmp) / "l.db") as store:
        import_receivables(store, COMPANY, LEDGER, period_start=PERIOD_START)
        plan = plan_receivables_repost(store, COMPANY)  # dry run: nothing written yet
        print(f"full repost plan: {len(plan.changes)} field changes on {len(plan.rows)} documents")
        print(f"applied: {apply_plan(store, plan)} balance rows written")
        print(f"diagnose after repost: {len(diagnose_ledger(store, COMPANY))} findings")

        # The host records a credit note against INV-1 but forgets to repost.
        import_receivables(store, COMPANY, [LATE_CREDIT_NOTE], period_start=PERIOD_START)
        findings = diagnose_ledger(store, COMPANY)
        print(f"diagnose after the host's change: {len(findings)} findings")
        for finding in findings:
            print(f"  {finding}")

        worst = next(f for f in findings if f.scope.document == "INV-1")
        repair = drill_down(store, COMPANY, worst)
        print(f"drill-down on {worst.code.value} reposts {repair.scope}:")
        for change in repair.changes:
            print(f"  {change.document} {change.field}: {change.before} -> {change.after}")
        apply_plan(store, repair)
        rest = diagnose_ledger(store, COMPANY)
        print(f"left after the drill-down: {[str(f.code.value) for f in rest]}")
        for finding in rest:
            apply_plan(store, drill_down(store, COMPANY, finding))
        print(f"after repairing those too: {len(diagnose_ledger(store, COMPANY))} findings")


if __name__ == "__main__":
    main()
