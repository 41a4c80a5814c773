"""Where and how to talk to Sage Intacct's XML gateway: configuration and credentials.

:class:`IntacctConfig` (endpoint, timeouts, batch size, page size, companies) and
:class:`IntacctCredentials` (the Web Services sender and the API user) are what a host
hands to :class:`~syncstate.adapters.backends.intacct.client.IntacctBackend`.

Secrets (the sender password, the user password and every session id) live in
:class:`Secret`, whose ``repr`` and ``str`` never show the value: a credentials object
can be logged, printed or put in an error without leaking anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Protocol

import attrs
import httpx

__all__ = [
    "ENDPOINT_URL",
    "MAX_BATCH",
    "MAX_CONTROL_ID",
    "PAGE_SIZE",
    "CredentialsProvider",
    "IntacctConfig",
    "IntacctCredentials",
    "Secret",
    "StaticCredentials",
]

#: the XML gateway (developer.intacct.com, "Web Services": requests are POSTed here)
ENDPOINT_URL = "https://api.intacct.com/ia/xml/xmlgw.phtml"
#: a request control id is 1..256 characters (intacct-sdk-php ``ControlBlock``)
MAX_CONTROL_ID = 256
#: functions per request syncstate sends at most (no documented cap was found: see docs)
MAX_BATCH = 50
#: ``readByQuery`` page size (the gateway takes 1..1000; ``query`` 1..2000)
PAGE_SIZE = 1000


@attrs.frozen(repr=False, eq=False)
class Secret:
    """A secret string: ``repr`` / ``str`` show ``'***'``, :meth:`reveal` the value."""

    _value: str

    def reveal(self) -> str:
        """The value itself (only for the request body)."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __bool__(self) -> bool:
        return bool(self._value)


def _secret(value: str | Secret) -> Secret:
    return value if isinstance(value, Secret) else Secret(value)


@attrs.frozen(kw_only=True)
class IntacctCredentials:
    """The Web Services sender plus the API user of one Intacct company.

    ``sender_id`` / ``sender_password`` identify the integration (authorised per company
    under *Company > Web Services authorizations*); ``user_id`` / ``user_password`` /
    ``company_id`` (and optionally ``entity_id``) log in. Passwords are :class:`Secret`.
    """

    sender_id: str
    sender_password: Secret = attrs.field(converter=_secret)
    user_id: str
    user_password: Secret = attrs.field(converter=_secret)
    company_id: str
    entity_id: str = ""


class CredentialsProvider(Protocol):
    """The host's Intacct credentials per syncstate company; syncstate stores none."""

    def credentials(self, company: str) -> IntacctCredentials:
        """The credentials of ``company``."""
        ...


def _frozen_credentials(
    value: Mapping[str, IntacctCredentials],
) -> Mapping[str, IntacctCredentials]:
    return MappingProxyType(dict(value))


@attrs.frozen
class StaticCredentials:
    """One set of credentials per company, given up front (tests, the CLI)."""

    by_company: Mapping[str, IntacctCredentials] = attrs.field(converter=_frozen_credentials)

    def credentials(self, company: str) -> IntacctCredentials:
        """The credentials of ``company`` (``KeyError`` names only the company)."""
        if company not in self.by_company:
            raise KeyError(f"no Intacct credentials for company {company!r}")
        return self.by_company[company]

    def __repr__(self) -> str:
        return f"StaticCredentials(companies={sorted(self.by_company)!r})"


def _default_timeout() -> httpx.Timeout:
    return httpx.Timeout(60.0, connect=10.0)


def _check_batch(_instance: object, _attribute: object, value: int) -> None:
    if not 1 <= value <= 100:
        raise ValueError(f"max_batch must be 1..100, got {value}")


def _check_page(_instance: object, _attribute: object, value: int) -> None:
    if not 1 <= value <= 1000:
        raise ValueError(f"page_size must be 1..1000, got {value}")


@attrs.frozen(kw_only=True)
class IntacctConfig:
    """Where and how to talk to the gateway.

    ``endpoint_url`` is the gateway (the local test server's URL in tests); the session
    endpoint ``getAPISession`` answers replaces it for later requests. ``max_batch`` is
    the most create functions in one request (:meth:`create_batch`); ``page_size`` the
    rows per ``readByQuery`` page; ``lookup_window_days`` how far back (by
    ``WHENCREATED``) a lookup by key searches (0: no limit).
    """

    endpoint_url: str = ENDPOINT_URL
    timeout: httpx.Timeout = attrs.field(factory=_default_timeout)
    max_batch: int = attrs.field(default=MAX_BATCH, validator=_check_batch)
    page_size: int = attrs.field(default=PAGE_SIZE, validator=_check_page)
    lookup_window_days: int = 0
    #: use the endpoint ``getAPISession`` answers with (True), or keep ``endpoint_url``
    follow_session_endpoint: bool = True
