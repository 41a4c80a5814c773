"""The write paths of the PostgreSQL mirror: staging with ``COPY``, swapping, dropping.

:func:`stage_generation` writes a whole fiscal year as a new generation in the
caller's one transaction: balances, vouchers and transactions each through one
``COPY``. Nothing refers to the generation until :func:`swap_generations`
points ``mirror_years`` at it (row locks only: readers of the old year go on
reading their snapshot). :func:`drop_generation` deletes a retired or
abandoned generation's rows; :func:`patch_generation` applies drift in place.
Every function runs inside the caller's transaction, with ``search_path`` set
to the store's schema.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from psycopg.copy import QueuedLibpqWriter

from syncstate.adapters.storage.postgres.connections import Connection
from syncstate.adapters.storage.postgres.mirror_schema import GENERATION_TABLES
from syncstate.adapters.storage.sqlite.mirror_schema import objects_to_json
from syncstate.domain.mirror import (
    MirrorAccount,
    MirrorBalance,
    MirrorPeriodBalance,
    MirrorVoucher,
    MirrorYear,
    YearDrift,
)
from syncstate.errors import StorageError
from syncstate.periods import FiscalYear
from syncstate.ports import Progress

__all__ = [
    "PROGRESS_CHUNK",
    "abandoned_generations",
    "copy_text",
    "drop_generation",
    "patch_generation",
    "stage_generation",
    "swap_generations",
]

PROGRESS_CHUNK = 2000  # vouchers per progress step while copying

_TX_COPY = (
    "COPY mirror_transactions (generation, voucher_seq, line, account, amount, objects,"
    " date, text) FROM STDIN"
)
_VOUCHER_COPY = "COPY mirror_vouchers (generation, seq, series, number, date, text) FROM STDIN"


def _copy_balances(conn: Connection, generation: int, balances: Sequence[MirrorBalance]) -> None:
    with (
        conn.cursor() as cur,
        cur.copy(
            "COPY mirror_balances (generation, ord, kind, account, objects, amount) FROM STDIN"
        ) as copy,
    ):
        for i, b in enumerate(balances):
            copy.write_row(
                (generation, i, b.kind, b.account, objects_to_json(b.objects), str(b.amount))
            )


def _copy_periods(
    conn: Connection, generation: int, periods: Sequence[MirrorPeriodBalance]
) -> None:
    with (
        conn.cursor() as cur,
        cur.copy(
            "COPY mirror_period_balances (generation, ord, period, account, objects, amount,"
            " budget) FROM STDIN"
        ) as copy,
    ):
        for i, p in enumerate(periods):
            copy.write_row(
                (
                    generation,
                    i,
                    str(p.period),
                    p.account,
                    objects_to_json(p.objects),
                    str(p.amount),
                    p.budget,
                )
            )


def copy_text(value: str) -> str:
    """``value`` as a field of ``COPY ... FROM STDIN`` text format (backslash escapes)."""
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return (
            value.replace("\\", "\\\\")
            .replace("\t", "\\t")
            .replace("\n", "\\n")
            .replace("\r", "\\r")
        )
    return value


def _copy_vouchers(
    conn: Connection,
    generation: int,
    vouchers: Sequence[MirrorVoucher],
    *,
    first_seq: int,
    progress: Progress | None = None,
) -> None:
    # The transaction lines are written as COPY text built here, a chunk of vouchers
    # per write, not row by row through the driver: a million lines otherwise spend
    # more time in per-row calls than the server spends storing them. Accounts,
    # objects and dates repeat, so their text is made once.
    with conn.cursor() as cur:
        with cur.copy(_VOUCHER_COPY) as copy:
            copy.write(
                "".join(
                    f"{generation}\t{i}\t{copy_text(v.series)}\t{copy_text(v.number)}\t"
                    f"{v.date.isoformat()}\t{copy_text(v.text)}\n"
                    for i, v in enumerate(vouchers, first_seq)
                )
            )
        # a queued writer sends each chunk from a thread while the next one is built
        with cur.copy(_TX_COPY, writer=QueuedLibpqWriter(cur)) as copy:
            texts: dict[object, str] = {(): "[]", None: "\\N"}
            prefix = f"{generation}\t"
            lines: list[str] = []
            for seq, v in enumerate(vouchers, first_seq):
                for line, t in enumerate(v.transactions):
                    objects = texts.get(t.objects)
                    if objects is None:
                        objects = texts[t.objects] = copy_text(objects_to_json(t.objects))
                    account = texts.get(t.account)
                    if account is None:
                        account = texts[t.account] = copy_text(t.account)
                    day = texts.get(t.date)
                    if day is None:
                        assert t.date is not None  # None is in the table
                        day = texts[t.date] = t.date.isoformat()
                    lines.append(
                        f"{prefix}{seq}\t{line}\t{account}\t{t.amount!s}\t{objects}\t{day}\t"
                        f"{copy_text(t.text)}\n"
                    )
                if (seq - first_seq + 1) % PROGRESS_CHUNK == 0:
                    copy.write("".join(lines))
                    lines.clear()
                    if progress is not None:
                        progress.advance(PROGRESS_CHUNK, outcome="staged")
            copy.write("".join(lines))
    if progress is not None and len(vouchers) % PROGRESS_CHUNK:
        progress.advance(len(vouchers) % PROGRESS_CHUNK, outcome="staged")


def stage_generation(
    conn: Connection,
    company: str,
    year: MirrorYear,
    *,
    source: str,
    at: dt.datetime,
    progress: Progress | None = None,
) -> int:
    """Write ``year`` as a new staged generation of ``company``; return its id."""
    row = conn.execute(
        "INSERT INTO mirror_generations (company, year_start, year_end, status, source,"
        " created_at, vouchers, transactions) VALUES (%s, %s, %s, 'staged', %s, %s, %s, %s)"
        " RETURNING id",
        (
            company,
            year.year.start,
            year.year.end,
            source,
            at,
            len(year.vouchers),
            year.transaction_count,
        ),
    ).fetchone()
    assert row is not None  # RETURNING gives the row
    generation = int(row[0])
    _copy_balances(conn, generation, year.balances)
    _copy_periods(conn, generation, year.period_balances)
    _copy_vouchers(conn, generation, year.vouchers, first_seq=0, progress=progress)
    return generation


def swap_generations(
    conn: Connection,
    company: str,
    staged: Mapping[FiscalYear, int],
    accounts: Sequence[MirrorAccount],
    *,
    at: dt.datetime,
) -> list[int]:
    """Point every year of ``staged`` at its staged generation (now ``live``) and store
    ``accounts``; return the generations they replaced (now ``retired``, to be dropped).

    Raises :class:`~syncstate.errors.StorageError` for a generation that is not a
    staged load of ``company`` (the caller's transaction then rolls back).
    """
    retired: list[int] = []
    for year, generation in staged.items():
        row = conn.execute(
            "SELECT company, status, source FROM mirror_generations WHERE id = %s FOR UPDATE",
            (generation,),
        ).fetchone()
        if row is None or row[0] != company or row[1] != "staged":
            raise StorageError(f"generation {generation} is not a staged load of company {company}")
        old = conn.execute(
            "SELECT generation FROM mirror_years WHERE company = %s AND year_start = %s FOR UPDATE",
            (company, year.start),
        ).fetchone()
        if old is not None:
            retired.append(int(old[0]))
        conn.execute(
            "INSERT INTO mirror_years (company, year_start, year_end, generation, loaded_at,"
            " source) VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (company, year_start)"
            " DO UPDATE SET year_end = excluded.year_end, generation = excluded.generation,"
            " loaded_at = excluded.loaded_at, source = excluded.source",
            (company, year.start, year.end, generation, at, row[2]),
        )
        conn.execute("UPDATE mirror_generations SET status = 'live' WHERE id = %s", (generation,))
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO mirror_accounts (company, number, name, type) VALUES (%s, %s, %s, %s)"
            " ON CONFLICT (company, number) DO UPDATE SET name = excluded.name,"
            " type = excluded.type",
            [(company, a.number, a.name, a.type) for a in accounts],
        )
    if retired:
        conn.execute(
            "UPDATE mirror_generations SET status = 'retired' WHERE id = ANY(%s)", (retired,)
        )
    return retired


def drop_generation(conn: Connection, generation: int) -> dict[str, int]:
    """Delete ``generation`` and all its rows; return how many rows went per table."""
    gone = {}
    for table in GENERATION_TABLES:
        gone[table] = conn.execute(
            f"DELETE FROM {table} WHERE generation = %s", (generation,)
        ).rowcount
    conn.execute("DELETE FROM mirror_generations WHERE id = %s", (generation,))
    return gone


def _voucher_seqs(conn: Connection, generation: int) -> dict[tuple[str, str, int], int]:
    seen: dict[tuple[str, str], int] = {}
    out: dict[tuple[str, str, int], int] = {}
    for seq, series, number in conn.execute(
        "SELECT seq, series, number FROM mirror_vouchers WHERE generation = %s ORDER BY seq",
        (generation,),
    ):
        ordinal = seen.get((series, number), 0)
        out[(series, number, ordinal)] = int(seq)
        seen[(series, number)] = ordinal + 1
    return out


def patch_generation(conn: Connection, generation: int, drift: YearDrift) -> None:
    """Apply ``drift`` to the live ``generation`` as the SQLite mirror does: deleted
    vouchers go, changed ones are replaced in their place, added ones go last, and
    balances are replaced where the drift carries them."""
    by_key = _voucher_seqs(conn, generation)
    keys = [k for k, _ in drift.deleted] + [k for k, _, _ in drift.changed]
    missing = [k for k in keys if k not in by_key]
    if missing:
        raise StorageError(f"{drift.year}: voucher {' '.join(missing[0][:2])} is not in the mirror")
    remove = [by_key[k] for k in keys]
    next_seq = max(by_key.values(), default=-1) + 1
    conn.execute(
        "DELETE FROM mirror_transactions WHERE generation = %s AND voucher_seq = ANY(%s)",
        (generation, remove),
    )
    conn.execute(
        "DELETE FROM mirror_vouchers WHERE generation = %s AND seq = ANY(%s)",
        (generation, remove),
    )
    for (_, _, new), seq in zip(drift.changed, remove[len(drift.deleted) :], strict=True):
        _copy_vouchers(conn, generation, [new], first_seq=seq)
    _copy_vouchers(conn, generation, [v for _, v in drift.added], first_seq=next_seq)
    if drift.balances is not None:
        conn.execute("DELETE FROM mirror_balances WHERE generation = %s", (generation,))
        _copy_balances(conn, generation, drift.balances)
    if drift.period_balances is not None:
        conn.execute("DELETE FROM mirror_period_balances WHERE generation = %s", (generation,))
        _copy_periods(conn, generation, drift.period_balances)
    conn.execute(
        "UPDATE mirror_generations SET"
        " vouchers = (SELECT count(*) FROM mirror_vouchers WHERE generation = %(g)s),"
        " transactions = (SELECT count(*) FROM mirror_transactions WHERE generation = %(g)s)"
        " WHERE id = %(g)s",
        {"g": generation},
    )


def abandoned_generations(conn: Connection, company: str) -> list[int]:
    """The generations of ``company`` that are not live (a load that never swapped
    them in, or retired ones not yet dropped)."""
    rows = conn.execute(
        "SELECT id FROM mirror_generations WHERE company = %s AND status <> 'live'",
        (company,),
    ).fetchall()
    return [int(r[0]) for r in rows]
