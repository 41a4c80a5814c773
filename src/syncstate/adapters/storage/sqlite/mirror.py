"""The inbound mirror on SQLite (:class:`~syncstate.ports.MirrorStore`).

Every load writes a fiscal year as a new **generation** beside the live one, in
chunks of its own transactions (so other companies' readers and writers are not
held up for minutes). ``mirror_years`` points at the live generation of each
(company, fiscal year); ``swap_in`` moves the pointers in one transaction, so a
reader (who reads inside one transaction, see :meth:`read_year`) sees the old
year or the new one, never half of one. A failed load leaves a staged
generation that is discarded; the live year is untouched.

The schema has its own migration namespace (``mirror``) in ``schema_migrations``
and may share a file with the export-state store. The ``host_*`` tables model
data the host owns beside the mirror (documents, budget versions, report
templates): nothing here deletes from them.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import sqlite3
import threading
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal

from syncstate.adapters.storage.sqlite.files import open_sqlite, read_transaction, write_transaction
from syncstate.domain.mirror import (
    LoadedYear,
    MirrorAccount,
    MirrorBalance,
    MirrorPeriodBalance,
    MirrorTransaction,
    MirrorVoucher,
    MirrorYear,
    YearDrift,
)
from syncstate.errors import InputError, StorageError
from syncstate.periods import FiscalYear, Period
from syncstate.ports import Progress

__all__ = ["HOST_TABLES", "MIRROR_MIGRATIONS", "SQLiteMirrorStore"]

#: tables the host owns beside the mirror; clearing the mirror never touches them
HOST_TABLES = ("host_documents", "host_budget_versions", "host_report_templates")

MIRROR_MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE mirror_accounts (
        company TEXT NOT NULL, number TEXT NOT NULL, name TEXT NOT NULL, type TEXT NOT NULL,
        PRIMARY KEY (company, number)
    );
    CREATE TABLE mirror_generations (
        id INTEGER PRIMARY KEY AUTOINCREMENT, company TEXT NOT NULL,
        year_start TEXT NOT NULL, year_end TEXT NOT NULL,
        status TEXT NOT NULL, source TEXT NOT NULL, created_at TEXT NOT NULL
    );
    CREATE TABLE mirror_years (
        company TEXT NOT NULL, year_start TEXT NOT NULL, year_end TEXT NOT NULL,
        generation INTEGER NOT NULL, loaded_at TEXT NOT NULL, source TEXT NOT NULL,
        PRIMARY KEY (company, year_start)
    );
    CREATE TABLE mirror_vouchers (
        generation INTEGER NOT NULL, seq INTEGER NOT NULL, series TEXT NOT NULL,
        number TEXT NOT NULL, date TEXT NOT NULL, text TEXT NOT NULL,
        PRIMARY KEY (generation, seq)
    );
    CREATE TABLE mirror_transactions (
        generation INTEGER NOT NULL, voucher_seq INTEGER NOT NULL, line INTEGER NOT NULL,
        account TEXT NOT NULL, amount TEXT NOT NULL, objects TEXT NOT NULL,
        date TEXT, text TEXT NOT NULL,
        PRIMARY KEY (generation, voucher_seq, line)
    );
    CREATE TABLE mirror_balances (
        generation INTEGER NOT NULL, kind TEXT NOT NULL, account TEXT NOT NULL,
        objects TEXT NOT NULL, amount TEXT NOT NULL
    );
    CREATE INDEX mirror_balances_by_generation ON mirror_balances (generation);
    CREATE TABLE mirror_period_balances (
        generation INTEGER NOT NULL, period TEXT NOT NULL, account TEXT NOT NULL,
        objects TEXT NOT NULL, amount TEXT NOT NULL, budget INTEGER NOT NULL
    );
    CREATE INDEX mirror_period_balances_by_generation ON mirror_period_balances (generation);
    CREATE TABLE mirror_locks (
        company TEXT PRIMARY KEY, holder TEXT NOT NULL, acquired_at TEXT NOT NULL
    );
    CREATE TABLE host_documents (
        company TEXT NOT NULL, id TEXT NOT NULL, title TEXT NOT NULL, PRIMARY KEY (company, id)
    );
    CREATE TABLE host_budget_versions (
        company TEXT NOT NULL, id TEXT NOT NULL, title TEXT NOT NULL, PRIMARY KEY (company, id)
    );
    CREATE TABLE host_report_templates (
        company TEXT NOT NULL, id TEXT NOT NULL, title TEXT NOT NULL, PRIMARY KEY (company, id)
    )
    """,
)

_CHUNK = 2000  # vouchers per staging transaction


def _objects_json(objects: tuple[tuple[str, str], ...]) -> str:
    return json.dumps([list(pair) for pair in objects]) if objects else "[]"


def _objects(text: str) -> tuple[tuple[str, str], ...]:
    return tuple((str(a), str(b)) for a, b in json.loads(text)) if text != "[]" else ()


def _company(company: str) -> str:
    if not isinstance(company, str) or not company.strip():
        raise InputError(f"company must be a non-empty string, got {company!r}")
    return company


class SQLiteMirrorStore:
    """The mirror in one SQLite file (or ``":memory:"``); safe to share between threads."""

    def __init__(self, path: str | os.PathLike[str] = "syncstate.db", *, timeout: float = 30.0):
        self.path = str(path)
        self._conn = open_sqlite(
            path, component="mirror", migrations=MIRROR_MIGRATIONS, timeout=timeout
        )
        self._lock = threading.RLock()

    def __repr__(self) -> str:
        return f"SQLiteMirrorStore({self.path!r})"

    def _write(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        return write_transaction(self._conn, self._lock, self.path)

    def _read(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        return read_transaction(self._conn, self._lock)

    # ------------------------------------------------------------------ loading

    def stage_year(
        self,
        company: str,
        year: MirrorYear,
        *,
        source: str,
        at: dt.datetime,
        progress: Progress | None = None,
    ) -> int:
        """Write ``year`` as a new generation beside the live data; return its id."""
        _company(company)
        with self._write() as conn:
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
            self._insert_balances(conn, generation, year.balances)
            self._insert_period_balances(conn, generation, year.period_balances)
        if progress is not None:
            progress.start(len(year.vouchers), f"loading {year.year}")
        try:
            for start in range(0, len(year.vouchers), _CHUNK):
                chunk = year.vouchers[start : start + _CHUNK]
                with self._write() as conn:
                    self._insert_vouchers(conn, generation, chunk, first_seq=start)
                if progress is not None:
                    progress.advance(len(chunk), outcome="staged")
        except BaseException:
            self.discard(company, generation)
            raise
        finally:
            if progress is not None:
                progress.finish()
        return generation

    @staticmethod
    def _insert_balances(
        conn: sqlite3.Connection, generation: int, balances: Iterable[MirrorBalance]
    ) -> None:
        conn.executemany(
            "INSERT INTO mirror_balances VALUES (?, ?, ?, ?, ?)",
            [
                (generation, b.kind, b.account, _objects_json(b.objects), str(b.amount))
                for b in balances
            ],
        )

    @staticmethod
    def _insert_period_balances(
        conn: sqlite3.Connection, generation: int, balances: Iterable[MirrorPeriodBalance]
    ) -> None:
        conn.executemany(
            "INSERT INTO mirror_period_balances VALUES (?, ?, ?, ?, ?, ?)",
            [
                (
                    generation,
                    str(p.period),
                    p.account,
                    _objects_json(p.objects),
                    str(p.amount),
                    int(p.budget),
                )
                for p in balances
            ],
        )

    @staticmethod
    def _insert_vouchers(
        conn: sqlite3.Connection,
        generation: int,
        vouchers: Sequence[MirrorVoucher],
        *,
        first_seq: int,
    ) -> None:
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
                    _objects_json(t.objects),
                    t.date.isoformat() if t.date else None,
                    t.text,
                )
                for i, v in enumerate(vouchers)
                for line, t in enumerate(v.transactions)
            ],
        )

    def swap_in(
        self,
        company: str,
        staged: Mapping[FiscalYear, int],
        accounts: Sequence[MirrorAccount],
        *,
        at: dt.datetime,
    ) -> None:
        """Point every staged year at its new generation, in one transaction."""
        _company(company)
        retired: list[int] = []
        with self._write() as conn:
            for year, generation in staged.items():
                row = conn.execute(
                    "SELECT company, status, source FROM mirror_generations WHERE id = ?",
                    (generation,),
                ).fetchone()
                if row is None or row[0] != company or row[1] != "staged":
                    raise StorageError(
                        f"generation {generation} is not a staged load of company {company}"
                    )
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
                conn.execute(
                    "UPDATE mirror_generations SET status = 'live' WHERE id = ?", (generation,)
                )
            conn.executemany(
                "INSERT INTO mirror_accounts VALUES (?, ?, ?, ?) ON CONFLICT (company, number)"
                " DO UPDATE SET name = excluded.name, type = excluded.type",
                [(company, a.number, a.name, a.type) for a in accounts],
            )
            for generation in retired:
                conn.execute(
                    "UPDATE mirror_generations SET status = 'retired' WHERE id = ?", (generation,)
                )
        for generation in retired:
            self._drop_generation(generation)

    def discard(self, company: str, generation: int) -> None:
        """Drop a staged generation (a failed or abandoned load)."""
        with self._write() as conn:
            row = conn.execute(
                "SELECT company, status FROM mirror_generations WHERE id = ?", (generation,)
            ).fetchone()
            if row is None or row[0] != company or row[1] == "live":
                return
        self._drop_generation(generation)

    def _drop_generation(self, generation: int) -> None:
        with self._write() as conn:
            for table in (
                "mirror_transactions",
                "mirror_vouchers",
                "mirror_balances",
                "mirror_period_balances",
            ):
                conn.execute(f"DELETE FROM {table} WHERE generation = ?", (generation,))
            conn.execute("DELETE FROM mirror_generations WHERE id = ?", (generation,))

    def discard_abandoned(self, company: str) -> int:
        """Drop staged generations left by crashed loads of ``company``; return how many."""
        with self._read() as conn:
            rows = conn.execute(
                "SELECT id FROM mirror_generations WHERE company = ? AND status != 'live'",
                (company,),
            ).fetchall()
        for (generation,) in rows:
            self._drop_generation(int(generation))
        return len(rows)

    # ------------------------------------------------------------------ reading

    def read_year(self, company: str, year: FiscalYear) -> MirrorYear | None:
        """The live data of one fiscal year, read in one transaction."""
        _company(company)
        with self._read() as conn:
            row = conn.execute(
                "SELECT generation, year_end FROM mirror_years"
                " WHERE company = ? AND year_start = ?",
                (company, year.start.isoformat()),
            ).fetchone()
            if row is None or row[1] != year.end.isoformat():
                return None
            generation = int(row[0])
            balances = tuple(
                MirrorBalance(
                    kind=kind, account=account, amount=Decimal(amount), objects=_objects(objs)
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
                    objects=_objects(objs),
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
                        objects=_objects(objs),
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

    def loaded_years(self, company: str) -> list[LoadedYear]:
        """The live fiscal years of ``company`` with their counts, oldest first."""
        _company(company)
        with self._read() as conn:
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

    def accounts(self, company: str) -> list[MirrorAccount]:
        """The mirrored chart of accounts, by number."""
        with self._read() as conn:
            rows = conn.execute(
                "SELECT number, name, type FROM mirror_accounts WHERE company = ? ORDER BY number",
                (_company(company),),
            ).fetchall()
        return [MirrorAccount(number=n, name=name, type=t) for n, name, t in rows]

    def companies(self) -> list[str]:
        """Companies with at least one live fiscal year."""
        with self._read() as conn:
            rows = conn.execute("SELECT DISTINCT company FROM mirror_years ORDER BY 1").fetchall()
        return [str(r[0]) for r in rows]

    # ----------------------------------------------------------------- clearing

    def clear_years(self, company: str, years: Iterable[FiscalYear]) -> dict[str, int]:
        """Remove the live data of ``years`` (one transaction); return what went."""
        _company(company)
        counts = {"years": 0, "vouchers": 0, "transactions": 0, "balances": 0}
        gone: list[int] = []
        with self._write() as conn:
            for year in years:
                row = conn.execute(
                    "SELECT generation FROM mirror_years WHERE company = ? AND year_start = ?",
                    (company, year.start.isoformat()),
                ).fetchone()
                if row is None:
                    continue
                generation = int(row[0])
                counts["years"] += 1
                for key, table in (
                    ("vouchers", "mirror_vouchers"),
                    ("transactions", "mirror_transactions"),
                    ("balances", "mirror_balances"),
                    ("balances", "mirror_period_balances"),
                ):
                    cursor = conn.execute(
                        f"DELETE FROM {table} WHERE generation = ?", (generation,)
                    )
                    counts[key] += cursor.rowcount
                conn.execute(
                    "DELETE FROM mirror_years WHERE company = ? AND year_start = ?",
                    (company, year.start.isoformat()),
                )
                gone.append(generation)
            conn.executemany("DELETE FROM mirror_generations WHERE id = ?", [(g,) for g in gone])
        return counts

    def apply_drift(self, company: str, drift: YearDrift, *, at: dt.datetime) -> None:
        """Apply the changes of ``drift`` to the live year in one transaction."""
        _company(company)
        if drift.new_year:
            raise StorageError(f"{drift.year} is not in the mirror: load it, do not patch it")
        with self._write() as conn:
            row = conn.execute(
                "SELECT generation FROM mirror_years WHERE company = ? AND year_start = ?",
                (company, drift.year.start.isoformat()),
            ).fetchone()
            if row is None:
                raise StorageError(f"{drift.year} of company {company} is not in the mirror")
            generation = int(row[0])
            by_key = self._voucher_seqs(conn, generation)
            remove = [by_key[k] for k, _ in drift.deleted] + [
                by_key[k] for k, _, _ in drift.changed
            ]
            for seq in remove:
                conn.execute(
                    "DELETE FROM mirror_transactions WHERE generation = ? AND voucher_seq = ?",
                    (generation, seq),
                )
                conn.execute(
                    "DELETE FROM mirror_vouchers WHERE generation = ? AND seq = ?",
                    (generation, seq),
                )
            next_seq = int(
                conn.execute(
                    "SELECT COALESCE(MAX(seq), -1) + 1 FROM mirror_vouchers WHERE generation = ?",
                    (generation,),
                ).fetchone()[0]
            )
            # a changed voucher keeps its place in the order; added ones go last
            for (_, _, new), seq in zip(drift.changed, remove[len(drift.deleted) :], strict=True):
                self._insert_vouchers(conn, generation, [new], first_seq=seq)
            self._insert_vouchers(conn, generation, [v for _, v in drift.added], first_seq=next_seq)
            if drift.balances is not None:
                conn.execute("DELETE FROM mirror_balances WHERE generation = ?", (generation,))
                self._insert_balances(conn, generation, drift.balances)
            if drift.period_balances is not None:
                conn.execute(
                    "DELETE FROM mirror_period_balances WHERE generation = ?", (generation,)
                )
                self._insert_period_balances(conn, generation, drift.period_balances)
            conn.execute(
                "UPDATE mirror_years SET loaded_at = ? WHERE company = ? AND year_start = ?",
                (at.isoformat(), company, drift.year.start.isoformat()),
            )

    @staticmethod
    def _voucher_seqs(conn: sqlite3.Connection, generation: int) -> dict[tuple[str, str, int], int]:
        seen: dict[tuple[str, str], int] = {}
        out: dict[tuple[str, str, int], int] = {}
        for seq, series, number in conn.execute(
            "SELECT seq, series, number FROM mirror_vouchers WHERE generation = ? ORDER BY seq",
            (generation,),
        ):
            ordinal = seen.get((series, number), 0)
            out[(series, number, ordinal)] = int(seq)
            seen[(series, number)] = ordinal + 1
        return out

    # -------------------------------------------------------------------- locks

    def try_lock(
        self, company: str, *, holder: str, at: dt.datetime, stale_after: dt.timedelta
    ) -> bool:
        """Take the company's lock unless another holder took it less than ``stale_after`` ago."""
        _company(company)
        with self._write() as conn:
            row = conn.execute(
                "SELECT holder, acquired_at FROM mirror_locks WHERE company = ?", (company,)
            ).fetchone()
            if (
                row is not None
                and row[0] != holder
                and dt.datetime.fromisoformat(row[1]) + stale_after > at
            ):
                return False
            conn.execute(
                "INSERT INTO mirror_locks VALUES (?, ?, ?) ON CONFLICT (company) DO UPDATE"
                " SET holder = excluded.holder, acquired_at = excluded.acquired_at",
                (company, holder, at.isoformat()),
            )
        return True

    def lock_holder(self, company: str) -> str | None:
        """Who holds the company's lock, if anyone."""
        with self._read() as conn:
            row = conn.execute(
                "SELECT holder FROM mirror_locks WHERE company = ?", (company,)
            ).fetchone()
        return None if row is None else str(row[0])

    def unlock(self, company: str, *, holder: str) -> None:
        """Release the company's lock if ``holder`` holds it."""
        with self._write() as conn:
            conn.execute(
                "DELETE FROM mirror_locks WHERE company = ? AND holder = ?", (company, holder)
            )

    # -------------------------------------------------------- host-owned tables

    def add_host_item(self, table: str, company: str, item_id: str, title: str) -> None:
        """Add a host-owned row (document, budget version, report template)."""
        if table not in HOST_TABLES:
            raise InputError(f"{table!r} is not a host-owned table ({', '.join(HOST_TABLES)})")
        with self._write() as conn:
            conn.execute(
                f"INSERT OR REPLACE INTO {table} VALUES (?, ?, ?)",
                (_company(company), item_id, title),
            )

    def host_counts(self, company: str) -> dict[str, int]:
        """How many host-owned rows ``company`` has in each host table."""
        with self._read() as conn:
            return {
                table: int(
                    conn.execute(
                        f"SELECT COUNT(*) FROM {table} WHERE company = ?", (company,)
                    ).fetchone()[0]
                )
                for table in HOST_TABLES
            }

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._conn.close()
