"""SQLite storage (the embedded default): one file holds every store.

- :mod:`.state`: :class:`SQLiteStore`, export states and the journal;
- :mod:`.bundles`: :class:`SQLiteBundleStore`, bundles, membership and mappings (its
  own file, or :meth:`SQLiteBundleStore.beside` a state store: un-bundling is then
  one transaction);
- :mod:`.mirror`: :class:`SQLiteMirrorStore`, the inbound mirror;
- :mod:`.ledger`: :class:`SQLiteLedgerStore`, the repost ledger;
- :mod:`.files` and :mod:`.migrations`: opening files, transactions, schema versions.
"""

from syncstate.adapters.storage.sqlite.bundles import SQLiteBundleStore
from syncstate.adapters.storage.sqlite.ledger import SQLiteLedgerStore
from syncstate.adapters.storage.sqlite.mirror import SQLiteMirrorStore
from syncstate.adapters.storage.sqlite.state import SQLiteStore

__all__ = ["SQLiteBundleStore", "SQLiteLedgerStore", "SQLiteMirrorStore", "SQLiteStore"]
