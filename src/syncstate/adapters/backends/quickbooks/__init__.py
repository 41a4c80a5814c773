"""QuickBooks Online back end (REST API v3): the client, its faults and its payloads.

- :mod:`.client`: :class:`QuickBooksBackend` (re-exporting the configuration);
- :mod:`.config`: :class:`QuickBooksConfig`, :class:`TokenProvider`, URLs and API limits;
- :mod:`.faults`: QuickBooks ``Fault`` bodies mapped to syncstate's typed errors;
- :mod:`.payloads`: documents rendered as QuickBooks entities (:class:`QboMapping`),
  with the payables, journals, refunds and lists of :mod:`.entities`;
- :mod:`.directory` and :mod:`.matching`: existing customers, vendors and items matched
  by name, mapped ids validated before sending;
- :mod:`.cdc` and :mod:`.webhooks`: changes made in QuickBooks (:class:`ChangeFeed`,
  :class:`WebhookReceiver`);
- :mod:`.attachments`: receipts and PDFs uploaded and linked (:class:`Attachment`);
- :mod:`.oauth`: the optional OAuth 2 helper (:class:`QuickBooksOAuth`).
"""

from syncstate.adapters.backends.quickbooks.attachments import Attachment
from syncstate.adapters.backends.quickbooks.cdc import ChangeFeed
from syncstate.adapters.backends.quickbooks.client import (
    PRODUCTION_URL,
    SANDBOX_URL,
    QuickBooksBackend,
    QuickBooksConfig,
    TokenProvider,
)
from syncstate.adapters.backends.quickbooks.oauth import (
    OAuthApp,
    OAuthTokens,
    QuickBooksOAuth,
    TokenStore,
)
from syncstate.adapters.backends.quickbooks.payloads import QboMapping
from syncstate.adapters.backends.quickbooks.webhooks import WebhookReceiver

__all__ = [
    "PRODUCTION_URL",
    "SANDBOX_URL",
    "Attachment",
    "ChangeFeed",
    "OAuthApp",
    "OAuthTokens",
    "QboMapping",
    "QuickBooksBackend",
    "QuickBooksConfig",
    "QuickBooksOAuth",
    "TokenProvider",
    "TokenStore",
    "WebhookReceiver",
]
