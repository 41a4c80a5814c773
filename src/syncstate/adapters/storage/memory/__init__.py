"""In-memory storage for tests and notebooks: nothing survives the process.

- :mod:`.state`: :class:`MemoryStore`, export states and the journal;
- :mod:`.bundles`: :class:`MemoryBundleStore`, bundles, membership and mappings.
"""

from syncstate.adapters.storage.memory.bundles import MemoryBundleStore
from syncstate.adapters.storage.memory.state import MemoryStore

__all__ = ["MemoryBundleStore", "MemoryStore"]
