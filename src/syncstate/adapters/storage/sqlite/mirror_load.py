"""The load path of the SQLite mirror: staging a generation, swapping it in, dropping one.

A load writes a fiscal year as a new generation (``mirror_generations``, status
``staged``) beside the live one, vouchers in chunks of :data:`STAGE_CHUNK` per
transaction; :func:`swap_generations` points ``mirror_years`` at the staged
generations in the caller's one transaction and marks the old ones ``retired``;
:func:`drop_generation` deletes a retired or abandoned generation's rows. Every
function runs inside the caller's write transaction.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterable, Mapping, Sequence

from syncstate.adapters.storage.sqlite.mirror_schema import GENERATION_TABLES, objects_to_json
from syncstate.domain.mirror import (
    MirrorAccount,
    MirrorBalance,
    MirrorPeriodBalance,
    MirrorVoucher,
    MirrorYear,
)
from syncstate.errors import StorageError
from syncstate.periods import FiscalYear

__all__ = [
    "STAGE_CHUNK",
    "drop_generation",
    "droppable",
    "insert_balances",
    "insert_generation",
    "insert_period_balances",
    "insert_vouchers",
    "swap_generations",
    "unfinished_generations",
]

STAGE_CHUNK = 2000  # vouchers per staging transaction


def insert_generation(
    conn: sqlite3.Connection, company: str, year: MirrorYear, *, source: str, at: dt.datetime
) -> int:
    """Start a staged generation of ``year`` with its balances; return its id (its
    vouchers follow, :func:`insert_vouchers`)."""
    cursor = conn.execute(
        "INSERT INTO mirror_generations (company, year_start, year_end, status, source,"
        " created_at) VALUES (?, ?, ?, 'staged', ?, ?)",
        (
            company,
            year.year.start.isoformat(),
            year.year.end.isoformat(),
            source,
            at.isoformat(),
        ),
    )
    generation = int(cursor.lastrowid or 0)
    insert_balances(conn, generation, year.balances)
    insert_period_balances(conn, generation, year.period_balances)
    return generation


def insert_balances(
    conn: sqlite3.Connection, generation: int, balances: Iterable[MirrorBalance]
) -> None:
    """Add opening and closing balances to ``generation``."""
    conn.executemany(
        "INSERT INTO mirror_balances VALUES (?, ?, ?, ?, ?)",
        [
            (generation, b.kind, b.account, objects_to_json(b.objects), str(b.amount))
            for b in balances
        ],
    )


def insert_period_balances(
    conn: sqlite3.Connection, generation: int, balances: Iterable[MirrorPeriodBalance]
) -> None:
    """Add period balances (and budgets) to ``generation``."""
    conn.executemany(
        "INSERT INTO mirror_period_balances VALUES (?, ?, ?, ?, ?, ?)",
        [
            (
                generation,
                str(p.period),
                p.account,
                objects_to_json(p.objects),
                str(p.amount),
                int(p.budget),
            )
            for p in balances
        ],
    )


def insert_vouchers(
    conn: sqlite3.Connection,
    generation: int,
    vouchers: Sequence[MirrorVoucher],
    *,
    first_seq: int,
) -> None:
    """Add ``vouchers`` and their transactions to ``generation``, numbered in order from
    ``first_seq`` (a voucher's place in the year)."""
    conn.executemany(
        "INSERT INTO mirror_vouchers VALUES (?, ?, ?, ?, ?, ?)",
        [
            (generation, first_seq + i, v.series, v.number, v.date.isoformat(), v.text)
            for i, v in enumerate(vouchers)
        ],
    )
    conn.executemany(
        "INSERT INTO mirror_transactions VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                generation,
                first_seq + i,
                line,
                t.account,
                str(t.amount),
                objects_to_json(t.objects),
                t.date.isoformat() if t.date else None,
                t.text,
            )
            for i, v in enumerate(vouchers)
            for line, t in enumerate(v.transactions)
        ],
    )


def swap_generations(
    conn: sqlite3.Connection,
    company: str,
    staged: Mapping[FiscalYear, int],
    accounts: Sequence[MirrorAccount],
    *,
    at: dt.datetime,
) -> list[int]:
    """Point every year of ``staged`` at its staged generation (now ``live``) and store
    ``accounts``; return the generations they replaced (now ``retired``, to be dropped).

    Raises :class:`~syncstate.errors.StorageError` for a generation that is not a
    staged load of ``company``.
    """
    retired: list[int] = []
    for year, generation in staged.items():
        row = conn.execute(
            "SELECT company, status, source FROM mirror_generations WHERE id = ?",
            (generation,),
        ).fetchone()
        if row is None or row[0] != company or row[1] != "staged":
            raise StorageError(f"generation {generation} is not a staged load of company {company}")
        old = conn.execute(
            "SELECT generation FROM mirror_years WHERE company = ? AND year_start = ?",
            (company, year.start.isoformat()),
        ).fetchone()
        if old is not None:
            retired.append(int(old[0]))
        conn.execute(
            "INSERT INTO mirror_years VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (company, year_start) DO UPDATE SET year_end = excluded.year_end,"
            " generation = excluded.generation, loaded_at = excluded.loaded_at,"
            " source = excluded.source",
            (
                company,
                year.start.isoformat(),
                year.end.isoformat(),
                generation,
                at.isoformat(),
                row[2],
            ),
        )
        conn.execute("UPDATE mirror_generations SET status = 'live' WHERE id = ?", (generation,))
    conn.executemany(
        "INSERT INTO mirror_accounts VALUES (?, ?, ?, ?) ON CONFLICT (company, number)"
        " DO UPDATE SET name = excluded.name, type = excluded.type",
        [(company, a.number, a.name, a.type) for a in accounts],
    )
    for generation in retired:
        conn.execute("UPDATE mirror_generations SET status = 'retired' WHERE id = ?", (generation,))
    return retired


def droppable(conn: sqlite3.Connection, company: str, generation: int) -> bool:
    """Whether ``generation`` is a load of ``company`` that is not live (one to discard)."""
    row = conn.execute(
        "SELECT company, status FROM mirror_generations WHERE id = ?", (generation,)
    ).fetchone()
    return not (row is None or row[0] != company or row[1] == "live")


def unfinished_generations(conn: sqlite3.Connection, company: str) -> list[int]:
    """The generations of ``company`` that are not live (staged by a load that never
    swapped them in, or retired and not yet dropped)."""
    rows = conn.execute(
        "SELECT id FROM mirror_generations WHERE company = ? AND status != 'live'",
        (company,),
    ).fetchall()
    return [int(generation) for (generation,) in rows]


def drop_generation(conn: sqlite3.Connection, generation: int) -> None:
    """Delete ``generation`` and all its rows."""
    for table in GENERATION_TABLES:
        conn.execute(f"DELETE FROM {table} WHERE generation = ?", (generation,))
    conn.execute("DELETE FROM mirror_generations WHERE id = ?", (generation,))
