"""Shared budgets on PostgreSQL: for worker processes on any number of machines.

Two tables in the store's schema (component ``budgets``), ``budget_scopes`` and
``budget_slots``, and one function, ``budget_take``, that applies the rule of
:func:`~syncstate.adapters.storage.budget_rules.plan_take` inside the server:
a take is a single ``SELECT`` (one round trip, autocommit), serialised per
company by a row lock on its scope. Times are the server's clock
(``clock_timestamp()``), so the workers' clocks need not agree. The tables are
``UNLOGGED`` (no write-ahead log, so a take costs no disk flush): after a
database crash they come back empty, which only frees every slot and restarts
the request rate, as a restart of every worker would.

A renewal (:meth:`PostgresBudgetStore.renew`, the heartbeat of a long request)
needs no schema change: it locks the scope's row and updates ``lease_until`` of
the slots still live, pipelined in one round trip.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from syncstate.adapters.storage.postgres.connections import Connection, PostgresConnections
from syncstate.adapters.storage.postgres.migrations import quote_schema
from syncstate.errors import StorageError
from syncstate.ports.budget import BudgetLimits, BudgetScope, BudgetUsage, Grant

__all__ = ["BUDGET_MIGRATIONS_POSTGRES", "PostgresBudgetStore"]

#: the budgets schema (PostgreSQL dialect); append, never edit a released step
BUDGET_MIGRATIONS_POSTGRES: tuple[str, ...] = (
    """
    CREATE UNLOGGED TABLE budget_scopes (
        backend TEXT NOT NULL,
        company TEXT NOT NULL,
        next_free DOUBLE PRECISION NOT NULL DEFAULT 0,
        next_batch DOUBLE PRECISION NOT NULL DEFAULT 0,
        held_until DOUBLE PRECISION NOT NULL DEFAULT 0,
        PRIMARY KEY (backend, company)
    );
    CREATE UNLOGGED TABLE budget_slots (
        slot UUID PRIMARY KEY,
        backend TEXT NOT NULL,
        company TEXT NOT NULL,
        holder TEXT NOT NULL,
        lease_until DOUBLE PRECISION NOT NULL
    );
    CREATE INDEX budget_slots_by_scope ON budget_slots (backend, company, lease_until);
    CREATE FUNCTION budget_take(
        p_backend TEXT, p_company TEXT, p_interval DOUBLE PRECISION,
        p_batch_interval DOUBLE PRECISION, p_concurrent INTEGER, p_holder TEXT,
        p_lease DOUBLE PRECISION, p_release UUID[],
        OUT slot TEXT, OUT wait DOUBLE PRECISION, OUT reason TEXT
    ) LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
    DECLARE
        v_now DOUBLE PRECISION;
        v_row budget_scopes%ROWTYPE;
        v_live INTEGER;
        v_dead INTEGER;
        v_at DOUBLE PRECISION;
    BEGIN
        IF cardinality(p_release) > 0 THEN
            DELETE FROM budget_slots s WHERE s.slot = ANY (p_release)
                AND s.backend = p_backend AND s.company = p_company;
        END IF;
        -- one statement creates the scope on first use and locks its row
        INSERT INTO budget_scopes AS b (backend, company) VALUES (p_backend, p_company)
            ON CONFLICT (backend, company) DO UPDATE SET backend = b.backend
            RETURNING b.* INTO v_row;
        -- the time once the row is ours: a wait for the lock must not space requests closer
        v_now := extract(epoch FROM clock_timestamp());
        IF v_row.held_until > v_now THEN
            slot := NULL; wait := v_row.held_until - v_now; reason := 'held';
            RETURN;
        END IF;
        IF p_concurrent IS NOT NULL THEN
            SELECT count(*) FILTER (WHERE s.lease_until > v_now),
                   count(*) FILTER (WHERE s.lease_until <= v_now)
                INTO v_live, v_dead
                FROM budget_slots s WHERE s.backend = p_backend AND s.company = p_company;
            IF v_dead > 0 THEN
                DELETE FROM budget_slots s WHERE s.backend = p_backend
                    AND s.company = p_company AND s.lease_until <= v_now;
            END IF;
            IF v_live >= p_concurrent THEN
                slot := NULL; wait := least(greatest(p_interval, 0.01), 0.25); reason := 'busy';
                RETURN;
            END IF;
        END IF;
        v_at := greatest(v_now, v_row.next_free);
        IF p_batch_interval > 0 THEN
            v_at := greatest(v_at, v_row.next_batch);
        END IF;
        UPDATE budget_scopes b SET
            next_free = CASE WHEN p_interval > 0 THEN v_at + p_interval ELSE b.next_free END,
            next_batch = CASE WHEN p_batch_interval > 0
                THEN v_at + p_batch_interval ELSE b.next_batch END
            WHERE b.backend = p_backend AND b.company = p_company;
        slot := gen_random_uuid()::TEXT;
        INSERT INTO budget_slots
            VALUES (slot::UUID, p_backend, p_company, p_holder, v_at + p_lease);
        wait := v_at - v_now;
        reason := 'granted';
    END
    $$;
    """,
)


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


class PostgresBudgetStore:
    """A :class:`~syncstate.ports.BudgetStore` in a PostgreSQL schema, for many machines.

    Opens its own small pool of autocommit connections to ``dsn`` (a take is
    one statement, so it needs no transaction block). Not fork-safe: make one
    per process.
    """

    def __init__(
        self,
        dsn: str,
        *,
        schema: str = "syncstate",
        max_size: int = 4,
        connect_timeout: float = 10.0,
    ) -> None:
        self.schema = schema
        self._q = quote_schema(schema)
        migrator = PostgresConnections(dsn, max_size=1, connect_timeout=connect_timeout)
        try:
            migrator.migrate("budgets", BUDGET_MIGRATIONS_POSTGRES, schema=schema)
        finally:
            migrator.close()
        self.shown = migrator.shown
        self._pool: ConnectionPool[Any] = ConnectionPool(
            dsn,
            min_size=1,
            max_size=max_size,
            timeout=connect_timeout,
            kwargs={"autocommit": True},
            name="syncstate-budgets",
            open=True,
        )

    def __repr__(self) -> str:
        return f"PostgresBudgetStore({self.shown!r}, schema={self.schema!r})"

    @contextlib.contextmanager
    def _connection(self, what: str) -> Iterator[Connection]:
        try:
            with self._pool.connection() as conn:
                yield conn
        except (psycopg.Error, PoolTimeout) as exc:
            raise StorageError(f"PostgreSQL budget {what} failed ({self.shown}): {exc}") from exc

    def take(
        self,
        scope: BudgetScope,
        limits: BudgetLimits,
        *,
        holder: str,
        batch: bool = False,
        cost: int = 1,
        lease: float = 130.0,
        release: Sequence[str] = (),
    ) -> Grant:
        """Take a slot and the next request time in one statement (see the port)."""
        interval = 60.0 * max(cost, 1) / limits.per_minute if limits.per_minute else 0.0
        batch_interval = (
            60.0 / limits.batch_per_minute if batch and limits.batch_per_minute else 0.0
        )
        with self._connection("take") as conn:
            row = conn.execute(
                f"SELECT slot, wait, reason FROM {self._q}.budget_take("
                "%s, %s, %s, %s, %s, %s, %s, %s::uuid[])",
                (
                    scope.backend,
                    scope.company,
                    interval,
                    batch_interval,
                    limits.concurrent,
                    holder,
                    lease,
                    list(release),
                ),
            ).fetchone()
        assert row is not None  # a function with OUT parameters answers one row
        slot, wait, reason = row
        return Grant(slot=slot, wait=float(wait), reason=reason)

    def release(self, scope: BudgetScope, slots: Sequence[str]) -> None:
        """Hand slots back (one statement)."""
        if not slots:
            return
        with self._connection("release") as conn:
            conn.execute(
                f"DELETE FROM {self._q}.budget_slots WHERE slot = ANY (%s::uuid[])"
                " AND backend = %s AND company = %s",
                (list(slots), scope.backend, scope.company),
            )

    def renew(
        self, scope: BudgetScope, slots: Sequence[str], *, lease: float = 130.0
    ) -> tuple[str, ...]:
        """Extend the leases of live ``slots`` (see the port): one round trip, pipelined.

        Locks the scope's row first, as a take does, so a take never counts a slot
        free that the renewal then brings back; a slot already expired is not renewed.
        """
        wanted = [s for s in dict.fromkeys(slots) if _is_uuid(s)]  # others are no slot here
        if not wanted:
            return ()
        with self._connection("renew") as conn:
            pipeline = conn.pipeline() if psycopg.Pipeline.is_supported() else None
            with pipeline or contextlib.nullcontext(), conn.transaction():
                conn.execute(
                    f"SELECT 1 FROM {self._q}.budget_scopes WHERE backend = %s AND company = %s"
                    " FOR UPDATE",
                    (scope.backend, scope.company),
                )
                cursor = conn.execute(
                    f"UPDATE {self._q}.budget_slots SET lease_until = greatest(lease_until,"
                    " extract(epoch FROM clock_timestamp()) + %s)"
                    " WHERE slot = ANY (%s::uuid[]) AND backend = %s AND company = %s"
                    " AND lease_until > extract(epoch FROM clock_timestamp())"
                    " RETURNING slot::text",
                    (lease, wanted, scope.backend, scope.company),
                )
            renewed = {str(r[0]) for r in cursor.fetchall()}
        return tuple(s for s in wanted if s in renewed)

    def hold(self, scope: BudgetScope, seconds: float) -> None:
        """Hold the scope back for ``seconds`` (never shortens a hold)."""
        with self._connection("hold") as conn:
            conn.execute(
                f"INSERT INTO {self._q}.budget_scopes AS b (backend, company, held_until)"
                " VALUES (%s, %s, extract(epoch FROM clock_timestamp()) + %s)"
                " ON CONFLICT (backend, company) DO UPDATE"
                " SET held_until = greatest(b.held_until, excluded.held_until)",
                (scope.backend, scope.company, max(seconds, 0.0)),
            )

    def usage(self, scope: BudgetScope) -> BudgetUsage:
        """Live slots and the hold still to run."""
        with self._connection("usage") as conn:
            rows = conn.execute(
                f"SELECT s.holder, greatest(coalesce((SELECT b.held_until"
                f" FROM {self._q}.budget_scopes b WHERE b.backend = %s AND b.company = %s),"
                " 0) - extract(epoch FROM clock_timestamp()), 0)"
                f" FROM (SELECT NULL::text AS holder UNION ALL SELECT holder"
                f" FROM {self._q}.budget_slots WHERE backend = %s AND company = %s"
                " AND lease_until > extract(epoch FROM clock_timestamp())) s",
                (scope.backend, scope.company, scope.backend, scope.company),
            ).fetchall()
        holders = [str(r[0]) for r in rows if r[0] is not None]
        return BudgetUsage(
            slots=len(holders),
            held_for=float(rows[0][1]) if rows else 0.0,
            holders=tuple(sorted(set(holders))),
        )

    def close(self) -> None:
        """Close the pool."""
        self._pool.close()

    def __enter__(self) -> PostgresBudgetStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
