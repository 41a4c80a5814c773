"""The inbound mirror on PostgreSQL (:class:`~syncstate.ports.MirrorStore`), for many workers.

The same guarantees as the SQLite mirror, kept the PostgreSQL way:

* **Staged beside, swapped in atomically.** A load writes a fiscal year as a
  new generation in one transaction, each table through one ``COPY``
  (:mod:`~syncstate.adapters.storage.postgres.mirror_load`); ``swap_in`` moves
  the ``mirror_years`` pointers in one transaction; the old generation's rows
  are deleted afterwards. A load that fails or dies leaves at most a staged
  generation nobody points at (:meth:`PostgresMirrorStore.discard_abandoned`).
* **Readers are never blocked.** Reads run in one ``REPEATABLE READ READ ONLY``
  transaction (one snapshot: the old year or the new one, never half); loads,
  swaps and drops take row locks only, which readers do not wait for.
* **Other companies stay readable and writable**: nothing takes a table lock,
  and the company lock is per company.
* **The company lock is a session-level advisory lock**
  (:func:`mirror_lock_key`: the schema and the company, hashed), held on a
  connection of its own until :meth:`~PostgresMirrorStore.unlock`. When the
  holder's process dies, its session ends and the server releases the lock:
  ``stale_after`` is not needed and not used. Advisory locks are
  database-wide, so the key holds the schema: two deployments (schemas) in one
  database never block each other.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

import psycopg
from psycopg import errors as pg_errors
from psycopg_pool import ConnectionPool

from syncstate.adapters.storage.base import utc
from syncstate.adapters.storage.postgres.connections import Connection, PostgresConnections
from syncstate.adapters.storage.postgres.migrations import quote_schema
from syncstate.adapters.storage.postgres.mirror_attempts import (
    end_attempt,
    insert_attempt,
    select_attempts,
)
from syncstate.adapters.storage.postgres.mirror_load import (
    abandoned_generations,
    drop_generation,
    patch_generation,
    stage_generation,
    swap_generations,
)
from syncstate.adapters.storage.postgres.mirror_read import (
    live_generation,
    live_years,
    read_generation,
)
from syncstate.adapters.storage.postgres.mirror_schema import (
    MIRROR_MIGRATIONS_POSTGRES,
    SUMMARIZE,
)
from syncstate.adapters.storage.sqlite.mirror_schema import checked_company
from syncstate.domain.mirror import LoadedYear, MirrorAccount, MirrorYear, YearDrift
from syncstate.domain.mirror_attempts import MirrorAttempt
from syncstate.errors import StorageError
from syncstate.periods import FiscalYear
from syncstate.ports import Progress

__all__ = ["PostgresMirrorStore", "mirror_lock_key"]

_T = TypeVar("_T")
_log = logging.getLogger(__name__)


def mirror_lock_key(schema: str, company: str) -> int:
    """The advisory-lock key of ``company``'s mirror in ``schema`` (a signed bigint)."""
    name = f"syncstate:mirror:{schema}:{company}"
    return int.from_bytes(
        hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True
    )


class PostgresMirrorStore:
    """The mirror in a PostgreSQL schema, shared by any number of worker processes.

    Connections as for :class:`~syncstate.adapters.storage.postgres.state.PostgresStore`
    (exactly one of ``dsn``, ``pool``, ``connect``), or :meth:`beside` a store
    to share its connections and schema. Each held company lock keeps one
    connection, so give the pool room for the locks a process holds at once.

    A schema holding another application's tables (and no syncstate marker) is
    refused unless ``adopt_schema=True``. ``readonly=True`` creates and migrates
    nothing: the schema must already hold a current mirror.
    """

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
        readonly: bool = False,
        _shared: PostgresConnections | None = None,
    ) -> None:
        self.schema = schema
        self._path = f"SET LOCAL search_path TO {quote_schema(schema)}"
        self._owned = _shared is None
        self._db = _shared or PostgresConnections(
            dsn,
            pool=pool,
            connect=connect,
            min_size=min_size,
            max_size=max_size,
            connect_timeout=connect_timeout,
            attempts=attempts,
            adopt_schema=adopt_schema,
        )
        self._mutex = threading.RLock()
        self._held: dict[str, tuple[str, contextlib.ExitStack, Connection]] = {}
        try:
            if readonly:
                self._db.check("mirror", MIRROR_MIGRATIONS_POSTGRES, schema=schema)
            else:
                self._db.migrate("mirror", MIRROR_MIGRATIONS_POSTGRES, schema=schema)
        except BaseException:
            self.close()
            raise

    @classmethod
    def beside(cls, store: Any) -> PostgresMirrorStore:
        """A mirror in the schema of ``store`` (a PostgreSQL state or bundle store), on
        its connections (closed with it)."""
        return cls(schema=store.schema, _shared=store._db)

    def __repr__(self) -> str:
        return f"PostgresMirrorStore({self._db.shown!r}, schema={self.schema!r})"

    def _write(self, what: str, op: Callable[[Connection], _T]) -> _T:
        def run(conn: Connection) -> _T:
            conn.execute(self._path)
            return op(conn)

        return self._db.run(what, run)

    def _read(self, what: str, op: Callable[[Connection], _T]) -> _T:
        def run(conn: Connection) -> _T:
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            conn.execute(self._path)
            return op(conn)

        return self._db.run(what, run)

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
        """Write ``year`` as a new generation (one transaction, ``COPY``); return its id."""
        checked_company(company)
        moment = utc(at)
        if progress is not None:
            progress.start(len(year.vouchers), f"loading {year.year}")
        try:
            generation = self._write(
                "stage a mirror year",
                lambda conn: stage_generation(
                    conn, company, year, source=source, at=moment, progress=progress
                ),
            )
        finally:
            if progress is not None:
                progress.finish()
        self._db.run("summarize the mirror index", self._summarize, transaction=False)
        return generation

    def _summarize(self, conn: Connection) -> None:
        # Its own short transaction: summarising locks the table against other
        # summaries and VACUUM (not against readers or writers) until commit. If that
        # lock is not free within a second the step is skipped: unsummarised ranges
        # are scanned by every read until autovacuum summarises them.
        try:
            with conn.transaction():
                conn.execute(self._path)
                conn.execute("SET LOCAL lock_timeout = '1s'")
                conn.execute(SUMMARIZE)
        except pg_errors.LockNotAvailable:
            _log.info("mirror index not summarised now (busy); autovacuum will")

    def swap_in(
        self,
        company: str,
        staged: Mapping[FiscalYear, int],
        accounts: Sequence[MirrorAccount],
        *,
        at: dt.datetime,
    ) -> None:
        """Point every staged year at its new generation in one transaction; drop the old."""
        checked_company(company)
        moment = utc(at)
        retired = self._write(
            "swap mirror years",
            lambda conn: swap_generations(conn, company, staged, accounts, at=moment),
        )
        for generation in retired:
            self._drop(generation)

    def _drop(self, generation: int) -> None:
        self._write("drop a mirror generation", lambda conn: drop_generation(conn, generation))

    def discard(self, company: str, generation: int) -> None:
        """Drop a staged generation of ``company`` (a live one is left alone)."""

        def drop(conn: Connection) -> None:
            row = conn.execute(
                "SELECT company, status FROM mirror_generations WHERE id = %s FOR UPDATE",
                (generation,),
            ).fetchone()
            if row is not None and row[0] == company and row[1] != "live":
                drop_generation(conn, generation)

        self._write("discard a mirror generation", drop)

    def discard_abandoned(self, company: str) -> int:
        """Drop generations left by crashed loads of ``company``; return how many."""
        found = self._read("abandoned generations", lambda c: abandoned_generations(c, company))
        for generation in found:
            self.discard(company, generation)
        return len(found)

    # ------------------------------------------------------------------ reading

    def read_year(self, company: str, year: FiscalYear) -> MirrorYear | None:
        """The live data of one fiscal year, read from one snapshot."""
        checked_company(company)

        def read(conn: Connection) -> MirrorYear | None:
            generation = live_generation(conn, company, year)
            return None if generation is None else read_generation(conn, year, generation)

        return self._read("read a mirror year", read)

    def loaded_years(self, company: str) -> list[LoadedYear]:
        """The live fiscal years of ``company`` with their counts, oldest first."""
        checked_company(company)
        return self._read("loaded mirror years", lambda conn: live_years(conn, company))

    def accounts(self, company: str) -> list[MirrorAccount]:
        """The mirrored chart of accounts, by number."""
        checked_company(company)
        rows = self._read(
            "mirror accounts",
            lambda conn: conn.execute(
                "SELECT number, name, type FROM mirror_accounts WHERE company = %s ORDER BY number",
                (company,),
            ).fetchall(),
        )
        return [MirrorAccount(number=n, name=name, type=t) for n, name, t in rows]

    def companies(self) -> list[str]:
        """Companies with at least one live fiscal year."""
        rows = self._read(
            "mirror companies",
            lambda conn: conn.execute(
                "SELECT DISTINCT company FROM mirror_years ORDER BY 1"
            ).fetchall(),
        )
        return [str(r[0]) for r in rows]

    # ----------------------------------------------------------------- clearing

    def clear_years(self, company: str, years: Iterable[FiscalYear]) -> dict[str, int]:
        """Remove the live data of ``years`` in one transaction; return what went."""
        checked_company(company)
        chosen = list(years)

        def clear(conn: Connection) -> dict[str, int]:
            counts = {"years": 0, "vouchers": 0, "transactions": 0, "balances": 0}
            for year in chosen:
                row = conn.execute(
                    "DELETE FROM mirror_years WHERE company = %s AND year_start = %s"
                    " RETURNING generation",
                    (company, year.start),
                ).fetchone()
                if row is None:
                    continue
                gone = drop_generation(conn, int(row[0]))
                counts["years"] += 1
                counts["vouchers"] += gone["mirror_vouchers"]
                counts["transactions"] += gone["mirror_transactions"]
                counts["balances"] += gone["mirror_balances"] + gone["mirror_period_balances"]
            return counts

        return self._write("clear mirror years", clear)

    def apply_drift(self, company: str, drift: YearDrift, *, at: dt.datetime) -> None:
        """Apply the changes of ``drift`` to the live year in one transaction."""
        checked_company(company)
        if drift.new_year:
            raise StorageError(f"{drift.year} is not in the mirror: load it, do not patch it")
        moment = utc(at)

        def patch(conn: Connection) -> None:
            row = conn.execute(
                "SELECT generation FROM mirror_years WHERE company = %s AND year_start = %s"
                " FOR UPDATE",
                (company, drift.year.start),
            ).fetchone()
            if row is None:
                raise StorageError(f"{drift.year} of company {company} is not in the mirror")
            patch_generation(conn, int(row[0]), drift)
            conn.execute(
                "UPDATE mirror_years SET loaded_at = %s WHERE company = %s AND year_start = %s",
                (moment, company, drift.year.start),
            )

        self._write("apply mirror drift", patch)

    # -------------------------------------------------------------------- locks

    def try_lock(
        self, company: str, *, holder: str, at: dt.datetime, stale_after: dt.timedelta
    ) -> bool:
        """Take the company's advisory lock on a connection of its own; False if held.

        The same ``holder`` may take it again. ``at`` and ``stale_after`` are not
        used: the server releases the lock when the holding session ends.
        """
        checked_company(company)
        with self._mutex:
            held = self._held.get(company)
            if held is not None:
                return held[0] == holder
            stack = contextlib.ExitStack()
            try:
                conn = stack.enter_context(self._db.connection())
                with conn.transaction():
                    row = conn.execute(
                        "SELECT pg_try_advisory_lock(%s)", (mirror_lock_key(self.schema, company),)
                    ).fetchone()
            except psycopg.Error as exc:
                stack.close()
                raise StorageError(f"cannot lock company {company!r}: {exc}") from exc
            except BaseException:
                stack.close()
                raise
            if not (row and row[0]):
                stack.close()
                return False
            self._held[company] = (holder, stack, conn)
            return True

    def lock_holder(self, company: str) -> str | None:
        """Who holds the company's lock: a holder of this store, another session, or None."""
        with self._mutex:
            held = self._held.get(company)
            if held is not None:
                return held[0]
        key = mirror_lock_key(self.schema, company)
        row = self._db.run(
            "lock holder",
            lambda conn: conn.execute(
                "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
                " AND database = (SELECT oid FROM pg_database"
                " WHERE datname = current_database())"
                " AND classid = %s::bigint::oid AND objid = %s::bigint::oid AND objsubid = 1",
                ((key >> 32) & 0xFFFFFFFF, key & 0xFFFFFFFF),
            ).fetchone(),
        )
        return None if row is None else f"PostgreSQL session {row[0]}"

    def unlock(self, company: str, *, holder: str) -> None:
        """Release the company's lock if ``holder`` holds it (through this store)."""
        with self._mutex:
            held = self._held.get(company)
            if held is None or held[0] != holder:
                return
            del self._held[company]
            _, stack, conn = held
            with stack:
                try:
                    with conn.transaction():
                        conn.execute(
                            "SELECT pg_advisory_unlock(%s)",
                            (mirror_lock_key(self.schema, company),),
                        )
                except psycopg.Error as exc:
                    raise StorageError(
                        f"the lock of company {company!r} was lost while held (its "
                        f"connection broke, so others may have run meanwhile): {exc}"
                    ) from exc

    # ----------------------------------------------------------------- attempts

    def record_attempt(
        self,
        company: str,
        years: Sequence[FiscalYear] | None,
        *,
        operation: str,
        holder: str,
        at: dt.datetime,
        outcome: str = "running",
        reason: str = "",
    ) -> int:
        """Record a run on ``years`` (None: all) in one transaction; return its id."""
        checked_company(company)
        chosen = None if years is None else list(years)
        return self._write(
            "record a mirror attempt",
            lambda conn: insert_attempt(
                conn,
                company,
                chosen,
                operation=operation,
                holder=holder,
                at=at,
                outcome=outcome,
                reason=reason,
            ),
        )

    def end_attempt(
        self, company: str, attempt: int, *, outcome: str, reason: str, at: dt.datetime
    ) -> None:
        """Record how the running attempt ``attempt`` ended."""
        self._write(
            "end a mirror attempt",
            lambda conn: end_attempt(conn, company, attempt, outcome=outcome, reason=reason, at=at),
        )

    def attempts(self, company: str, *, limit: int = 20) -> list[MirrorAttempt]:
        """The newest ``limit`` attempt rows of ``company``, newest first."""
        checked_company(company)
        return self._read("mirror attempts", lambda conn: select_attempts(conn, company, limit))

    def close(self) -> None:
        """Release the locks this store holds and close the pool it opened."""
        with self._mutex:
            for company, (holder, _, _) in list(self._held.items()):
                with contextlib.suppress(StorageError):
                    self.unlock(company, holder=holder)
        if self._owned:
            self._db.close()

    def __enter__(self) -> PostgresMirrorStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
