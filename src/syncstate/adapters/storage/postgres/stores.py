"""Every PostgreSQL store of a host in one call: one DSN, one schema, one pool.

:func:`open_postgres` opens the state, bundle, mirror and repost-ledger stores
in one schema over one :class:`psycopg_pool.ConnectionPool`. The bundle and
mirror stores are opened beside the state store, so an un-bundle is one
transaction over membership and export state. :meth:`PostgresStores.close`
closes the stores, then the pool.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs
from psycopg_pool import ConnectionPool

from syncstate.adapters.storage.postgres.bundles import PostgresBundleStore
from syncstate.adapters.storage.postgres.connections import mask_dsn
from syncstate.adapters.storage.postgres.mirror import PostgresMirrorStore
from syncstate.adapters.storage.postgres.state import PostgresStore

if TYPE_CHECKING:
    from syncstate.adapters.storage.postgres.ledger import PostgresLedgerStore

__all__ = ["PostgresStores", "open_postgres"]


@attrs.frozen(kw_only=True)
class PostgresStores:
    """The stores of one schema, sharing :attr:`pool` (see :func:`open_postgres`)."""

    state: PostgresStore
    bundles: PostgresBundleStore
    mirror: PostgresMirrorStore
    ledger: PostgresLedgerStore
    pool: ConnectionPool[Any] = attrs.field(repr=False)

    def close(self) -> None:
        """Close every store (releasing the mirror's locks), then the shared pool."""
        try:
            self.mirror.close()
            self.bundles.close()
            self.ledger.close()
            self.state.close()
        finally:
            self.pool.close()

    def __enter__(self) -> PostgresStores:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_postgres(
    dsn: str,
    *,
    schema: str = "syncstate",
    min_size: int = 1,
    max_size: int = 8,
    connect_timeout: float = 10.0,
    attempts: int = 5,
    adopt_schema: bool = False,
) -> PostgresStores:
    """Open the state, bundle, mirror and ledger stores in ``schema`` over one pool.

    The pool holds ``min_size`` to ``max_size`` connections; each company lock the
    mirror holds keeps one of them, so leave room for the locks a process holds
    at once. Tables and migrations are created on first use, as for each store; a
    schema holding another application's tables is refused
    (:class:`~syncstate.adapters.storage.postgres.migrations.ForeignSchemaError`)
    unless ``adopt_schema=True``.
    """
    from syncstate.adapters.storage.postgres.ledger import PostgresLedgerStore

    pool: ConnectionPool[Any] = ConnectionPool(
        dsn,
        min_size=min_size,
        max_size=max(min_size, max_size),
        timeout=connect_timeout,
        check=ConnectionPool.check_connection,
        name=f"syncstate {mask_dsn(dsn)}",
        open=False,
    )
    pool.open(wait=False)
    opened: list[Any] = []
    try:
        state = PostgresStore(
            pool=pool, schema=schema, attempts=attempts, adopt_schema=adopt_schema
        )
        opened.append(state)
        bundles = PostgresBundleStore.beside(state)
        mirror = PostgresMirrorStore.beside(state)
        opened.append(mirror)
        ledger = PostgresLedgerStore(
            pool=pool, schema=schema, attempts=attempts, adopt_schema=adopt_schema
        )
    except BaseException:
        for store in reversed(opened):
            store.close()
        pool.close()
        raise
    return PostgresStores(state=state, bundles=bundles, mirror=mirror, ledger=ledger, pool=pool)
