"""Where and how to talk to QuickBooks Online: configuration, tokens, API limits.

:class:`QuickBooksConfig` (environment or base URL, minor version, timeouts,
batch size, how to reverse a document, realm ids) and :class:`TokenProvider`
(the host's OAuth 2 tokens) are what a host hands to
:class:`~syncstate.adapters.backends.quickbooks.client.QuickBooksBackend`;
:mod:`syncstate.adapters.backends.quickbooks.client` re-exports both.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from types import MappingProxyType
from typing import Protocol

import attrs
import httpx

from syncstate.errors import RemoteValidationError

__all__ = [
    "MAX_BATCH",
    "MAX_BATCH_REQUEST_ID",
    "MAX_REQUEST_ID",
    "PRODUCTION_URL",
    "QUERY_PAGE",
    "SANDBOX_URL",
    "QuickBooksConfig",
    "TokenProvider",
    "check_request_id",
]

SANDBOX_URL = "https://sandbox-quickbooks.api.intuit.com"
PRODUCTION_URL = "https://quickbooks.api.intuit.com"
#: QuickBooks' limits on ``requestid`` (single request / batch) and ``bId``
MAX_REQUEST_ID = 50
MAX_BATCH_REQUEST_ID = 36
MAX_BATCH = 30
QUERY_PAGE = 1000


def check_request_id(key: str, limit: int, record: str | None) -> None:
    """:class:`~syncstate.errors.RemoteValidationError` unless ``key`` fits a ``requestid``.

    QuickBooks takes 1..``limit`` characters (:data:`MAX_REQUEST_ID` for one
    request, :data:`MAX_BATCH_REQUEST_ID` for a batch).
    """
    if not key or len(key) > limit:
        raise RemoteValidationError(
            f"idempotency key {key!r} must be 1..{limit} characters for QuickBooks requestid",
            record=record,
        )


class TokenProvider(Protocol):
    """The host's OAuth 2 tokens for one QuickBooks company; syncstate stores none."""

    def access_token(self, company: str) -> str:
        """The current access token for ``company``."""
        ...

    def refresh(self, company: str) -> str:
        """Refresh the token of ``company`` (QuickBooks answered 401); return the new one."""
        ...


def _check_environment(_instance: object, _attribute: object, value: str) -> None:
    if value not in ("sandbox", "production"):
        raise ValueError(f"environment must be 'sandbox' or 'production', got {value!r}")


def _check_batch(_instance: object, _attribute: object, value: int) -> None:
    if not 1 <= value <= MAX_BATCH:
        raise ValueError(f"max_batch must be 1..{MAX_BATCH}, got {value}")


def _check_reverse(_instance: object, _attribute: object, value: str) -> None:
    if value not in ("void", "delete"):
        raise ValueError(f"reverse must be 'void' or 'delete', got {value!r}")


def _frozen_realms(value: Mapping[str, str]) -> Mapping[str, str]:
    return MappingProxyType({str(k): str(v) for k, v in value.items()})


def _default_timeout() -> httpx.Timeout:
    return httpx.Timeout(60.0, connect=10.0)


@attrs.frozen(kw_only=True)
class QuickBooksConfig:
    """Where and how to talk to QuickBooks Online.

    ``base_url`` overrides ``environment`` (e.g. the local test server);
    ``realms`` maps syncstate company names to QuickBooks realm ids (a company
    not listed is its own realm id); ``reverse`` chooses whether ``delete``
    voids (default, keeps the audit trail) or deletes voidable transactions;
    ``lookup_window`` is how far back
    :meth:`~syncstate.adapters.backends.quickbooks.client.QuickBooksBackend.lookup` searches.
    """

    environment: str = attrs.field(default="sandbox", validator=_check_environment)
    base_url: str | None = None
    minorversion: int = 75
    timeout: httpx.Timeout = attrs.field(factory=_default_timeout)
    max_batch: int = attrs.field(default=MAX_BATCH, validator=_check_batch)
    reverse: str = attrs.field(default="void", validator=_check_reverse)
    lookup_window: dt.timedelta = dt.timedelta(days=7)
    realms: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen_realms)

    @property
    def url(self) -> str:
        """The API root without a trailing slash."""
        if self.base_url:
            return self.base_url.rstrip("/")
        return SANDBOX_URL if self.environment == "sandbox" else PRODUCTION_URL

    def realm_for(self, company: str) -> str:
        """The QuickBooks realm id of ``company``."""
        return self.realms.get(company, company)
