"""Where and how to talk to Xero: configuration, tokens, and Xero's documented limits.

:class:`XeroConfig` (base URL, tenant ids per company, timeouts, batch size, default
account codes and invoice status) and :class:`TokenProvider` (the host's OAuth 2 access
tokens) are what a host hands to
:class:`~syncstate.adapters.backends.xero.client.XeroBackend`. The constants are the
limits Xero documents; ``docs/xero.md`` gives the source of each.
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
    "CONCURRENT_LIMIT",
    "DAY_LIMIT",
    "IDEMPOTENCY_WINDOW",
    "MAX_BATCH",
    "MAX_IDEMPOTENCY_KEY",
    "MINUTE_LIMIT",
    "PRODUCTION_URL",
    "TokenProvider",
    "XeroConfig",
    "check_idempotency_key",
]

#: the Accounting API root
PRODUCTION_URL = "https://api.xero.com/api.xro/2.0"
#: ``Idempotency-Key``: at most 128 characters; a repeat within 6 minutes replays the answer
MAX_IDEMPOTENCY_KEY = 128
IDEMPOTENCY_WINDOW = dt.timedelta(minutes=6)
#: per tenant (organisation): calls per minute, per day, and in progress at once
MINUTE_LIMIT = 60
DAY_LIMIT = 5000
CONCURRENT_LIMIT = 5
#: elements per create request (Xero recommends about 50 and sets no hard limit)
MAX_BATCH = 50
#: rows per page of a GET with ``page`` (Xero's default page size)
PAGE_SIZE = 100


def check_idempotency_key(key: str, record: str | None) -> None:
    """:class:`~syncstate.errors.RemoteValidationError` unless ``key`` fits Xero.

    1..128 printable characters; no ``"`` or ``\\`` (the key is quoted in ``where``).
    """
    bad = not key.isprintable() or '"' in key or "\\" in key
    if not key or len(key) > MAX_IDEMPOTENCY_KEY or bad:
        raise RemoteValidationError(
            f"idempotency key {key!r} must be 1..{MAX_IDEMPOTENCY_KEY} printable characters "
            "without quotes or backslashes (Xero's Idempotency-Key header, where filters)",
            record=record,
        )


class TokenProvider(Protocol):
    """The host's OAuth 2 access tokens for Xero; syncstate stores none."""

    def access_token(self, company: str) -> str:
        """The current access token for ``company`` (Xero's tokens live 30 minutes)."""
        ...

    def refresh(self, company: str) -> str:
        """Xero answered 401: refresh the token of ``company`` and return the new one."""
        ...


def _frozen_map(value: Mapping[str, str]) -> Mapping[str, str]:
    return MappingProxyType({str(k): str(v) for k, v in value.items()})


def _check_batch(_instance: object, _attribute: object, value: int) -> None:
    if not 2 <= value <= 1000:
        raise ValueError(f"max_batch must be 2..1000, got {value}")


def _check_status(_instance: object, _attribute: object, value: str) -> None:
    if value not in ("DRAFT", "SUBMITTED", "AUTHORISED"):
        raise ValueError(f"invoice_status must be DRAFT, SUBMITTED or AUTHORISED, got {value!r}")


def _default_timeout() -> httpx.Timeout:
    return httpx.Timeout(60.0, connect=10.0)


@attrs.frozen(kw_only=True)
class XeroConfig:
    """Where and how to talk to Xero's Accounting API.

    ``tenants`` maps syncstate company names to Xero tenant ids (the
    ``Xero-tenant-id`` header; a company not listed is its own tenant id).
    ``sales_account`` is the account code of invoice and credit note lines whose
    item carries no sales account, ``payment_account`` the bank account code
    payments are received into, ``invoice_status`` the status invoices and credit
    notes are created with (``AUTHORISED`` posts them to the ledger; ``DRAFT``
    leaves them for review). ``lookup_window`` is how far back lookups by key
    search by ``If-Modified-Since`` (None: no limit).
    """

    base_url: str | None = None
    tenants: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen_map)
    timeout: httpx.Timeout = attrs.field(factory=_default_timeout)
    max_batch: int = attrs.field(default=MAX_BATCH, validator=_check_batch)
    sales_account: str = "200"
    payment_account: str = "090"
    invoice_status: str = attrs.field(default="AUTHORISED", validator=_check_status)
    lookup_window: dt.timedelta | None = None

    @property
    def url(self) -> str:
        """The API root (``.../api.xro/2.0``) without a trailing slash."""
        return (self.base_url or PRODUCTION_URL).rstrip("/")

    def tenant_for(self, company: str) -> str:
        """The Xero tenant id of ``company``."""
        return self.tenants.get(company, company)
