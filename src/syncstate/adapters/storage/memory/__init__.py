"""In-memory storage for tests and notebooks: nothing survives the process.

- :mod:`.state`: :class:`MemoryStore`, export states and the journal;
- :mod:`.bundles`: :class:`MemoryBundleStore`, bundles, membership and mappings
  (:meth:`MemoryBundleStore.beside` a :class:`MemoryStore`: un-bundling writes both at once);
- :mod:`.mirror`: :class:`MemoryMirrorStore`, the inbound mirror.

Each passes the kit of its port in :mod:`syncstate.testing`.
"""

from syncstate.adapters.storage.memory.bundles import MemoryBundleStore
from syncstate.adapters.storage.memory.mirror import MemoryMirrorStore
from syncstate.adapters.storage.memory.state import MemoryStore

__all__ = ["MemoryBundleStore", "MemoryMirrorStore", "MemoryStore"]
