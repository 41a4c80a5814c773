"""PostgreSQL storage for many workers (``pip install syncstate[postgres]``).

- :mod:`.state`: :class:`PostgresStore`, export states and the journal;
- :mod:`.connections`: the connection pool, transient errors, company locks;
- :mod:`.migrations`: schema versions, applied under an advisory lock.
"""

from syncstate.adapters.storage.postgres.state import PostgresStore

__all__ = ["PostgresStore"]
