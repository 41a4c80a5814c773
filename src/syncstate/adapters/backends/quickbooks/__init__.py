"""QuickBooks Online back end (REST API v3): the client, its faults and its payloads.

- :mod:`.client`: :class:`QuickBooksBackend` (re-exporting the configuration);
- :mod:`.config`: :class:`QuickBooksConfig`, :class:`TokenProvider`, URLs and API limits;
- :mod:`.faults`: QuickBooks ``Fault`` bodies mapped to syncstate's typed errors;
- :mod:`.payloads`: documents rendered as QuickBooks entities (:class:`QboMapping`).
"""

from syncstate.adapters.backends.quickbooks.client import (
    PRODUCTION_URL,
    SANDBOX_URL,
    QuickBooksBackend,
    QuickBooksConfig,
    TokenProvider,
)
from syncstate.adapters.backends.quickbooks.payloads import QboMapping

__all__ = [
    "PRODUCTION_URL",
    "SANDBOX_URL",
    "QboMapping",
    "QuickBooksBackend",
    "QuickBooksConfig",
    "TokenProvider",
]
