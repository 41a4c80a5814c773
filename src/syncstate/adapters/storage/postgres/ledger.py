"""A PostgreSQL :class:`~syncstate.ports.ledger.RepostLedger`.

The same tables as the SQLite ledger (:mod:`syncstate.adapters.storage.sqlite.ledger`),
in the store's schema and versioned under the ``repost`` component:
receivable amounts as ``BIGINT`` cents and dates as day ordinals (as the
repost kernel reads them), WIP entries, staff and project ledgers
(:mod:`.ledger_work`) as columns with ``DATE``, ``NUMERIC`` and ``BOOLEAN``
types. Its ``repost`` versions count on their own (step 1 here holds what
SQLite's steps 1-3 hold; step 2 the journal of staff and project reposts,
SQLite's step 4). Ids and clients use ``COLLATE "C"`` so that every
ordered answer sorts as Python does. Each write runs in one transaction (an
error rolls all of it back); the caller's iterables are read in full before
the transaction starts, so a retried transaction writes the same rows. Reads
take no lock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import Any

from psycopg_pool import ConnectionPool

from syncstate.adapters.storage.postgres.connections import Connection, PostgresConnections
from syncstate.adapters.storage.postgres.ledger_work import PostgresWorkTables
from syncstate.adapters.storage.postgres.migrations import quote_schema
from syncstate.domain.repost.findings import Calculator
from syncstate.domain.repost.receivables import AllocRow, BalanceRow, DepositTotals, DocRow
from syncstate.domain.repost.wip import WipEntry

__all__ = ["REPOST_MIGRATIONS_POSTGRES", "PostgresLedgerStore"]

#: the repost ledger schema in PostgreSQL; append, never edit a released step
REPOST_MIGRATIONS_POSTGRES: tuple[str, ...] = (
    """
    CREATE TABLE ar_documents (
        company TEXT COLLATE "C" NOT NULL, id TEXT COLLATE "C" NOT NULL,
        kind INTEGER NOT NULL, client TEXT COLLATE "C", day INTEGER NOT NULL,
        amount BIGINT NOT NULL, link TEXT COLLATE "C", PRIMARY KEY (company, id)
    );
    CREATE INDEX ar_documents_by_client ON ar_documents (company, client);
    CREATE INDEX ar_documents_by_link ON ar_documents (company, link);
    CREATE TABLE ar_allocations (
        company TEXT COLLATE "C" NOT NULL, src TEXT COLLATE "C" NOT NULL, seq INTEGER NOT NULL,
        dest TEXT COLLATE "C" NOT NULL, amount BIGINT NOT NULL, day INTEGER NOT NULL,
        PRIMARY KEY (company, src, seq)
    );
    CREATE INDEX ar_allocations_by_dest ON ar_allocations (company, dest);
    CREATE TABLE ar_balances (
        company TEXT COLLATE "C" NOT NULL, id TEXT COLLATE "C" NOT NULL,
        outstanding BIGINT NOT NULL, clear_day INTEGER, clear_flag BOOLEAN NOT NULL,
        payment_type INTEGER NOT NULL, bank BIGINT NOT NULL, receivables BIGINT NOT NULL,
        PRIMARY KEY (company, id)
    );
    CREATE TABLE repost_settings (
        company TEXT COLLATE "C" NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL,
        PRIMARY KEY (company, name)
    );
    CREATE TABLE wip_items (
        company TEXT COLLATE "C" NOT NULL, id TEXT COLLATE "C" NOT NULL, type TEXT,
        client TEXT COLLATE "C", day DATE NOT NULL, work_code TEXT, staff TEXT, project TEXT,
        subproject TEXT, quantity NUMERIC, amount NUMERIC, billed_amount NUMERIC,
        invoice TEXT COLLATE "C", billing_status TEXT NOT NULL, hide BOOLEAN NOT NULL,
        write_updown NUMERIC, write_day DATE, clear_flag BOOLEAN NOT NULL, clear_day DATE,
        PRIMARY KEY (company, id)
    );
    CREATE INDEX wip_items_by_client ON wip_items (company, client);
    CREATE INDEX wip_items_by_invoice ON wip_items (company, invoice);
    CREATE TABLE wip_invoices (
        company TEXT COLLATE "C" NOT NULL, id TEXT COLLATE "C" NOT NULL, day DATE NOT NULL,
        PRIMARY KEY (company, id)
    );
    CREATE TABLE staff_members (
        company TEXT COLLATE "C" NOT NULL, id TEXT COLLATE "C" NOT NULL,
        PRIMARY KEY (company, id)
    );
    CREATE TABLE staff_rates (
        company TEXT COLLATE "C" NOT NULL, staff TEXT COLLATE "C" NOT NULL,
        start_day DATE NOT NULL, standard_hours NUMERIC NOT NULL,
        overtime_rate NUMERIC NOT NULL, cost_rate NUMERIC NOT NULL,
        PRIMARY KEY (company, staff, start_day)
    );
    CREATE TABLE staff_periods (
        company TEXT COLLATE "C" NOT NULL, staff TEXT COLLATE "C" NOT NULL,
        year INTEGER NOT NULL, number INTEGER NOT NULL, start_day DATE NOT NULL,
        end_day DATE NOT NULL, standard_hours NUMERIC, overtime_rate NUMERIC,
        cost_rate NUMERIC, hours_worked NUMERIC NOT NULL,
        PRIMARY KEY (company, staff, year, number)
    );
    CREATE TABLE project_work (
        company TEXT COLLATE "C" NOT NULL, project TEXT COLLATE "C" NOT NULL,
        subproject TEXT COLLATE "C" NOT NULL, time_amount NUMERIC NOT NULL,
        expense_amount NUMERIC NOT NULL, hours NUMERIC NOT NULL,
        PRIMARY KEY (company, project, subproject)
    );
    CREATE TABLE projects (
        company TEXT COLLATE "C" NOT NULL, id TEXT COLLATE "C" NOT NULL, parent TEXT,
        option TEXT NOT NULL, budget_hours NUMERIC NOT NULL, budget_amount NUMERIC NOT NULL,
        PRIMARY KEY (company, id)
    );
    CREATE TABLE project_staff_budgets (
        company TEXT COLLATE "C" NOT NULL, project TEXT COLLATE "C" NOT NULL,
        seq INTEGER NOT NULL, staff TEXT NOT NULL, hours NUMERIC NOT NULL,
        amount NUMERIC NOT NULL, PRIMARY KEY (company, project, seq)
    );
    """,
    """
    CREATE TABLE repost_journal (
        seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        company TEXT COLLATE "C" NOT NULL, calculator TEXT NOT NULL, scope TEXT NOT NULL,
        target TEXT NOT NULL, field TEXT NOT NULL, before TEXT, after TEXT,
        actor TEXT NOT NULL, at TIMESTAMPTZ NOT NULL
    );
    CREATE INDEX repost_journal_company ON repost_journal (company, seq);
    """,
)

_WIP = (
    "id, type, client, day, work_code, staff, project, subproject, quantity, amount,"
    " billed_amount, invoice, billing_status, hide, write_updown, write_day, clear_flag,"
    " clear_day"
)
_PERIOD = {"receivables": "period_start", "wip": "wip_period_start"}


def _wip_row(company: str, e: WipEntry) -> tuple[Any, ...]:
    return (
        company, e.id, e.type, e.client, e.date, e.work_code, e.staff, e.project, e.subproject,
        e.quantity, e.amount, e.billed_amount, e.invoice, e.billing_status, e.hide,
        e.write_updown, e.write_date, e.clear_flag, e.clear_date,
    )  # fmt: skip


def _wip_entry(r: Sequence[Any]) -> WipEntry:
    return WipEntry(
        id=r[0], type=r[1], client=r[2], date=r[3], work_code=r[4], staff=r[5], project=r[6],
        subproject=r[7], quantity=r[8], amount=r[9], billed_amount=r[10], invoice=r[11],
        billing_status=r[12], hide=r[13], write_updown=r[14], write_date=r[15],
        clear_flag=r[16], clear_date=r[17],
    )  # fmt: skip


class _CompanyIndex:
    """One company's receivables as a :class:`~syncstate.domain.repost.ledger.LedgerIndex`."""

    def __init__(self, store: PostgresLedgerStore, company: str) -> None:
        self._store = store
        self._company = company

    def _rows(self, sql: str, ids: Collection[str]) -> list[Sequence[Any]]:
        return self._store._read(sql.format(q=self._store._q), (self._company, list(ids)))

    def documents(self, ids: Collection[str]) -> list[DocRow]:
        """The documents with these ids."""
        sql = (
            "SELECT id, kind, client, day, amount, link FROM {q}.ar_documents"
            " WHERE company = %s AND id = ANY(%s) ORDER BY id"
        )
        return [(r[0], r[1], r[2], r[3], r[4], r[5]) for r in self._rows(sql, ids)]

    def allocations_from(self, ids: Collection[str]) -> list[AllocRow]:
        """Allocations made by these documents."""
        sql = (
            "SELECT src, dest, amount, day FROM {q}.ar_allocations"
            " WHERE company = %s AND src = ANY(%s) ORDER BY src, seq"
        )
        return [(r[0], r[1], r[2], r[3]) for r in self._rows(sql, ids)]

    def allocations_to(self, ids: Collection[str]) -> list[AllocRow]:
        """Allocations that settle these documents."""
        sql = (
            "SELECT src, dest, amount, day FROM {q}.ar_allocations"
            " WHERE company = %s AND dest = ANY(%s) ORDER BY src, seq"
        )
        return [(r[0], r[1], r[2], r[3]) for r in self._rows(sql, ids)]

    def linked_to(self, ids: Collection[str]) -> list[DocRow]:
        """Documents whose link names one of these ids."""
        sql = (
            "SELECT id, kind, client, day, amount, link FROM {q}.ar_documents"
            " WHERE company = %s AND link = ANY(%s) ORDER BY id"
        )
        return [(r[0], r[1], r[2], r[3], r[4], r[5]) for r in self._rows(sql, ids)]

    def deposit_totals(self, ids: Collection[str]) -> dict[str, DepositTotals]:
        """For each id, its cash receipts' (sum, sum without client, last date)."""
        sql = (
            "SELECT link, SUM(amount), SUM(CASE WHEN client IS NULL THEN amount ELSE 0 END),"
            " MAX(day) FROM {q}.ar_documents WHERE company = %s AND kind = 2"
            " AND link = ANY(%s) GROUP BY link"
        )
        out: dict[str, DepositTotals] = {i: (0, 0, None) for i in ids}
        for r in self._rows(sql, ids):
            out[r[0]] = (int(r[1]), int(r[2]), r[3])
        return out


class PostgresLedgerStore(PostgresWorkTables):
    """Repost ledgers in one PostgreSQL schema (``syncstate`` unless chosen): a
    :class:`~syncstate.ports.ledger.WorkLedger` (receivables, WIP, staff, projects)."""

    def __init__(
        self,
        dsn: str | None = None,
        *,
        pool: ConnectionPool[Any] | None = None,
        connect: Callable[[], Connection] | None = None,
        schema: str = "syncstate",
        min_size: int = 1,
        max_size: int = 4,
        connect_timeout: float = 10.0,
        attempts: int = 5,
        adopt_schema: bool = False,
    ) -> None:
        self.schema = schema
        self._q = quote_schema(schema)
        self._db = PostgresConnections(
            dsn,
            pool=pool,
            connect=connect,
            min_size=min_size,
            max_size=max_size,
            connect_timeout=connect_timeout,
            attempts=attempts,
            adopt_schema=adopt_schema,
        )
        try:
            self._db.migrate("repost", REPOST_MIGRATIONS_POSTGRES, schema=schema)
        except BaseException:
            self.close()
            raise

    def __repr__(self) -> str:
        return f"PostgresLedgerStore({self._db.shown!r}, schema={self.schema!r})"

    @property
    def location(self) -> str:
        """The masked DSN and schema."""
        return f"PostgreSQL {self._db.shown} schema {self.schema}"

    def _read(self, sql: str, params: Sequence[Any]) -> list[Sequence[Any]]:
        return self._db.run("repost ledger read", lambda conn: conn.execute(sql, params).fetchall())

    def _write(self, what: str, op: Callable[[Connection], int]) -> int:
        return self._db.run(what, op)

    def close(self) -> None:
        """Close the pool (when it is the store's own)."""
        self._db.close()

    def __enter__(self) -> PostgresLedgerStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def companies(self) -> list[str]:
        """Companies with anything stored, sorted."""
        q = self._q
        rows = self._read(
            f"SELECT company FROM {q}.repost_settings UNION SELECT company FROM {q}.ar_documents"
            f" UNION SELECT company FROM {q}.wip_items ORDER BY 1",
            (),
        )
        return [r[0] for r in rows]

    def period_start(self, company: str, calculator: Calculator) -> dt.date | None:
        """The stored period start of a calculator, or ``None``."""
        rows = self._read(
            f"SELECT value FROM {self._q}.repost_settings WHERE company = %s AND name = %s",
            (company, _PERIOD.get(calculator, f"{calculator}_period_start")),
        )
        return dt.date.fromisoformat(rows[0][0]) if rows else None

    def _set_period(self, conn: Connection, company: str, calc: str, day: dt.date) -> None:
        conn.execute(
            f"INSERT INTO {self._q}.repost_settings (company, name, value) VALUES (%s, %s, %s)"
            " ON CONFLICT (company, name) DO UPDATE SET value = excluded.value",
            (company, _PERIOD[calc], day.isoformat()),
        )

    # ------------------------------------------------------------ receivables

    def load_receivables(
        self,
        company: str,
        docs: Sequence[DocRow],
        allocs: Iterable[AllocRow],
        *,
        deletes: Collection[str] = (),
        period_start: dt.date | None = None,
    ) -> int:
        """Delete ``deletes``, write ``docs`` (replacing their allocations) and set
        the period, in one transaction."""
        q = self._q
        gone = list(deletes)
        ids = [row[0] for row in docs]
        seq: dict[str, int] = {}
        alloc_rows = []
        for src, dest, amount, day in allocs:  # read once, before a retry could rerun op
            n = seq.get(src, 0)
            seq[src] = n + 1
            alloc_rows.append((company, src, n, dest, amount, day))

        def op(conn: Connection) -> int:
            for table, column in (
                ("ar_documents", "id"),
                ("ar_allocations", "src"),
                ("ar_balances", "id"),
            ):
                conn.execute(
                    f"DELETE FROM {q}.{table} WHERE company = %s AND {column} = ANY(%s)",
                    (company, gone),
                )
            conn.execute(
                f"DELETE FROM {q}.ar_allocations WHERE company = %s AND src = ANY(%s)",
                (company, ids),
            )
            with conn.cursor() as cur:
                cur.executemany(
                    f"INSERT INTO {q}.ar_documents (company, id, kind, client, day, amount, link)"
                    " VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (company, id) DO UPDATE"
                    " SET kind = excluded.kind, client = excluded.client, day = excluded.day,"
                    " amount = excluded.amount, link = excluded.link",
                    [(company, *row) for row in docs],
                )
                cur.executemany(
                    f"INSERT INTO {q}.ar_allocations (company, src, seq, dest, amount, day)"
                    " VALUES (%s, %s, %s, %s, %s, %s)",
                    alloc_rows,
                )
            if period_start is not None:
                self._set_period(conn, company, "receivables", period_start)
            return len(ids)

        return self._write("receivables load", op)

    def index(self, company: str) -> _CompanyIndex:
        """The company's receivables as a ledger index."""
        return _CompanyIndex(self, company)

    def clients(self, company: str) -> list[str | None]:
        """Clients with receivable documents, ``None`` first."""
        rows = self._read(
            f"SELECT DISTINCT client FROM {self._q}.ar_documents WHERE company = %s"
            " ORDER BY client NULLS FIRST",
            (company,),
        )
        return [r[0] for r in rows]

    def client_documents(self, company: str, client: str | None) -> list[str]:
        """Ids of one client's documents, sorted."""
        rows = self._read(
            f"SELECT id FROM {self._q}.ar_documents WHERE company = %s"
            " AND client IS NOT DISTINCT FROM %s ORDER BY id",
            (company, client),
        )
        return [r[0] for r in rows]

    def balances(self, company: str, ids: Collection[str]) -> dict[str, BalanceRow]:
        """Stored balance rows of these documents."""
        rows = self._read(
            "SELECT id, outstanding, clear_day, clear_flag, payment_type, bank, receivables"
            f" FROM {self._q}.ar_balances WHERE company = %s AND id = ANY(%s)",
            (company, list(ids)),
        )
        return {r[0]: (r[0], r[1], r[2], r[3], r[4], r[5], r[6]) for r in rows}

    def write_balances(self, company: str, rows: Iterable[BalanceRow]) -> int:
        """Insert or replace balance rows in one transaction."""

        data = [(company, *r) for r in rows]

        def op(conn: Connection) -> int:
            with conn.cursor() as cur:
                cur.executemany(
                    f"INSERT INTO {self._q}.ar_balances (company, id, outstanding, clear_day,"
                    " clear_flag, payment_type, bank, receivables)"
                    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (company, id)"
                    " DO UPDATE SET outstanding = excluded.outstanding,"
                    " clear_day = excluded.clear_day, clear_flag = excluded.clear_flag,"
                    " payment_type = excluded.payment_type, bank = excluded.bank,"
                    " receivables = excluded.receivables",
                    data,
                )
            return len(data)

        return self._write("balance write", op)

    # --------------------------------------------------------------------- WIP

    def _put_wip(self, conn: Connection, data: Sequence[tuple[Any, ...]]) -> int:
        updates = ", ".join(f"{c} = excluded.{c}" for c in _WIP.replace(" ", "").split(",")[1:])
        with conn.cursor() as cur:
            cur.executemany(
                f"INSERT INTO {self._q}.wip_items (company, {_WIP}) VALUES"
                f" ({', '.join(['%s'] * 19)}) ON CONFLICT (company, id) DO UPDATE SET {updates}",
                data,
            )
        return len(data)

    def load_wip(
        self,
        company: str,
        entries: Iterable[WipEntry],
        invoices: Mapping[str, dt.date],
        *,
        period_start: dt.date | None = None,
    ) -> int:
        """Insert or replace entries and invoices (and set the period) in one transaction."""

        data = [_wip_row(company, e) for e in entries]

        def op(conn: Connection) -> int:
            count = self._put_wip(conn, data)
            with conn.cursor() as cur:
                cur.executemany(
                    f"INSERT INTO {self._q}.wip_invoices (company, id, day) VALUES (%s, %s, %s)"
                    " ON CONFLICT (company, id) DO UPDATE SET day = excluded.day",
                    [(company, i, day) for i, day in invoices.items()],
                )
            if period_start is not None:
                self._set_period(conn, company, "wip", period_start)
            return count

        return self._write("WIP load", op)

    def _wip(self, where: str, params: Sequence[Any]) -> list[WipEntry]:
        rows = self._read(
            f"SELECT {_WIP} FROM {self._q}.wip_items WHERE company = %s AND {where} ORDER BY id",
            params,
        )
        return [_wip_entry(r) for r in rows]

    def wip_clients(self, company: str) -> list[str | None]:
        """Clients with WIP entries, ``None`` first."""
        rows = self._read(
            f"SELECT DISTINCT client FROM {self._q}.wip_items WHERE company = %s"
            " ORDER BY client NULLS FIRST",
            (company,),
        )
        return [r[0] for r in rows]

    def wip_by_client(self, company: str, clients: Collection[str | None]) -> list[WipEntry]:
        """The entries of these clients, sorted by id."""
        named = [c for c in clients if c is not None]
        return self._wip(
            "(client = ANY(%s) OR (client IS NULL AND %s))", (company, named, None in clients)
        )

    def wip_by_invoice(self, company: str, invoice: str) -> list[WipEntry]:
        """The entries billed on one invoice, sorted by id."""
        return self._wip("invoice = %s", (company, invoice))

    def wip_by_id(self, company: str, ids: Collection[str]) -> list[WipEntry]:
        """The entries with these ids, sorted by id."""
        return self._wip("id = ANY(%s)", (company, list(ids)))

    def wip_invoices(self, company: str, ids: Collection[str]) -> dict[str, dt.date]:
        """Billing dates of these invoices."""
        rows = self._read(
            f"SELECT id, day FROM {self._q}.wip_invoices WHERE company = %s AND id = ANY(%s)",
            (company, list(ids)),
        )
        return {r[0]: r[1] for r in rows}

    def write_wip(self, company: str, updates: Iterable[WipEntry], deletes: Collection[str]) -> int:
        """Replace ``updates`` and delete ``deletes`` in one transaction."""
        gone = list(deletes)
        data = [_wip_row(company, e) for e in updates]

        def op(conn: Connection) -> int:
            conn.execute(
                f"DELETE FROM {self._q}.wip_items WHERE company = %s AND id = ANY(%s)",
                (company, gone),
            )
            return self._put_wip(conn, data) + len(gone)

        return self._write("WIP write", op)
