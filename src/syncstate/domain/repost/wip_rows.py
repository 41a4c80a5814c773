"""The WIP repost over plain rows: the fast path of :func:`~syncstate.domain.repost.wip.repost_wip`.

Entries are tuples in column order (:data:`WipRow`), amounts integer cents,
quantities integer millionths, dates day ordinals: what a columnar ledger
holds. :func:`repost_wip_rows` applies the same five rules as
:func:`~syncstate.domain.repost.wip.repost_wip` (tested equal on random
ledgers) in one pass without building an object per entry, and
:class:`WipIndex` finds the entries an incremental repost must redo: a WIP
entry's restored values depend only on the entry and its invoice's date.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal

from syncstate.domain.repost.findings import Code
from syncstate.domain.repost.wip import BILLED, UNBILLED, WIP_TYPES, WipEntry

__all__ = [
    "WipBalanceRow",
    "WipIndex",
    "WipRow",
    "repost_wip_rows",
    "wip_row",
]

#: (id, type, client, work_code, quantity µ, amount ¢, billed ¢, invoice, billing_status, hide)
WipRow = tuple[
    str, str | None, str | None, str | None, int | None, int | None, int | None,
    str | None, str, bool,
]  # fmt: skip
#: (id, clear_flag, clear_day, write_updown ¢, write_day, billing_status, hide)
WipBalanceRow = tuple[str, bool, int | None, int | None, int | None, str, bool]

_CENT = Decimal(100)
_MICRO = Decimal(1_000_000)


def _scaled(value: Decimal | None, scale: Decimal) -> int | None:
    return None if value is None else int(value * scale)


def wip_row(entry: WipEntry) -> WipRow:
    """An entry as a row (amounts in cents, quantities in millionths)."""
    return (
        entry.id,
        entry.type,
        entry.client,
        entry.work_code,
        _scaled(entry.quantity, _MICRO),
        _scaled(entry.amount, _CENT),
        _scaled(entry.billed_amount, _CENT),
        entry.invoice,
        entry.billing_status,
        entry.hide,
    )


def _blank_text(value: str | None) -> bool:
    return value is None or not value.strip()


def repost_wip_rows(
    rows: Iterable[WipRow], invoices: Mapping[str, int], period_start: int
) -> tuple[list[WipBalanceRow], list[tuple[str, Code]], list[str]]:
    """Balances of kept entries, deletions ``(id, code)`` and orphan-billed ids.

    ``invoices`` maps invoice ids to billing day ordinals; ``period_start`` is a
    day ordinal.
    """
    kept: list[WipBalanceRow] = []
    deleted: list[tuple[str, Code]] = []
    orphans: list[str] = []
    keep, delete, orphan = kept.append, deleted.append, orphans.append
    get = invoices.get
    for doc_id, kind, client, work_code, qty, amount, billed, invoice, status, hide in rows:
        if kind is None or not kind.strip():
            delete((doc_id, Code.WIP_BLANK_TYPE))
            continue
        if (
            kind in WIP_TYPES
            and not amount
            and not qty
            and _blank_text(client)
            and _blank_text(work_code)
        ):
            delete((doc_id, Code.WIP_BLANK_ENTRY))
            continue
        if status == BILLED:
            day = None if invoice is None else get(invoice)
            if day is not None:
                keep(
                    (
                        doc_id,
                        day < period_start,
                        day,
                        (billed or 0) - (amount or 0),
                        day,
                        BILLED,
                        hide,
                    )
                )
                continue
            orphan(doc_id)
            keep((doc_id, False, None, None, None, UNBILLED, False))
            continue
        keep((doc_id, False, None, None, None, UNBILLED, hide))
    return kept, deleted, orphans


class WipIndex:
    """Which entries an invoice's change moves, for incremental WIP reposts."""

    def __init__(self, rows: Iterable[WipRow] = ()) -> None:
        self._rows: dict[str, WipRow] = {}
        self._by_invoice: dict[str, set[str]] = {}
        self.apply(rows, ())

    def apply(self, upserts: Iterable[WipRow], deletes: Iterable[str]) -> None:
        """Replace and delete entries."""
        rows, by_invoice = self._rows, self._by_invoice
        for doc_id in deletes:
            old = rows.pop(doc_id, None)
            if old is not None and old[7] is not None:
                by_invoice[old[7]].discard(doc_id)
        for row in upserts:
            doc_id, invoice = row[0], row[7]
            old = rows.get(doc_id)
            if old is not None and old[7] is not None and old[7] != invoice:
                by_invoice[old[7]].discard(doc_id)
            rows[doc_id] = row
            if invoice is not None:
                bucket = by_invoice.get(invoice)
                if bucket is None:
                    by_invoice[invoice] = {doc_id}
                else:
                    bucket.add(doc_id)

    def rows(self, ids: Iterable[str]) -> list[WipRow]:
        """The rows of these ids (unknown ids skipped)."""
        got = self._rows
        return [got[i] for i in ids if i in got]

    def all_rows(self) -> list[WipRow]:
        """Every row."""
        return list(self._rows.values())

    def affected(self, changed: Iterable[str], invoices: Iterable[str]) -> set[str]:
        """The changed entries and every entry billed on a changed invoice."""
        out = set(changed)
        for invoice in invoices:
            out |= self._by_invoice.get(invoice, set())
        return out
