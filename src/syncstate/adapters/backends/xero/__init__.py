"""Xero back end (Accounting API 2.0): the client, its configuration, faults and payloads.

- :mod:`.client`: :class:`XeroBackend`;
- :mod:`.config`: :class:`XeroConfig`, :class:`TokenProvider`, Xero's documented limits;
- :mod:`.faults`: Xero error bodies mapped to syncstate's typed errors;
- :mod:`.payloads`: documents rendered as Xero elements (:class:`XeroMapping`);
- :mod:`.options`: the back end from text options (the command line).
"""

from syncstate.adapters.backends.xero.client import XeroBackend
from syncstate.adapters.backends.xero.config import PRODUCTION_URL, TokenProvider, XeroConfig
from syncstate.adapters.backends.xero.payloads import XeroMapping

__all__ = ["PRODUCTION_URL", "TokenProvider", "XeroBackend", "XeroConfig", "XeroMapping"]
