"""Reading the PostgreSQL mirror: a live year's generation back into domain objects.

Every function runs inside the caller's read transaction (``REPEATABLE READ``,
read only), so a reader sees one generation of a year whole, never half of a
swap, and is never blocked by a load, a swap or a drop running meanwhile.
"""

from __future__ import annotations

import datetime as dt

from syncstate.adapters.storage.postgres.connections import Connection
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

__all__ = ["live_generation", "live_years", "read_balances", "read_generation"]


def live_generation(conn: Connection, company: str, year: FiscalYear) -> int | None:
    """The live generation of ``company``'s fiscal ``year`` (``None``: not loaded, or
    loaded as a year with another end)."""
    row = conn.execute(
        "SELECT generation, year_end FROM mirror_years WHERE company = %s AND year_start = %s",
        (company, year.start),
    ).fetchone()
    if row is None or row[1] != year.end:
        return None
    return int(row[0])


def read_balances(
    conn: Connection, generation: int
) -> tuple[tuple[MirrorBalance, ...], tuple[MirrorPeriodBalance, ...]]:
    """The balances and period balances of ``generation``, in the order loaded."""
    balances = tuple(
        MirrorBalance(kind=kind, account=account, amount=amount, objects=objects_from_json(objs))
        for kind, account, objs, amount in conn.execute(
            "SELECT kind, account, objects, amount FROM mirror_balances"
            " WHERE generation = %s ORDER BY ord",
            (generation,),
        )
    )
    periods = tuple(
        MirrorPeriodBalance(
            period=Period(int(period[:4]), int(period[5:7])),
            account=account,
            amount=amount,
            objects=objects_from_json(objs),
            budget=budget,
        )
        for period, account, objs, amount, budget in conn.execute(
            "SELECT period, account, objects, amount, budget FROM mirror_period_balances"
            " WHERE generation = %s ORDER BY ord",
            (generation,),
        )
    )
    return balances, periods


def read_generation(conn: Connection, year: FiscalYear, generation: int) -> MirrorYear:
    """The rows of ``generation`` (a load of ``year``), in the order they were loaded."""
    balances, periods = read_balances(conn, generation)
    lines: dict[int, list[MirrorTransaction]] = {}
    for seq, account, amount, objs, date, text in conn.execute(
        "SELECT voucher_seq, account, amount, objects, date, text FROM mirror_transactions"
        " WHERE generation = %s ORDER BY voucher_seq, line",
        (generation,),
    ):
        lines.setdefault(seq, []).append(
            MirrorTransaction(
                account=account,
                amount=amount,
                objects=objects_from_json(objs),
                date=date,
                text=text,
            )
        )
    vouchers = tuple(
        MirrorVoucher(
            series=series,
            number=number,
            date=date,
            text=text,
            transactions=tuple(lines.get(seq, ())),
        )
        for seq, series, number, date, text in conn.execute(
            "SELECT seq, series, number, date, text FROM mirror_vouchers"
            " WHERE generation = %s ORDER BY seq",
            (generation,),
        )
    )
    return MirrorYear(year=year, balances=balances, period_balances=periods, vouchers=vouchers)


def live_years(conn: Connection, company: str) -> list[LoadedYear]:
    """The live fiscal years of ``company`` with their counts, oldest first."""
    rows = conn.execute(
        "SELECT y.year_start, y.year_end, y.generation, y.loaded_at, y.source, g.vouchers,"
        " g.transactions FROM mirror_years AS y JOIN mirror_generations AS g"
        " ON g.id = y.generation WHERE y.company = %s ORDER BY y.year_start",
        (company,),
    ).fetchall()
    return [
        LoadedYear(
            year=FiscalYear(start, end),
            generation=int(generation),
            loaded_at=loaded_at.astimezone(dt.UTC),
            source=source,
            vouchers=int(vouchers),
            transactions=int(transactions),
        )
        for start, end, generation, loaded_at, source, vouchers, transactions in rows
    ]
