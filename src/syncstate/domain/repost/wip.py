"""WIP repost: delete blank work-in-progress records, restore clear flags and
dates, recalculate write up / down, and clear billing data from billed items
whose invoice is gone.

Rules, applied to each entry in order:

1. a blank type → delete (:attr:`Code.WIP_BLANK_TYPE`);
2. a time or expense entry whose work code, client, amount and quantity are
   all blank (missing or zero) → delete (:attr:`Code.WIP_BLANK_ENTRY`);
3. billed on an invoice that exists → clear date = the invoice (billing) date,
   clear flag = billed before the current period, write up / down = billed
   value − WIP value, dated on the billing date;
4. billed with no invoice → write up / down amount and date, billing status
   and the hide flag are cleared (:attr:`Code.WIP_ORPHAN_BILLED` reports it);
5. not billed → not cleared, no write up / down.

Deletions are returned in :attr:`WipResult.deletions`; nothing disappears silently.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

import attrs

from syncstate.domain.repost.findings import Code, Finding, Scope
from syncstate.notebook import Tabular

__all__ = [
    "BILLED",
    "UNBILLED",
    "WIP_TYPES",
    "WipBalance",
    "WipDeletion",
    "WipEntry",
    "WipResult",
    "repost_wip",
    "wip_balance",
]

BILLED = "billed"
UNBILLED = "unbilled"
#: entry types the time and expense rules apply to
WIP_TYPES = frozenset({"time", "expense"})


def _blank(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    return isinstance(value, Decimal) and value == 0


@attrs.frozen(kw_only=True)
class WipEntry:
    """A work-in-progress record: a time or expense entry, billed or not.

    ``quantity`` is hours for time entries; ``amount`` is the WIP value and
    ``billed_amount`` what the invoice charged for it. ``write_updown``,
    ``write_date``, ``hide``, ``clear_flag`` and ``clear_date`` are the stored
    derived values a diagnostic compares with the recomputed ones.
    """

    id: str
    type: str | None
    client: str | None
    date: dt.date
    work_code: str | None = None
    staff: str | None = None
    project: str | None = None
    subproject: str | None = None
    quantity: Decimal | None = None
    amount: Decimal | None = None
    billed_amount: Decimal | None = None
    invoice: str | None = None
    billing_status: str = UNBILLED
    hide: bool = False
    write_updown: Decimal | None = None
    write_date: dt.date | None = None
    clear_flag: bool = False
    clear_date: dt.date | None = None


@attrs.frozen(kw_only=True)
class WipBalance:
    """The restored derived values of one kept WIP entry."""

    id: str
    client: str | None
    invoice: str | None
    clear_flag: bool
    clear_date: dt.date | None
    write_updown: Decimal | None
    write_date: dt.date | None
    billing_status: str
    hide: bool


@attrs.frozen
class WipDeletion:
    """A WIP entry the repost deletes, and why."""

    id: str
    code: Code
    reason: str


@attrs.frozen
class WipResult(Tabular):
    """Kept entries' balances, the deletions, and findings."""

    balances: tuple[WipBalance, ...]
    deletions: tuple[WipDeletion, ...]
    findings: tuple[Finding, ...]

    def to_records(self) -> list[dict[str, Any]]:
        """One plain row per entry: ``action`` is ``keep`` (restored values) or ``delete``."""
        kept: list[dict[str, Any]] = [
            {"entry": b.id, "action": "keep", "reason": None, **attrs.asdict(b, filter=_not_id)}
            for b in self.balances
        ]
        deleted = [
            {"entry": d.id, "action": "delete", "reason": f"{d.code.value}: {d.reason}"}
            for d in self.deletions
        ]
        return kept + deleted

    def _html_caption(self) -> str:
        return (
            f"WIP repost: {len(self.balances)} entries kept, {len(self.deletions)} deleted, "
            f"{len(self.findings)} findings"
        )


def _not_id(attribute: attrs.Attribute[Any], _value: object) -> bool:
    return attribute.name != "id"


def _deletion(entry: WipEntry) -> WipDeletion | None:
    if _blank(entry.type):
        return WipDeletion(entry.id, Code.WIP_BLANK_TYPE, "blank type")
    if entry.type in WIP_TYPES and all(
        _blank(v) for v in (entry.work_code, entry.client, entry.amount, entry.quantity)
    ):
        return WipDeletion(
            entry.id, Code.WIP_BLANK_ENTRY, "blank work code, client, amount and quantity"
        )
    return None


def wip_balance(
    entry: WipEntry, invoices: Mapping[str, dt.date], period_start: dt.date
) -> tuple[WipBalance, Finding | None]:
    """The restored values of one entry (rules 3-5) and a finding for rule 4."""
    billed_on = invoices.get(entry.invoice) if entry.invoice is not None else None
    if entry.billing_status == BILLED and billed_on is not None:
        write = (entry.billed_amount or Decimal(0)) - (entry.amount or Decimal(0))
        balance = WipBalance(
            id=entry.id,
            client=entry.client,
            invoice=entry.invoice,
            clear_flag=billed_on < period_start,
            clear_date=billed_on,
            write_updown=write,
            write_date=billed_on,
            billing_status=BILLED,
            hide=entry.hide,
        )
        return balance, None
    finding = None
    hide = entry.hide
    if entry.billing_status == BILLED:
        hide = False
        what = "no invoice" if entry.invoice is None else f"missing invoice {entry.invoice}"
        finding = Finding(
            code=Code.WIP_ORPHAN_BILLED,
            scope=Scope(client=entry.client, document=entry.id, invoice=entry.invoice),
            message=f"WIP {entry.id} is billed on {what}; billing data cleared",
        )
    balance = WipBalance(
        id=entry.id,
        client=entry.client,
        invoice=entry.invoice,
        clear_flag=False,
        clear_date=None,
        write_updown=None,
        write_date=None,
        billing_status=UNBILLED,
        hide=hide,
    )
    return balance, finding


def repost_wip(
    entries: Iterable[WipEntry], invoices: Mapping[str, dt.date], *, period_start: dt.date
) -> WipResult:
    """Restore every entry; ``invoices`` maps invoice ids to their billing dates."""
    balances: list[WipBalance] = []
    deletions: list[WipDeletion] = []
    findings: list[Finding] = []
    for entry in entries:
        deletion = _deletion(entry)
        if deletion is not None:
            deletions.append(deletion)
            continue
        balance, finding = wip_balance(entry, invoices, period_start)
        balances.append(balance)
        if finding is not None:
            findings.append(finding)
    return WipResult(tuple(balances), tuple(deletions), tuple(findings))
