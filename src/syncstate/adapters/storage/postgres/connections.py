"""Where a PostgreSQL store gets its connections, how it retries, and how it locks.

:class:`PostgresConnections` hands out connections from a
:class:`psycopg_pool.ConnectionPool` (its own, made from a DSN, or the host's)
or from a host-supplied factory, runs one operation per transaction, and
retries the failures after which running again is safe (see
:func:`is_transient`). :meth:`PostgresConnections.company_lock` is the
per-company advisory lock. The DSN's password never appears in ``repr``, logs
or error messages (:func:`mask_dsn`).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

import psycopg
import tenacity
from psycopg import errors as pg_errors
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg_pool import ConnectionPool, PoolTimeout

from syncstate.errors import CompanyBusy, ConfigurationError, StorageError

__all__ = [
    "Connection",
    "PostgresConnections",
    "TransientStorageError",
    "company_lock_key",
    "is_transient",
    "mask_dsn",
]

_log = logging.getLogger(__name__)
_T = TypeVar("_T")
#: a psycopg connection with any row factory
Connection = psycopg.Connection[Any]


def mask_dsn(dsn: str) -> str:
    """``dsn`` as ``key=value`` pairs with the password replaced by ``***``."""
    try:
        params = conninfo_to_dict(dsn)
    except psycopg.ProgrammingError:
        return "<unparsable DSN>"
    if params.get("password"):
        params["password"] = "***"
    return make_conninfo("", **params)


def company_lock_key(company: str) -> int:
    """The advisory-lock key of ``company``: a stable signed 64-bit hash of its name."""
    digest = hashlib.blake2b(f"syncstate:company:{company}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class TransientStorageError(StorageError):
    """The operation rolled back for a passing reason; running it again is safe."""


def is_transient(exc: BaseException) -> bool:
    """Whether an operation that raised ``exc`` rolled back and may be retried.

    True for connections that could not be made or were lost before the commit
    (:class:`TransientStorageError`), serialization failures and deadlocks.
    False for a connection lost during the commit (the outcome is unknown) and
    for every other error.
    """
    return isinstance(
        exc, TransientStorageError | pg_errors.SerializationFailure | pg_errors.DeadlockDetected
    )


class PostgresConnections:
    """Connections for a store: exactly one of ``dsn``, ``pool`` or ``connect``.

    With ``dsn`` a pool of ``min_size`` to ``max_size`` connections is opened
    and owned (closed by :meth:`close`); a host's ``pool`` is used and left
    open; a host's ``connect`` factory is called per operation and the
    connection closed afterwards. Transient failures are retried up to
    ``attempts`` times with jittered exponential back-off.

    :meth:`migrate` refuses a schema that holds another application's tables and
    no syncstate marker (a
    :class:`~syncstate.adapters.storage.postgres.migrations.ForeignSchemaError`)
    unless ``adopt_schema=True``; :meth:`check` only reads.
    """

    def __init__(
        self,
        dsn: str | None = None,
        *,
        pool: ConnectionPool[Any] | None = None,
        connect: Callable[[], Connection] | None = None,
        min_size: int = 1,
        max_size: int = 4,
        connect_timeout: float = 10.0,
        attempts: int = 5,
        adopt_schema: bool = False,
    ) -> None:
        #: whether :meth:`migrate` may add syncstate's tables to a schema holding others
        self.adopt_schema = adopt_schema
        if sum(x is not None for x in (dsn, pool, connect)) != 1:
            raise ConfigurationError("give exactly one of dsn, pool or connect for PostgreSQL")
        #: where the connections go, safe to show (no password)
        self.shown = mask_dsn(dsn) if dsn is not None else ("<host pool>" if pool else "<host>")
        self._pool = pool
        self._owns_pool = False
        self._connect = connect
        self._retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception(is_transient),
            stop=tenacity.stop_after_attempt(max(1, attempts)),
            wait=tenacity.wait_random_exponential(multiplier=0.05, max=2.0),
            before_sleep=self._note_retry,
            reraise=True,
        )
        if dsn is not None:
            self._pool = ConnectionPool(
                dsn,
                min_size=min_size,
                max_size=max(min_size, max_size),
                timeout=connect_timeout,
                check=ConnectionPool.check_connection,
                name="syncstate",
                open=False,
            )
            self._pool.open(wait=False)
            self._owns_pool = True

    def __repr__(self) -> str:
        return f"PostgresConnections({self.shown!r})"

    @contextlib.contextmanager
    def connection(self) -> Iterator[Connection]:
        """A connection for the ``with`` block (returned to the pool or closed after)."""
        if self._pool is not None:
            with self._pool.connection() as conn:
                yield conn
        else:
            assert self._connect is not None
            conn = self._connect()
            try:
                yield conn
            finally:
                conn.close()

    def _once(self, what: str, op: Callable[[Connection], _T], transaction: bool) -> _T:
        with contextlib.ExitStack() as stack:
            try:
                conn = stack.enter_context(self.connection())
            except (psycopg.OperationalError, PoolTimeout) as exc:
                raise TransientStorageError(
                    f"cannot connect to PostgreSQL ({self.shown}): {exc}"
                ) from exc
            committing = False
            try:
                if not transaction:
                    return op(conn)
                with conn.transaction():
                    result = op(conn)
                    committing = True
                return result
            except (pg_errors.SerializationFailure, pg_errors.DeadlockDetected):
                raise
            except psycopg.OperationalError as exc:
                if committing:
                    raise StorageError(
                        f"PostgreSQL connection lost while committing {what}; it may or may "
                        f"not have been applied: {exc}"
                    ) from exc
                raise TransientStorageError(
                    f"PostgreSQL connection lost during {what}: {exc}"
                ) from exc
            except psycopg.Error as exc:
                raise StorageError(f"PostgreSQL {what} failed: {exc}") from exc

    def run(self, what: str, op: Callable[[Connection], _T], *, transaction: bool = True) -> _T:
        """Run ``op(connection)`` in one transaction, retrying transient failures.

        ``what`` names the operation in errors and logs. With
        ``transaction=False`` ``op`` manages its own transactions.
        """
        try:
            result: _T = self._retrying(self._once, what, op, transaction)
        except (pg_errors.SerializationFailure, pg_errors.DeadlockDetected) as exc:
            raise StorageError(f"PostgreSQL {what} kept conflicting: {exc}") from exc
        return result

    def _note_retry(self, state: tenacity.RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        what = state.args[0] if state.args else "operation"
        _log.warning("retrying PostgreSQL %s on %s after: %s", what, self.shown, exc)

    @contextlib.contextmanager
    def company_lock(self, company: str, *, wait: bool = False) -> Iterator[None]:
        """Hold the advisory lock of ``company`` for the ``with`` block.

        Raises :class:`~syncstate.errors.CompanyBusy` when another session
        holds it, unless ``wait=True`` (then it waits). The lock keeps one
        connection until the block ends; if that connection dies, the server
        releases the lock.
        """
        key = company_lock_key(company)
        with contextlib.ExitStack() as stack:
            try:
                conn = stack.enter_context(self.connection())
                with conn.transaction():
                    if wait:
                        conn.execute("SELECT pg_advisory_lock(%s)", (key,))
                        got = True
                    else:
                        row = conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
                        got = bool(row and row[0])
                    holder = None if got else _lock_holder(conn, key)
            except (psycopg.Error, PoolTimeout) as exc:
                raise StorageError(f"cannot lock company {company!r}: {exc}") from exc
            if not got:
                raise CompanyBusy(company=company, holder=holder or "")
            yield
            try:
                with conn.transaction():
                    conn.execute("SELECT pg_advisory_unlock(%s)", (key,))
            except psycopg.Error as exc:
                raise StorageError(
                    f"the lock of company {company!r} was lost while held (its connection "
                    f"broke, so others may have run meanwhile): {exc}"
                ) from exc

    def migrate(self, component: str, steps: Sequence[str], *, schema: str) -> None:
        """Bring ``component``'s tables in ``schema`` up to date (under the migration lock).

        A schema holding other tables and no syncstate marker is refused unless the
        connections were made with ``adopt_schema=True``.
        """
        from syncstate.adapters.storage.postgres.migrations import migrate_postgres

        self.run(
            f"migrate {component}",
            lambda conn: migrate_postgres(
                conn, component, steps, schema=schema, adopt=self.adopt_schema
            ),
            transaction=False,
        )

    def check(self, component: str, steps: Sequence[str], *, schema: str) -> None:
        """Check, reading only, that ``component`` in ``schema`` is syncstate's and current
        (:func:`~syncstate.adapters.storage.postgres.migrations.check_postgres`)."""
        from syncstate.adapters.storage.postgres.migrations import check_postgres

        def read(conn: Connection) -> None:
            conn.execute("SET TRANSACTION READ ONLY")
            check_postgres(conn, component, steps, schema=schema)

        self.run(f"check {component}", read)

    def close(self) -> None:
        """Close the pool opened here (a host's pool or factory is left alone)."""
        if self._owns_pool and self._pool is not None:
            self._pool.close()


def _lock_holder(conn: Connection, key: int) -> str | None:
    row = conn.execute(
        "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
        " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        " AND classid = %s::bigint::oid AND objid = %s::bigint::oid AND objsubid = 1",
        ((key >> 32) & 0xFFFFFFFF, key & 0xFFFFFFFF),
    ).fetchone()
    return None if row is None else f"PostgreSQL session {row[0]}"
