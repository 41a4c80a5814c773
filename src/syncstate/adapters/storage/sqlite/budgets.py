"""Shared budgets in SQLite: for several worker processes on one machine.

Two tables in the store's file (component ``budgets``): ``budget_scopes`` (next
free request times and the hold, per back end and company) and ``budget_slots``
(concurrency slots with their lease). A take is one ``BEGIN IMMEDIATE``
transaction: processes queue on SQLite's write lock, so two never hand out the
same slot or request time; a renewal (the heartbeat of a long request) is one
such transaction too. Times are the machine's wall clock (``time.time``),
which every process on it shares.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Sequence

from syncstate.adapters.storage.budget_rules import plan_take
from syncstate.adapters.storage.sqlite.files import open_sqlite, write_transaction
from syncstate.ports.budget import BudgetLimits, BudgetScope, BudgetUsage, Grant

__all__ = ["BUDGET_MIGRATIONS", "SQLiteBudgetStore"]

#: slots renewed per statement (well below SQLite's limit of bound parameters)
_CHUNK = 500

#: the budgets schema (SQLite dialect); append, never edit a released step
BUDGET_MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE budget_scopes (
        backend TEXT NOT NULL,
        company TEXT NOT NULL,
        next_free REAL NOT NULL DEFAULT 0,
        next_batch REAL NOT NULL DEFAULT 0,
        held_until REAL NOT NULL DEFAULT 0,
        PRIMARY KEY (backend, company)
    );
    CREATE TABLE budget_slots (
        slot TEXT PRIMARY KEY,
        backend TEXT NOT NULL,
        company TEXT NOT NULL,
        holder TEXT NOT NULL,
        lease_until REAL NOT NULL
    );
    CREATE INDEX budget_slots_by_scope ON budget_slots (backend, company, lease_until);
    """,
)


class SQLiteBudgetStore:
    """A :class:`~syncstate.ports.BudgetStore` in a SQLite file (the state store's, or its own)."""

    def __init__(
        self,
        path: str | os.PathLike[str] = "syncstate.db",
        *,
        timeout: float = 30.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = str(path)
        self._conn = open_sqlite(
            path, component="budgets", migrations=BUDGET_MIGRATIONS, timeout=timeout
        )
        self._lock = threading.RLock()
        self._clock = clock

    def __repr__(self) -> str:
        return f"SQLiteBudgetStore({self.path!r})"

    def _row(self, conn: sqlite3.Connection, scope: BudgetScope, now: float) -> tuple[float, ...]:
        conn.execute(
            "DELETE FROM budget_slots WHERE backend = ? AND company = ? AND lease_until <= ?",
            (scope.backend, scope.company, now),
        )
        row = conn.execute(
            "SELECT next_free, next_batch, held_until FROM budget_scopes"
            " WHERE backend = ? AND company = ?",
            (scope.backend, scope.company),
        ).fetchone()
        if row is None:
            conn.execute(
                "INSERT INTO budget_scopes (backend, company) VALUES (?, ?)",
                (scope.backend, scope.company),
            )
            return (0.0, 0.0, 0.0)
        return tuple(float(x) for x in row)

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
        """Take a slot and the next request time in one transaction (see the port)."""
        with write_transaction(self._conn, self._lock, self.path) as conn:
            now = self._clock()
            if release:
                conn.executemany("DELETE FROM budget_slots WHERE slot = ?", [(s,) for s in release])
            next_free, next_batch, held_until = self._row(conn, scope, now)
            live = 0
            if limits.concurrent is not None:
                live = int(
                    conn.execute(
                        "SELECT count(*) FROM budget_slots WHERE backend = ? AND company = ?",
                        (scope.backend, scope.company),
                    ).fetchone()[0]
                )
            plan = plan_take(
                limits,
                now=now,
                next_free=next_free,
                next_batch=next_batch,
                held_until=held_until,
                live_slots=live,
                batch=batch,
                cost=max(cost, 1),
            )
            if not plan.granted:
                return Grant(slot=None, wait=plan.wait, reason=plan.reason)
            conn.execute(
                "UPDATE budget_scopes SET next_free = ?, next_batch = ?"
                " WHERE backend = ? AND company = ?",
                (plan.next_free, plan.next_batch, scope.backend, scope.company),
            )
            slot = uuid.uuid4().hex
            conn.execute(
                "INSERT INTO budget_slots (slot, backend, company, holder, lease_until)"
                " VALUES (?, ?, ?, ?, ?)",
                (slot, scope.backend, scope.company, holder, now + plan.wait + lease),
            )
            return Grant(slot=slot, wait=plan.wait)

    def release(self, scope: BudgetScope, slots: Sequence[str]) -> None:
        """Hand slots back."""
        if not slots:
            return
        with write_transaction(self._conn, self._lock, self.path) as conn:
            conn.executemany(
                "DELETE FROM budget_slots WHERE slot = ? AND backend = ? AND company = ?",
                [(s, scope.backend, scope.company) for s in slots],
            )

    def renew(
        self, scope: BudgetScope, slots: Sequence[str], *, lease: float = 130.0
    ) -> tuple[str, ...]:
        """Extend the leases of live ``slots`` in one transaction (see the port)."""
        wanted = list(dict.fromkeys(slots))
        if not wanted:
            return ()
        renewed: list[str] = []
        with write_transaction(self._conn, self._lock, self.path) as conn:
            now = self._clock()
            for start in range(0, len(wanted), _CHUNK):
                chunk = wanted[start : start + _CHUNK]
                marks = ", ".join("?" * len(chunk))
                renewed.extend(
                    str(r[0])
                    for r in conn.execute(
                        "UPDATE budget_slots SET lease_until = max(lease_until, ?)"
                        f" WHERE slot IN ({marks}) AND backend = ? AND company = ?"
                        " AND lease_until > ? RETURNING slot",
                        (now + lease, *chunk, scope.backend, scope.company, now),
                    ).fetchall()
                )
        order = {s: i for i, s in enumerate(wanted)}
        return tuple(sorted(renewed, key=order.__getitem__))

    def hold(self, scope: BudgetScope, seconds: float) -> None:
        """Hold the scope back for ``seconds`` (never shortens a hold)."""
        with write_transaction(self._conn, self._lock, self.path) as conn:
            now = self._clock()
            self._row(conn, scope, now)
            conn.execute(
                "UPDATE budget_scopes SET held_until = max(held_until, ?)"
                " WHERE backend = ? AND company = ?",
                (now + max(seconds, 0.0), scope.backend, scope.company),
            )

    def usage(self, scope: BudgetScope) -> BudgetUsage:
        """Live slots and the hold still to run."""
        with write_transaction(self._conn, self._lock, self.path) as conn:
            now = self._clock()
            held_until = self._row(conn, scope, now)[2]
            holders = [
                str(r[0])
                for r in conn.execute(
                    "SELECT holder FROM budget_slots WHERE backend = ? AND company = ?",
                    (scope.backend, scope.company),
                )
            ]
        return BudgetUsage(
            slots=len(holders),
            held_for=max(held_until - now, 0.0),
            holders=tuple(sorted(set(holders))),
        )

    def close(self) -> None:
        """Close the file."""
        with self._lock:
            self._conn.close()

    def __enter__(self) -> SQLiteBudgetStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
