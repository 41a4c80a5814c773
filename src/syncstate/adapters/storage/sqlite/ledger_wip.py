"""WIP entries of the SQLite repost ledger, stored as columns.

A :class:`~syncstate.domain.repost.wip.WipEntry` is one ``wip_items`` row:
dates as day ordinals, amounts and quantities as exact decimal text, flags as
0/1. :class:`WipTables` is the part of
:class:`~syncstate.adapters.storage.sqlite.ledger.SQLiteLedgerStore` that
reads and writes them; selections by client, invoice and id use indexes.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any

from syncstate.adapters.storage.sqlite.ledger_schema import chunks
from syncstate.domain.repost.wip import WipEntry

__all__ = ["WIP_COLUMNS", "WipTables", "wip_from_row", "wip_to_row"]

#: the columns of ``wip_items`` after ``company``, in row order
WIP_COLUMNS = (
    "id, type, client, day, work_code, staff, project, subproject, quantity, amount,"
    " billed_amount, invoice, billing_status, hide, write_updown, write_day, clear_flag,"
    " clear_day"
)


def _dec(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _day(value: dt.date | None) -> int | None:
    return None if value is None else value.toordinal()


def _num(value: object) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _date(value: object) -> dt.date | None:
    return None if value is None else dt.date.fromordinal(int(str(value)))


def _by_id(entry: WipEntry) -> str:
    return entry.id


def wip_to_row(entry: WipEntry) -> tuple[Any, ...]:
    """One entry as the ``wip_items`` columns (without the company)."""
    e = entry
    return (
        e.id,
        e.type,
        e.client,
        e.date.toordinal(),
        e.work_code,
        e.staff,
        e.project,
        e.subproject,
        _dec(e.quantity),
        _dec(e.amount),
        _dec(e.billed_amount),
        e.invoice,
        e.billing_status,
        int(e.hide),
        _dec(e.write_updown),
        _day(e.write_date),
        int(e.clear_flag),
        _day(e.clear_date),
    )


def wip_from_row(r: Sequence[Any]) -> WipEntry:
    """The entry a ``wip_items`` row (in :data:`WIP_COLUMNS` order) holds."""
    return WipEntry(
        id=r[0],
        type=r[1],
        client=r[2],
        date=dt.date.fromordinal(r[3]),
        work_code=r[4],
        staff=r[5],
        project=r[6],
        subproject=r[7],
        quantity=_num(r[8]),
        amount=_num(r[9]),
        billed_amount=_num(r[10]),
        invoice=r[11],
        billing_status=r[12],
        hide=bool(r[13]),
        write_updown=_num(r[14]),
        write_date=_date(r[15]),
        clear_flag=bool(r[16]),
        clear_date=_date(r[17]),
    )


class WipTables:
    """WIP reads and writes over the store's connection (a mixin of the store)."""

    def writing(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        """One write transaction (the store's)."""
        raise NotImplementedError

    def reading(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        """A read on the store's connection."""
        raise NotImplementedError

    def set_setting(
        self, company: str, name: str, value: str, *, conn: sqlite3.Connection | None = None
    ) -> None:
        """Store one named setting (the store's)."""
        raise NotImplementedError

    def load_wip(
        self,
        company: str,
        entries: Iterable[WipEntry],
        invoices: Mapping[str, dt.date],
        *,
        period_start: dt.date | None = None,
    ) -> int:
        """Insert or replace entries and invoices (and set the period) in one transaction."""
        rows = [(company, *wip_to_row(e)) for e in entries]
        with self.writing() as conn:
            marks = ", ".join("?" * (len(rows[0]) if rows else 19))
            conn.executemany(
                f"INSERT OR REPLACE INTO wip_items (company, {WIP_COLUMNS}) VALUES ({marks})",
                rows,
            )
            conn.executemany(
                "INSERT OR REPLACE INTO wip_invoices (company, id, day) VALUES (?, ?, ?)",
                ((company, i, day.isoformat()) for i, day in invoices.items()),
            )
            if period_start is not None:
                self.set_setting(company, "wip_period_start", period_start.isoformat(), conn=conn)
        return len(rows)

    def _wip(self, where: str, params: Sequence[Any]) -> list[WipEntry]:
        # sorted here, not by ORDER BY id: that would make SQLite walk the primary
        # key instead of the client or invoice index
        sql = f"SELECT {WIP_COLUMNS} FROM wip_items WHERE company = ? AND {where}"
        with self.reading() as conn:
            return sorted((wip_from_row(r) for r in conn.execute(sql, params)), key=_by_id)

    def _wip_in(self, company: str, column: str, values: Collection[Any]) -> list[WipEntry]:
        out: list[WipEntry] = []
        for chunk in chunks(sorted(v for v in values if v is not None)):
            marks = ",".join("?" * len(chunk))
            out.extend(self._wip(f"{column} IN ({marks})", (company, *chunk)))
        if column == "client" and None in values:
            out.extend(self._wip("client IS NULL", (company,)))
        return sorted(out, key=lambda e: e.id)

    def wip_clients(self, company: str) -> list[str | None]:
        """Clients with WIP entries (``None`` first, for entries without one)."""
        with self.reading() as conn:
            rows = conn.execute(
                "SELECT DISTINCT client FROM wip_items WHERE company = ? ORDER BY client",
                (company,),
            ).fetchall()
        return [r[0] for r in rows]

    def wip_by_client(self, company: str, clients: Collection[str | None]) -> list[WipEntry]:
        """The entries of these clients, sorted by id."""
        return self._wip_in(company, "client", clients)

    def wip_by_invoice(self, company: str, invoice: str) -> list[WipEntry]:
        """The entries billed on one invoice, sorted by id."""
        return self._wip("invoice = ?", (company, invoice))

    def wip_by_id(self, company: str, ids: Collection[str]) -> list[WipEntry]:
        """The entries with these ids, sorted by id."""
        return self._wip_in(company, "id", ids)

    def wip_invoices(self, company: str, ids: Collection[str]) -> dict[str, dt.date]:
        """Billing dates of these invoices."""
        out: dict[str, dt.date] = {}
        with self.reading() as conn:
            for chunk in chunks(sorted(ids)):
                marks = ",".join("?" * len(chunk))
                for i, day in conn.execute(
                    f"SELECT id, day FROM wip_invoices WHERE company = ? AND id IN ({marks})",
                    (company, *chunk),
                ):
                    out[i] = dt.date.fromisoformat(day)
        return out

    def iter_wip(self, company: str, *, batch: int = 20_000) -> Iterator[list[WipEntry]]:
        """Every entry, in batches of whole clients."""
        group: list[str | None] = []
        size = 0
        with self.reading() as conn:
            counts = conn.execute(
                "SELECT client, COUNT(*) FROM wip_items WHERE company = ? GROUP BY client"
                " ORDER BY client",
                (company,),
            ).fetchall()
        for client, count in counts:
            group.append(client)
            size += count
            if size >= batch:
                yield self.wip_by_client(company, group)
                group, size = [], 0
        if group:
            yield self.wip_by_client(company, group)

    def write_wip(self, company: str, updates: Iterable[WipEntry], deletes: Collection[str]) -> int:
        """Replace ``updates`` and delete ``deletes`` in one transaction."""
        rows = [(company, *wip_to_row(e)) for e in updates]
        with self.writing() as conn:
            for chunk in chunks(sorted(deletes)):
                marks = ",".join("?" * len(chunk))
                conn.execute(
                    f"DELETE FROM wip_items WHERE company = ? AND id IN ({marks})",
                    (company, *chunk),
                )
            if rows:
                marks = ", ".join("?" * len(rows[0]))
                conn.executemany(
                    f"INSERT OR REPLACE INTO wip_items (company, {WIP_COLUMNS}) VALUES ({marks})",
                    rows,
                )
        return len(rows) + len(deletes)
