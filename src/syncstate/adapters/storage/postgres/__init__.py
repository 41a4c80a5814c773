"""PostgreSQL storage for many workers (``pip install syncstate[postgres]``).

Every store in one schema (``syncstate`` unless the host chooses another),
each with its own migration component, and each able to share one pool:

- :mod:`.state`: :class:`PostgresStore`, export states and the journal;
- :mod:`.bundles`: :class:`PostgresBundleStore`, bundles, membership and mappings
  (:meth:`PostgresBundleStore.beside` a state store: un-bundling is one transaction);
- :mod:`.mirror`: :class:`PostgresMirrorStore`, the inbound mirror (staged loads
  through ``COPY``, an atomic swap, advisory company locks);
- :mod:`.stores`: :func:`open_postgres`, every store of a host (state, bundles,
  mirror, repost ledger) in one schema over one pool, in one call;
- :mod:`.ledger`: :class:`PostgresLedgerStore`, the repost ledger (receivables, WIP,
  staff and projects);
- :mod:`.connections`: the connection pool, transient errors, company locks;
- :mod:`.migrations`: schema versions, applied under an advisory lock.
"""

from syncstate.adapters.storage.postgres.bundles import PostgresBundleStore
from syncstate.adapters.storage.postgres.ledger import PostgresLedgerStore
from syncstate.adapters.storage.postgres.mirror import PostgresMirrorStore
from syncstate.adapters.storage.postgres.state import PostgresStore
from syncstate.adapters.storage.postgres.stores import PostgresStores, open_postgres

__all__ = [
    "PostgresBundleStore",
    "PostgresLedgerStore",
    "PostgresMirrorStore",
    "PostgresStore",
    "PostgresStores",
    "open_postgres",
]
