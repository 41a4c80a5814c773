"""Reading the SQLite mirror: a live year's generation back into domain objects.

Every function runs inside the caller's read transaction, so a reader sees one
generation of a year whole, never half of a swap.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from decimal import Decimal

from syncstate.adapters.storage.sqlite.mirror_schema import objects_from_json
from syncstate.domain.mirror import (
    LoadedYear,
    MirrorBalance,
    MirrorPeriodBalance,
    MirrorTransaction,
    MirrorVoucher,
    MirrorYear,
)
from syncstate.periods import FiscalYear, Period

__all__ = ["live_generation", "live_years", "read_generation"]


def live_generation(conn: sqlite3.Connection, company: str, year: FiscalYear) -> int | None:
    """The live generation of ``company``'s fiscal ``year`` (``None``: not loaded, or
    loaded as a year with another end)."""
    row = conn.execute(
        "SELECT generation, year_end FROM mirror_years WHERE company = ? AND year_start = ?",
        (company, year.start.isoformat()),
    ).fetchone()
    if row is None or row[1] != year.end.isoformat():
        return None
    return int(row[0])


def read_generation(conn: sqlite3.Connection, year: FiscalYear, generation: int) -> MirrorYear:
    """The rows of ``generation`` (a load of ``year``), in the order they were loaded."""
    balances = tuple(
        MirrorBalance(
            kind=kind, account=account, amount=Decimal(amount), objects=objects_from_json(objs)
        )
        for kind, account, objs, amount in conn.execute(
            "SELECT kind, account, objects, amount FROM mirror_balances"
            " WHERE generation = ? ORDER BY rowid",
            (generation,),
        )
    )
    periods = tuple(
        MirrorPeriodBalance(
            period=Period(int(period[:4]), int(period[5:7])),
            account=account,
            amount=Decimal(amount),
            objects=objects_from_json(objs),
            budget=bool(budget),
        )
        for period, account, objs, amount, budget in conn.execute(
            "SELECT period, account, objects, amount, budget FROM mirror_period_balances"
            " WHERE generation = ? ORDER BY rowid",
            (generation,),
        )
    )
    lines: dict[int, list[MirrorTransaction]] = {}
    for seq, account, amount, objs, date, text in conn.execute(
        "SELECT voucher_seq, account, amount, objects, date, text FROM"
        " mirror_transactions WHERE generation = ? ORDER BY voucher_seq, line",
        (generation,),
    ):
        lines.setdefault(seq, []).append(
            MirrorTransaction(
                account=account,
                amount=Decimal(amount),
                objects=objects_from_json(objs),
                date=dt.date.fromisoformat(date) if date else None,
                text=text,
            )
        )
    vouchers = tuple(
        MirrorVoucher(
            series=series,
            number=number,
            date=dt.date.fromisoformat(date),
            text=text,
            transactions=tuple(lines.get(seq, ())),
        )
        for seq, series, number, date, text in conn.execute(
            "SELECT seq, series, number, date, text FROM mirror_vouchers"
            " WHERE generation = ? ORDER BY seq",
            (generation,),
        )
    )
    return MirrorYear(year=year, balances=balances, period_balances=periods, vouchers=vouchers)


def live_years(conn: sqlite3.Connection, company: str) -> list[LoadedYear]:
    """The live fiscal years of ``company`` with their counts, oldest first."""
    rows = conn.execute(
        "SELECT y.year_start, y.year_end, y.generation, y.loaded_at, y.source,"
        " (SELECT COUNT(*) FROM mirror_vouchers v WHERE v.generation = y.generation),"
        " (SELECT COUNT(*) FROM mirror_transactions t WHERE t.generation = y.generation)"
        " FROM mirror_years y WHERE y.company = ? ORDER BY y.year_start",
        (company,),
    ).fetchall()
    return [
        LoadedYear(
            year=FiscalYear(dt.date.fromisoformat(start), dt.date.fromisoformat(end)),
            generation=int(generation),
            loaded_at=dt.datetime.fromisoformat(loaded_at),
            source=source,
            vouchers=int(vouchers),
            transactions=int(transactions),
        )
        for start, end, generation, loaded_at, source, vouchers, transactions in rows
    ]
