"""A SQLite ledger store for reposts: receivable documents, allocations and
their stored balances, WIP entries (:mod:`.ledger_wip`) and staff and project
ledgers (:mod:`.ledger_work`), per company.

Separate from the export :class:`~syncstate.adapters.storage.sqlite.state.SQLiteStore`
(which keeps export records) but happy to share its file: its tables are
prefixed ``ar_`` / ``wip_`` and versioned under the ``repost`` component of
``schema_migrations``. Amounts are stored as integer cents and dates as day
ordinals, exactly as the repost kernel reads them; every write is one
transaction, done in batches with ``executemany``. An amount that does not fit
SQLite's 64-bit INTEGER is refused (:class:`~syncstate.errors.MoneyError`,
naming the document) and the transaction rolled back, so nothing is half-written.

``SQLiteLedgerStore(path, readonly=True)`` opens an existing ledger for reading
only (``diagnose``, a dry-run repost): no migration, no journal-mode switch, no
write of any kind reaches the file.

:meth:`SQLiteLedgerStore.ledger` gives a company's
:class:`~syncstate.domain.repost.ledger.LedgerIndex`, so scoped and incremental
reposts read only the neighbourhood of the documents they restore.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sqlite3
import threading
from collections.abc import Collection, Iterable, Iterator, Sequence
from typing import Any

from syncstate.adapters.storage.sqlite.files import open_sqlite, write_transaction
from syncstate.adapters.storage.sqlite.ledger_schema import (
    REPOST_MIGRATIONS,
    chunks,
    fits,
    open_readonly,
)
from syncstate.adapters.storage.sqlite.ledger_wip import WipTables
from syncstate.adapters.storage.sqlite.ledger_work import WorkTables
from syncstate.domain.repost.findings import Calculator
from syncstate.domain.repost.receivables import (
    AllocRow,
    BalanceRow,
    DepositTotals,
    DocRow,
)
from syncstate.errors import StorageError
from syncstate.periods import parse_date

__all__ = ["REPOST_MIGRATIONS", "SQLiteLedgerStore"]


def _doc(row: Sequence[Any]) -> DocRow:
    return (row[0], row[1], row[2], row[3], row[4], row[5])


def _alloc(row: Sequence[Any]) -> AllocRow:
    return (row[0], row[1], row[2], row[3])


class _CompanyLedger:
    """One company's receivables as a :class:`LedgerIndex`."""

    def __init__(self, store: SQLiteLedgerStore, company: str) -> None:
        self._store = store
        self._company = company

    def _many(self, sql: str, ids: Collection[str]) -> list[Sequence[Any]]:
        out: list[Sequence[Any]] = []
        items = list(ids)
        with self._store.reading() as conn:
            for chunk in chunks(items):
                marks = ",".join("?" * len(chunk))
                out.extend(conn.execute(sql.format(marks=marks), (self._company, *chunk)))
        return out

    def documents(self, ids: Collection[str]) -> list[DocRow]:
        """The documents with these ids."""
        sql = (
            "SELECT id, kind, client, day, amount, link FROM ar_documents"
            " WHERE company = ? AND id IN ({marks})"
        )
        return [_doc(r) for r in self._many(sql, ids)]

    def allocations_from(self, ids: Collection[str]) -> list[AllocRow]:
        """Allocations made by these documents."""
        sql = (
            "SELECT src, dest, amount, day FROM ar_allocations"
            " WHERE company = ? AND src IN ({marks}) ORDER BY src, seq"
        )
        return [_alloc(r) for r in self._many(sql, ids)]

    def allocations_to(self, ids: Collection[str]) -> list[AllocRow]:
        """Allocations that settle these documents."""
        # sorted here: ORDER BY src, seq would make SQLite walk the primary key
        # (every allocation of the company) instead of the dest index
        sql = (
            "SELECT src, dest, amount, day, seq FROM ar_allocations"
            " WHERE company = ? AND dest IN ({marks})"
        )
        rows = sorted(self._many(sql, ids), key=lambda r: (r[0], r[4]))
        return [_alloc(r) for r in rows]

    def linked_to(self, ids: Collection[str]) -> list[DocRow]:
        """Documents whose link names one of these ids."""
        sql = (
            "SELECT id, kind, client, day, amount, link FROM ar_documents"
            " WHERE company = ? AND link IN ({marks})"
        )
        return [_doc(r) for r in self._many(sql, ids)]

    def deposit_totals(self, ids: Collection[str]) -> dict[str, DepositTotals]:
        """For each id, its cash receipts' (sum, sum without client, last date).

        Summed by SQLite; a sum past its 64-bit range is summed in Python instead.
        """
        sql = (
            "SELECT link, SUM(amount), SUM(CASE WHEN client IS NULL THEN amount ELSE 0 END),"
            " MAX(day) FROM ar_documents WHERE company = ? AND kind = 2 AND link IN ({marks})"
            " GROUP BY link"
        )
        out: dict[str, DepositTotals] = {i: (0, 0, None) for i in ids}
        try:
            for r in self._many(sql, ids):
                out[r[0]] = (r[1], r[2], r[3])
        except StorageError as exc:
            if "integer overflow" not in str(exc):
                raise
            rows = self._many(
                "SELECT link, amount, client IS NULL, day FROM ar_documents"
                " WHERE company = ? AND kind = 2 AND link IN ({marks})",
                ids,
            )
            for link, amount, misc, day in rows:
                total, misc_total, last = out[link]
                out[link] = (
                    total + amount,
                    misc_total + (amount if misc else 0),
                    day if last is None else max(last, day),
                )
        return out


#: the setting that holds each calculator's period start
PERIOD_SETTING: dict[str, str] = {"receivables": "period_start", "wip": "wip_period_start"}


class SQLiteLedgerStore(WipTables, WorkTables):
    """Repost ledgers in one SQLite file (or ``":memory:"``): a
    :class:`~syncstate.ports.ledger.WorkLedger` (receivables, WIP, staff, projects).

    With ``readonly=True`` the file must exist and hold a ledger at this
    version; every write method then fails with :class:`StorageError`.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] = "syncstate.db",
        *,
        timeout: float = 30.0,
        readonly: bool = False,
    ):
        self.path = str(path)
        self.readonly = readonly
        if readonly:
            self._conn = open_readonly(self.path, timeout)
        else:
            self._conn = open_sqlite(
                path, component="repost", migrations=REPOST_MIGRATIONS, timeout=timeout
            )
        self._lock = threading.RLock()

    def __repr__(self) -> str:
        return f"SQLiteLedgerStore({self.path!r})"

    @property
    def location(self) -> str:
        """The file's path."""
        return self.path

    def period_start(self, company: str, calculator: Calculator) -> dt.date | None:
        """The stored period start of a calculator, or ``None``."""
        value = self.setting(company, PERIOD_SETTING.get(calculator, f"{calculator}_period_start"))
        return None if value is None else parse_date(value)

    def writing(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        """One write transaction: commit on success, roll back on any error."""
        return write_transaction(self._conn, self._lock, self.path)

    @contextlib.contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """A read on the shared connection (inside a running write, part of it)."""
        with self._lock:
            try:
                yield self._conn
            except sqlite3.Error as exc:
                raise StorageError(f"{self.path}: read failed: {exc}") from exc

    # ------------------------------------------------------------ receivables

    def ledger(self, company: str) -> _CompanyLedger:
        """The company's receivables as a ledger index."""
        return _CompanyLedger(self, company)

    def index(self, company: str) -> _CompanyLedger:
        """The company's receivables as a ledger index (the port's name)."""
        return _CompanyLedger(self, company)

    def load_receivables(
        self,
        company: str,
        docs: Sequence[DocRow],
        allocs: Iterable[AllocRow],
        *,
        deletes: Collection[str] = (),
        period_start: dt.date | None = None,
    ) -> int:
        """Delete ``deletes``, write ``docs`` and set the period, in one transaction."""
        with self.writing() as conn:
            self.delete_receivables(company, deletes, conn=conn)
            count = self.put_receivables(company, docs, allocs, conn=conn)
            if period_start is not None:
                self.set_setting(company, "period_start", period_start.isoformat(), conn=conn)
        return count

    def put_receivables(
        self,
        company: str,
        docs: Iterable[DocRow],
        allocs: Iterable[AllocRow],
        *,
        conn: sqlite3.Connection | None = None,
    ) -> int:
        """Insert or replace documents and all their allocations; return how many documents.

        A document's allocations are replaced as a whole. Runs in its own
        transaction unless ``conn`` (from :meth:`writing`) is given.
        """
        if conn is None:
            with self.writing() as own:
                return self.put_receivables(company, docs, allocs, conn=own)
        doc_rows = [(company, *row) for row in docs]
        for row in doc_rows:
            fits(row[5], f"document {row[1]} amount")
        ids = [row[1] for row in doc_rows]
        for chunk in chunks(ids):
            marks = ",".join("?" * len(chunk))
            conn.execute(
                f"DELETE FROM ar_allocations WHERE company = ? AND src IN ({marks})",
                (company, *chunk),
            )
        conn.executemany(
            "INSERT OR REPLACE INTO ar_documents (company, id, kind, client, day, amount, link)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            doc_rows,
        )
        seq: dict[str, int] = {}

        def numbered() -> Iterator[tuple[Any, ...]]:
            for src, dest, amount, day in allocs:
                fits(amount, f"document {src} allocation to {dest}")
                n = seq.get(src, 0)
                seq[src] = n + 1
                yield (company, src, n, dest, amount, day)

        conn.executemany(
            "INSERT INTO ar_allocations (company, src, seq, dest, amount, day)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            numbered(),
        )
        return len(doc_rows)

    def delete_receivables(
        self, company: str, ids: Collection[str], *, conn: sqlite3.Connection | None = None
    ) -> None:
        """Delete documents, their allocations and stored balances."""
        if conn is None:
            with self.writing() as own:
                self.delete_receivables(company, ids, conn=own)
            return
        for chunk in chunks(list(ids)):
            marks = ",".join("?" * len(chunk))
            for table, column in (
                ("ar_documents", "id"),
                ("ar_allocations", "src"),
                ("ar_balances", "id"),
            ):
                conn.execute(
                    f"DELETE FROM {table} WHERE company = ? AND {column} IN ({marks})",
                    (company, *chunk),
                )

    def clients(self, company: str) -> list[str | None]:
        """Clients with documents (``None`` for documents without a client), sorted."""
        with self.reading() as conn:
            rows = conn.execute(
                "SELECT DISTINCT client FROM ar_documents WHERE company = ? ORDER BY client",
                (company,),
            ).fetchall()
        return [r[0] for r in rows]

    def client_documents(self, company: str, client: str | None) -> list[str]:
        """Ids of one client's documents."""
        with self.reading() as conn:
            # `client = ?` and no ORDER BY, so that the client index is used
            # (sorting by id in SQL makes SQLite scan the company's whole key)
            where = "client IS NULL" if client is None else "client = ?"
            params = (company,) if client is None else (company, client)
            rows = conn.execute(
                f"SELECT id FROM ar_documents WHERE company = ? AND {where}", params
            ).fetchall()
        return sorted(r[0] for r in rows)

    def document_clients(self, company: str, ids: Collection[str]) -> dict[str, str | None]:
        """The client of each of these documents."""
        return {row[0]: row[2] for row in self.ledger(company).documents(ids)}

    def iter_receivables(
        self, company: str, *, batch: int = 50_000
    ) -> Iterator[tuple[list[DocRow], list[AllocRow]]]:
        """Every document and allocation, in batches of whole clients (for exports)."""
        for client in self.clients(company):
            ids = self.client_documents(company, client)
            for chunk in chunks(ids, batch):
                view = self.ledger(company)
                yield view.documents(chunk), view.allocations_from(chunk)

    def balances(self, company: str, ids: Collection[str]) -> dict[str, BalanceRow]:
        """Stored balance rows of these documents."""
        out: dict[str, BalanceRow] = {}
        with self.reading() as conn:
            for chunk in chunks(list(ids)):
                marks = ",".join("?" * len(chunk))
                for r in conn.execute(
                    "SELECT id, outstanding, clear_day, clear_flag, payment_type, bank,"
                    f" receivables FROM ar_balances WHERE company = ? AND id IN ({marks})",
                    (company, *chunk),
                ):
                    out[r[0]] = (r[0], r[1], r[2], bool(r[3]), r[4], r[5], r[6])
        return out

    def write_balances(
        self,
        company: str,
        rows: Iterable[BalanceRow],
        *,
        conn: sqlite3.Connection | None = None,
    ) -> int:
        """Insert or replace balance rows; return how many were written.

        ``rows`` is consumed lazily in chunks inside the transaction, so a
        generator (a streamed repost) never has to be held in memory whole; it
        may read this store while it runs.
        """
        if conn is None:
            with self.writing() as own:
                return self.write_balances(company, rows, conn=own)
        count = 0
        data: list[tuple[Any, ...]] = []
        for r in rows:
            row = (company, r[0], r[1], r[2], int(r[3]), r[4], r[5], r[6])
            for value, name in ((row[2], "outstanding"), (row[6], "bank"), (row[7], "receivables")):
                fits(value, f"document {row[1]} restored {name}")
            data.append(row)
            if len(data) >= 10_000:
                count += self._put_balances(conn, data)
                data = []
        return count + self._put_balances(conn, data)

    @staticmethod
    def _put_balances(conn: sqlite3.Connection, data: list[tuple[Any, ...]]) -> int:
        conn.executemany(
            "INSERT OR REPLACE INTO ar_balances (company, id, outstanding, clear_day,"
            " clear_flag, payment_type, bank, receivables) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            data,
        )
        return len(data)

    # ---------------------------------------------------------------- settings

    def set_setting(
        self, company: str, name: str, value: str, *, conn: sqlite3.Connection | None = None
    ) -> None:
        """Store one named setting of the company (e.g. ``period_start``)."""
        if conn is None:
            with self.writing() as own:
                self.set_setting(company, name, value, conn=own)
            return
        conn.execute(
            "INSERT OR REPLACE INTO repost_settings (company, name, value) VALUES (?, ?, ?)",
            (company, name, value),
        )

    def setting(self, company: str, name: str) -> str | None:
        """A named setting, or ``None``."""
        with self.reading() as conn:
            row = conn.execute(
                "SELECT value FROM repost_settings WHERE company = ? AND name = ?",
                (company, name),
            ).fetchone()
        return None if row is None else str(row[0])

    def companies(self) -> list[str]:
        """Companies with a repost ledger."""
        with self.reading() as conn:
            rows = conn.execute(
                "SELECT company FROM repost_settings UNION SELECT company FROM ar_documents"
                " UNION SELECT company FROM wip_items ORDER BY 1"
            ).fetchall()
        return [r[0] for r in rows]

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()

    def __enter__(self) -> SQLiteLedgerStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
