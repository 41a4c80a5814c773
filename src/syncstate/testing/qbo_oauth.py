"""The Intuit OAuth 2 token endpoint of the local QuickBooks-like server.

``POST /oauth2/v1/tokens/bearer`` (form: ``grant_type=authorization_code`` with
``code`` and ``redirect_uri``, or ``grant_type=refresh_token``) answers
``access_token``, ``refresh_token``, ``expires_in`` and
``x_refresh_token_expires_in``; ``POST /oauth2/v1/tokens/revoke`` (JSON
``{"token": ...}``) revokes. Both need HTTP Basic auth with the app's client
id and secret. Rules, strict so that client mistakes show:

* an access token expires after ``access_ttl`` seconds (QuickBooks: 3,600);
  the API then answers 401;
* a refresh token is **rotated** on every refresh: the answer holds a new one
  and the old one stops working (``invalid_grant``), so two processes
  refreshing at once make one of them fail;
* a code is used once; a revoked refresh token revokes its access tokens.

``stats`` counts grants (``code``, ``refresh``, ``revoke``, ``invalid_grant``).
"""

from __future__ import annotations

import base64
import collections
import datetime as dt
import json
import secrets
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

from syncstate.adapters.backends.quickbooks.oauth import OAuthTokens

__all__ = ["MemoryTokenStore", "QboOAuth"]


class QboOAuth:
    """Codes and tokens of the local server; the server holds its lock around calls."""

    def __init__(
        self,
        *,
        client_id: str = "local-client",
        client_secret: str = "local-secret",
        access_ttl: int = 3600,
        refresh_ttl: int = 100 * 24 * 3600,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.client_id = client_id
        self._secret = client_secret
        self.access_ttl = access_ttl
        self.refresh_ttl = refresh_ttl
        self._clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self._codes: dict[str, str] = {}
        self._access: dict[str, tuple[str, dt.datetime]] = {}
        self._refresh: dict[str, tuple[str, dt.datetime]] = {}
        self.stats: collections.Counter[str] = collections.Counter()

    def __repr__(self) -> str:
        return f"QboOAuth(client_id={self.client_id!r})"

    def issue_code(self, realm: str) -> str:
        """An authorization code for ``realm``, as the consent screen would redirect with."""
        code = secrets.token_urlsafe(16)
        self._codes[code] = realm
        return code

    def accepts(self, token: str) -> bool:
        """Whether ``token`` is a live access token."""
        found = self._access.get(token)
        return found is not None and found[1] > self._clock()

    def expire_access_tokens(self) -> None:
        """Every access token expires now (as an hour passing would)."""
        now = self._clock()
        self._access = {t: (realm, now) for t, (realm, _at) in self._access.items()}

    def handle(self, path: str, auth: str, body: bytes) -> tuple[int, dict[str, Any]]:
        """Answer a token or revoke request: (HTTP status, JSON body)."""
        if not self._authorized(auth):
            return 401, {"error": "invalid_client"}
        if path.endswith("/revoke"):
            return self._revoke(body)
        form = {k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        grant = form.get("grant_type")
        if grant == "authorization_code":
            realm = self._codes.pop(form.get("code", ""), None)
            if realm is None or not form.get("redirect_uri"):
                return self._invalid()
            self.stats["code"] += 1
            return 200, self._issue(realm)
        if grant == "refresh_token":
            found = self._refresh.pop(form.get("refresh_token", ""), None)
            if found is None or found[1] <= self._clock():
                return self._invalid()
            self.stats["refresh"] += 1
            return 200, self._issue(found[0])
        return 400, {"error": "unsupported_grant_type"}

    def _authorized(self, auth: str) -> bool:
        if not auth.startswith("Basic "):
            return False
        try:
            pair = base64.b64decode(auth[6:]).decode("utf-8")
        except ValueError:
            return False
        return secrets.compare_digest(pair, f"{self.client_id}:{self._secret}")

    def _invalid(self) -> tuple[int, dict[str, Any]]:
        self.stats["invalid_grant"] += 1
        return 400, {"error": "invalid_grant"}

    def _issue(self, realm: str) -> dict[str, Any]:
        now = self._clock()
        access, refresh = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        self._access[access] = (realm, now + dt.timedelta(seconds=self.access_ttl))
        self._refresh[refresh] = (realm, now + dt.timedelta(seconds=self.refresh_ttl))
        return {
            "token_type": "bearer",
            "access_token": access,
            "refresh_token": refresh,
            "expires_in": self.access_ttl,
            "x_refresh_token_expires_in": self.refresh_ttl,
        }

    def _revoke(self, body: bytes) -> tuple[int, dict[str, Any]]:
        try:
            token = str(json.loads(body).get("token", ""))
        except (ValueError, AttributeError):
            return 400, {"error": "invalid_request"}
        found = self._refresh.pop(token, None) or self._access.pop(token, None)
        if found is None:
            return 400, {"error": "invalid_token"}
        self.stats["revoke"] += 1
        realm = found[0]
        self._access = {t: v for t, v in self._access.items() if v[0] != realm}
        self._refresh = {t: v for t, v in self._refresh.items() if v[0] != realm}
        return 200, {}


class MemoryTokenStore:
    """A :class:`~syncstate.adapters.backends.quickbooks.oauth.TokenStore` in memory (tests).

    ``saves`` counts the tokens saved; ``lock(company)`` is a plain thread lock, as a
    host's cross-process lock (an advisory database lock, a file lock) would be.
    """

    def __init__(self) -> None:
        self._tokens: dict[str, OAuthTokens] = {}
        self._locks: collections.defaultdict[str, threading.Lock] = collections.defaultdict(
            threading.Lock
        )
        self.saves = 0

    def load(self, company: str) -> OAuthTokens | None:
        """The company's tokens, if connected."""
        return self._tokens.get(company)

    def save(self, company: str, tokens: OAuthTokens) -> None:
        """Replace the company's tokens."""
        self._tokens[company] = tokens
        self.saves += 1

    def delete(self, company: str) -> None:
        """Forget the company's tokens."""
        self._tokens.pop(company, None)

    def lock(self, company: str) -> threading.Lock:
        """The company's refresh lock."""
        return self._locks[company]
