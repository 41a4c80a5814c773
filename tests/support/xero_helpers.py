"""Helpers of the Xero tests: a host token provider and one organisation on the local server."""

from __future__ import annotations

import attrs

from syncstate.adapters.backends.xero.client import XeroBackend
from syncstate.testing.xero_server import XeroServer

SECRET = "secret-xero-token-0123456789"


class Tokens:
    """A host token provider: hands out the current token, rotates on refresh."""

    def __init__(self, current: str = SECRET, fresh: str = SECRET + "-fresh") -> None:
        self.current, self.fresh, self.refreshes = current, fresh, 0

    def access_token(self, company: str) -> str:
        return self.current

    def refresh(self, company: str) -> str:
        self.refreshes += 1
        self.current = self.fresh
        return self.current


@attrs.define
class Org:
    """One Xero organisation on the local server, and a back end talking to it."""

    server: XeroServer
    tenant: str
    contact: str
    backend: XeroBackend
    tokens: Tokens

    def documents(self, collection: str = "Invoices") -> list[dict[str, object]]:
        return self.server.documents(self.tenant, collection)
