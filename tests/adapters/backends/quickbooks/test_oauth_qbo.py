"""The OAuth 2 helper against the local server's token endpoint: connect with a checked
state, refresh before expiry and after a 401 with one refresher for many threads,
rotation, revoke; tokens never in logs, reprs or errors."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import uuid
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import attrs
import httpx
import pytest

from syncstate.adapters.backends.quickbooks.client import QuickBooksBackend, QuickBooksConfig
from syncstate.adapters.backends.quickbooks.oauth import OAuthApp, QuickBooksOAuth
from syncstate.adapters.backends.quickbooks.payloads import QboMapping
from syncstate.errors import AuthenticationError
from syncstate.testing.qbo_oauth import MemoryTokenStore, QboOAuth
from syncstate.testing.qbo_server import QboServer

CO = "acme"


class Clock:
    def __init__(self) -> None:
        self.at = dt.datetime.now(dt.UTC)

    def now(self) -> dt.datetime:
        return self.at


@attrs.define
class Setup:
    server: QboServer
    oauth: QuickBooksOAuth
    store: MemoryTokenStore
    backend: QuickBooksBackend
    clock: Clock
    realm: str


@pytest.fixture(scope="module")
def server() -> Iterator[QboServer]:
    with QboServer() as running:
        yield running


@pytest.fixture
def setup(server: QboServer, caplog: pytest.LogCaptureFixture) -> Iterator[Setup]:
    caplog.set_level(logging.DEBUG)
    with httpx.Client(timeout=5.0) as client:
        server.oauth = QboOAuth(client_id="app-1", client_secret="app-secret-1")
        realm = f"oa-{uuid.uuid4().hex[:8]}"
        app = OAuthApp(
            client_id="app-1",
            client_secret="app-secret-1",
            redirect_uri="https://host.example/callback",
            token_url=f"{server.base_url}/oauth2/v1/tokens/bearer",
            revoke_url=f"{server.base_url}/oauth2/v1/tokens/revoke",
        )
        store, clock = MemoryTokenStore(), Clock()
        oauth = QuickBooksOAuth(app, store, client=client, clock=clock)
        backend = QuickBooksBackend(
            tokens=oauth,
            mapping=QboMapping(),
            config=QuickBooksConfig(base_url=server.base_url, realms={CO: realm}),
            client=client,
        )
        url, state = oauth.authorization_url()
        query = parse_qs(urlsplit(url).query)
        assert query["state"] == [state] and query["client_id"] == ["app-1"]
        assert query["scope"] == ["com.intuit.quickbooks.accounting"]
        oauth.exchange_code(CO, server.oauth.issue_code(realm), state=state,
                            expected_state=state, realm_id=realm)  # fmt: skip
        yield Setup(server, oauth, store, backend, clock, realm)
        server.oauth = None
        # no token ever reached a log record
        tokens = store.load(CO)
        if tokens is not None:
            assert tokens.access_token not in caplog.text
            assert tokens.refresh_token not in caplog.text
        assert "app-secret-1" not in caplog.text


def test_a_connected_company_reads_its_company_info(setup: Setup) -> None:
    assert setup.backend.connected(CO)
    assert setup.server.oauth is not None and setup.server.oauth.stats["code"] == 1


def test_a_wrong_state_is_refused_without_a_request(setup: Setup) -> None:
    assert setup.server.oauth is not None
    code = setup.server.oauth.issue_code(setup.realm)
    with pytest.raises(AuthenticationError, match="state"):
        setup.oauth.exchange_code("other", code, state="forged", expected_state="kept")
    assert setup.store.load("other") is None and setup.server.oauth.stats["code"] == 1


def test_ten_threads_near_expiry_share_one_refresh(setup: Setup) -> None:
    assert setup.server.oauth is not None
    before = setup.store.load(CO)
    assert before is not None
    setup.clock.at += dt.timedelta(minutes=57)  # within the 5-minute margin of the hour
    barrier = threading.Barrier(10)
    seen: list[str] = []

    def worker() -> None:
        barrier.wait()
        seen.append(setup.oauth.access_token(CO))

    threads = [threading.Thread(target=worker) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert setup.server.oauth.stats["refresh"] == 1
    assert setup.server.oauth.stats["invalid_grant"] == 0
    after = setup.store.load(CO)
    assert after is not None and set(seen) == {after.access_token}
    assert after.refresh_token != before.refresh_token  # rotated, and the latest is kept


def test_ten_threads_refused_with_401_share_one_refresh(setup: Setup) -> None:
    assert setup.server.oauth is not None
    setup.server.oauth.expire_access_tokens()  # the server disagrees with our clock
    barrier = threading.Barrier(10)
    results: list[bool] = []

    def worker() -> None:
        barrier.wait()
        results.append(setup.backend.connected(CO))

    threads = [threading.Thread(target=worker) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [True] * 10
    assert setup.server.oauth.stats["refresh"] == 1
    assert setup.server.oauth.stats["invalid_grant"] == 0


def test_a_rotated_refresh_token_no_longer_works_and_the_error_hides_it(setup: Setup) -> None:
    stale = setup.store.load(CO)
    assert stale is not None
    setup.oauth.access_token(CO)
    setup.oauth.refresh(CO)
    assert setup.store.load(CO) != stale
    setup.store.save(CO, stale)  # a process that kept the old refresh token
    setup.oauth.access_token(CO)
    with pytest.raises(AuthenticationError, match="invalid_grant") as caught:
        setup.oauth.refresh(CO)
    text = f"{caught.value} {caught.value!r} {stale!r} {setup.oauth!r}"
    assert stale.access_token not in text and stale.refresh_token not in text
    assert "app-secret-1" not in text


def test_an_expired_refresh_token_asks_to_connect_again_without_a_request(setup: Setup) -> None:
    assert setup.server.oauth is not None
    setup.clock.at += dt.timedelta(days=101)
    with pytest.raises(AuthenticationError, match="connect the company again"):
        setup.oauth.access_token(CO)
    assert setup.server.oauth.stats["refresh"] == 0


def test_revoke_disconnects(setup: Setup) -> None:
    assert setup.server.oauth is not None
    token = setup.oauth.access_token(CO)
    setup.oauth.revoke(CO)
    assert setup.store.load(CO) is None
    assert not setup.server.oauth.accepts(token)
    assert not setup.backend.connected(CO)
    setup.oauth.revoke(CO)  # again: nothing left to revoke, no error
