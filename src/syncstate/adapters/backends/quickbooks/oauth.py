"""An optional OAuth 2 helper for QuickBooks Online: connect, refresh, revoke, check.

:class:`QuickBooksOAuth` is a :class:`~syncstate.adapters.backends.quickbooks.config.TokenProvider`
that keeps the tokens in a store the host provides (:class:`TokenStore`: a table,
a secrets manager), so syncstate holds no token of its own between calls:

* :meth:`~QuickBooksOAuth.authorization_url` with a random ``state``, and
  :meth:`~QuickBooksOAuth.exchange_code` that checks it (constant time) and
  trades the code for tokens;
* :meth:`~QuickBooksOAuth.access_token` refreshes **before** expiry (access tokens
  last an hour; ``refresh_margin`` ahead), one refresher at a time per company:
  a thread lock, and across processes the store's own ``lock(company)`` when it
  has one; every refresh saves the refresh token QuickBooks answers with (it
  rotates them: always keep the latest);
* :meth:`~QuickBooksOAuth.refresh` after a 401, without a second refresh when
  another caller has just refreshed;
* :meth:`~QuickBooksOAuth.revoke` (disconnect); the back end's ``connected(company)``
  reads the company's ``CompanyInfo``.

Tokens never appear in a repr, a log record or an error message. Only httpx is
used (no new dependency).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import secrets
import threading
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager
from typing import Any, Protocol, runtime_checkable
from urllib.parse import quote, urlencode

import attrs
import httpx

from syncstate.adapters.backends.transport import transport_error
from syncstate.errors import AuthenticationError, BackendError
from syncstate.ports import Clock, SystemClock

__all__ = [
    "ACCOUNTING_SCOPE",
    "AUTHORIZE_URL",
    "REVOKE_URL",
    "TOKEN_URL",
    "LockingTokenStore",
    "OAuthApp",
    "OAuthTokens",
    "QuickBooksOAuth",
    "TokenStore",
]

log = logging.getLogger("syncstate.adapters.backends.quickbooks.oauth")

AUTHORIZE_URL = "https://appcenter.intuit.com/connect/oauth2"
TOKEN_URL = "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer"
REVOKE_URL = "https://developer.api.intuit.com/v2/oauth2/tokens/revoke"
ACCOUNTING_SCOPE = "com.intuit.quickbooks.accounting"


@attrs.frozen(kw_only=True)
class OAuthTokens:
    """One company's tokens; the tokens themselves are left out of ``repr``."""

    access_token: str = attrs.field(repr=False)
    refresh_token: str = attrs.field(repr=False)
    expires_at: dt.datetime
    refresh_expires_at: dt.datetime | None = None
    obtained_at: dt.datetime
    realm_id: str | None = None


class TokenStore(Protocol):
    """Where the host keeps each company's tokens (encrypted at rest, ideally)."""

    def load(self, company: str) -> OAuthTokens | None:
        """The company's tokens, or None when it is not connected."""
        ...

    def save(self, company: str, tokens: OAuthTokens) -> None:
        """Replace the company's tokens (after a code exchange or a refresh)."""
        ...

    def delete(self, company: str) -> None:
        """Forget the company's tokens (after a revoke)."""
        ...


@runtime_checkable
class LockingTokenStore(Protocol):
    """Optional: a store that can lock a company across processes while it refreshes."""

    def lock(self, company: str) -> AbstractContextManager[object]:
        """Held while one process refreshes the company's tokens."""
        ...


@attrs.frozen(kw_only=True)
class OAuthApp:
    """The app registered with Intuit; the secret is left out of ``repr``."""

    client_id: str
    client_secret: str = attrs.field(repr=False)
    redirect_uri: str
    scopes: tuple[str, ...] = (ACCOUNTING_SCOPE,)
    authorize_url: str = AUTHORIZE_URL
    token_url: str = TOKEN_URL
    revoke_url: str = REVOKE_URL


def _seconds(data: Mapping[str, Any], field: str) -> int | None:
    value = data.get(field)
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError):
        return None


class QuickBooksOAuth:
    """OAuth 2 for QuickBooks over an injected ``httpx.Client``; a ``TokenProvider``."""

    def __init__(
        self,
        app: OAuthApp,
        store: TokenStore,
        *,
        client: httpx.Client | None = None,
        clock: Clock | None = None,
        refresh_margin: dt.timedelta = dt.timedelta(minutes=5),
    ) -> None:
        self.app = app
        self._store = store
        self._owns_client = client is None
        self._client = client or httpx.Client(timeout=httpx.Timeout(30.0, connect=10.0))
        self._clock: Clock = clock or SystemClock()
        self._margin = refresh_margin
        self._local = threading.local()
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}

    def __repr__(self) -> str:
        return f"QuickBooksOAuth(client_id={self.app.client_id!r})"

    def close(self) -> None:
        """Close the HTTP client if this helper created it."""
        if self._owns_client:
            self._client.close()

    # ----------------------------------------------------------------- connect

    def authorization_url(self, state: str | None = None) -> tuple[str, str]:
        """The URL to send the user to, and the ``state`` to keep and check on return."""
        state = state or secrets.token_urlsafe(24)
        query = urlencode(
            {
                "client_id": self.app.client_id,
                "response_type": "code",
                "scope": " ".join(self.app.scopes),
                "redirect_uri": self.app.redirect_uri,
                "state": state,
            },
            quote_via=quote,
        )
        return f"{self.app.authorize_url}?{query}", state

    def exchange_code(
        self,
        company: str,
        code: str,
        *,
        state: str,
        expected_state: str,
        realm_id: str | None = None,
    ) -> OAuthTokens:
        """Trade the authorization ``code`` for tokens and save them; checks ``state``."""
        if not expected_state or not secrets.compare_digest(state, expected_state):
            raise AuthenticationError("the OAuth state does not match; connection refused")
        form = {"grant_type": "authorization_code", "code": code}
        form["redirect_uri"] = self.app.redirect_uri
        tokens = self._grant(company, form, realm_id=realm_id)
        self._store.save(company, tokens)
        return tokens

    # ----------------------------------------------------------- TokenProvider

    def access_token(self, company: str) -> str:
        """A valid access token, refreshed first when it expires within the margin."""
        tokens = self._load(company)
        if tokens.expires_at - self._margin > self._clock.now():
            return self._handed(company, tokens.access_token)
        return self._handed(company, self._refresh(company, force=False))

    def refresh(self, company: str) -> str:
        """A new access token after QuickBooks refused the one this thread was given (401).

        Callers refused at the same moment share one refresh: when the stored token
        is no longer the one this thread was handed, another caller has refreshed
        already and that token is returned.
        """
        return self._handed(company, self._refresh(company, force=True))

    def _handed(self, company: str, token: str) -> str:
        given: dict[str, str] = getattr(self._local, "given", {})
        given[company] = token
        self._local.given = given
        return token

    def revoke(self, company: str) -> None:
        """Disconnect: revoke the refresh token at Intuit and forget the tokens."""
        tokens = self._store.load(company)
        if tokens is None:
            return
        response = self._post(self.app.revoke_url, json={"token": tokens.refresh_token})
        # 400: the token is already revoked or unknown; nothing is left to revoke
        if response.status_code > 400:
            raise BackendError(
                f"Intuit refused to revoke the tokens of company {company!r}",
                status=response.status_code,
            )
        self._store.delete(company)
        log.info("QuickBooks tokens of %s revoked", company, extra={"company": company})

    # ---------------------------------------------------------------- plumbing

    def _load(self, company: str) -> OAuthTokens:
        tokens = self._store.load(company)
        if tokens is None:
            raise AuthenticationError(f"company {company!r} is not connected to QuickBooks")
        return tokens

    def _lock(self, company: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(company, threading.Lock())

    @contextlib.contextmanager
    def _exclusive(self, company: str) -> Iterator[None]:
        with self._lock(company):
            if isinstance(self._store, LockingTokenStore):
                with self._store.lock(company):
                    yield
            else:
                yield

    def _refresh(self, company: str, *, force: bool) -> str:
        with self._exclusive(company):
            tokens = self._load(company)  # another thread or process may have refreshed
            now = self._clock.now()
            given = getattr(self._local, "given", {}).get(company)
            if force and given is not None and given != tokens.access_token:
                return tokens.access_token  # refreshed by another caller meanwhile
            if not force and tokens.expires_at - self._margin > now:
                return tokens.access_token
            if tokens.refresh_expires_at is not None and tokens.refresh_expires_at <= now:
                raise AuthenticationError(
                    f"the QuickBooks refresh token of company {company!r} has expired; "
                    "connect the company again"
                )
            form = {"grant_type": "refresh_token", "refresh_token": tokens.refresh_token}
            fresh = self._grant(company, form, realm_id=tokens.realm_id)
            self._store.save(company, fresh)
            log.info("QuickBooks access token of %s refreshed", company, extra={"company": company})
            return fresh.access_token

    def _post(
        self, url: str, *, data: Mapping[str, str] | None = None, json: Any = None
    ) -> httpx.Response:
        try:
            return self._client.post(
                url,
                data=data,
                json=json,
                auth=(self.app.client_id, self.app.client_secret),
                headers={"Accept": "application/json"},
            )
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise transport_error(exc, service="Intuit OAuth", operation="token") from exc

    def _grant(self, company: str, form: Mapping[str, str], *, realm_id: str | None) -> OAuthTokens:
        response = self._post(self.app.token_url, data=form)
        try:
            data = response.json()
        except ValueError:
            data = None
        if response.status_code == 400 or response.status_code == 401:
            error = data.get("error") if isinstance(data, Mapping) else None
            raise AuthenticationError(
                f"Intuit refused the {form['grant_type'].replace('_', ' ')} of company "
                f"{company!r} ({error or response.status_code}); connect the company again",
                status=response.status_code,
                code=str(error) if error else None,
            )
        if response.status_code >= 400 or not isinstance(data, Mapping):
            raise BackendError(
                f"Intuit's token endpoint answered HTTP {response.status_code}",
                status=response.status_code,
            )
        access, refresh = data.get("access_token"), data.get("refresh_token")
        if not isinstance(access, str) or not isinstance(refresh, str):
            raise BackendError("Intuit's token answer holds no tokens")
        now = self._clock.now()
        expires = _seconds(data, "expires_in") or 3600
        refresh_for = _seconds(data, "x_refresh_token_expires_in")
        return OAuthTokens(
            access_token=access,
            refresh_token=refresh,
            expires_at=now + dt.timedelta(seconds=expires),
            refresh_expires_at=None
            if refresh_for is None
            else now + dt.timedelta(seconds=refresh_for),
            obtained_at=now,
            realm_id=realm_id,
        )

    def __enter__(self) -> QuickBooksOAuth:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
