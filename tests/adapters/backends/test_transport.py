"""Every httpx failure, provoked for real, lands in the class the engine relies on.

Never sent (``NotSent``: retried with the same key or released, no lookup) or maybe sent
(``AmbiguousOutcome``: looked up before any resend), or a configuration error. Each case
makes the failure happen against a real socket or the local QuickBooks-like server.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator

import httpx
import pytest

from syncstate import AmbiguousOutcome, ConfigurationError, NotSent
from syncstate.adapters.backends.transport import CLASSES, transport_error
from syncstate.testing.qbo_server import QboServer


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server() -> Iterator[QboServer]:
    with QboServer() as running:
        yield running


def provoke(request: Callable[[], object]) -> Exception:
    try:
        request()
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        return exc
    raise AssertionError("the request did not fail")


def classify(exc: Exception) -> type:
    return type(transport_error(exc, service="QuickBooks", operation="POST invoice"))


def test_a_refused_connection_was_not_sent() -> None:
    exc = provoke(lambda: httpx.post(f"http://127.0.0.1:{_closed_port()}/v3", timeout=2))
    assert isinstance(exc, httpx.ConnectError) and classify(exc) is NotSent


def test_a_name_that_does_not_resolve_was_not_sent() -> None:
    exc = provoke(lambda: httpx.post("http://no-such-host.invalid/v3", timeout=2))
    assert isinstance(exc, httpx.ConnectError) and classify(exc) is NotSent


def test_a_tls_handshake_with_a_plain_http_server_was_not_sent(server: QboServer) -> None:
    url = server.base_url.replace("http://", "https://") + "/v3/company/r/query"
    exc = provoke(lambda: httpx.get(url, timeout=2, verify=False))
    assert isinstance(exc, httpx.ConnectError) and classify(exc) is NotSent


def test_a_connect_timeout_was_not_sent() -> None:
    # a listener that never accepts, with its backlog full: the next SYN gets no answer
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        fillers = []
        try:
            for _ in range(8):
                s = socket.socket()
                s.setblocking(False)
                s.connect_ex(("127.0.0.1", port))
                fillers.append(s)
            exc = provoke(
                lambda: httpx.post(
                    f"http://127.0.0.1:{port}/v3", timeout=httpx.Timeout(2, connect=0.3)
                )
            )
        finally:
            for s in fillers:
                s.close()
    assert isinstance(exc, httpx.ConnectTimeout | httpx.ReadTimeout)
    if isinstance(exc, httpx.ConnectTimeout):
        assert classify(exc) is NotSent
    else:  # the kernel accepted it into the backlog after all: a read timeout is ambiguous
        assert classify(exc) is AmbiguousOutcome


def test_no_free_pooled_connection_was_not_sent(server: QboServer) -> None:
    server.faults.latency = 0.6
    limits = httpx.Limits(max_connections=1)
    timeout = httpx.Timeout(5, pool=0.1)
    url = f"{server.base_url}/v3/company/r/query?query=select%20*%20from%20Item"
    try:
        with httpx.Client(limits=limits, timeout=timeout) as client:
            busy = threading.Thread(
                target=lambda: client.get(url, headers={"Authorization": "Bearer t"})
            )
            busy.start()
            threading.Event().wait(0.15)
            exc = provoke(lambda: client.get(url, headers={"Authorization": "Bearer t"}))
            busy.join()
    finally:
        server.faults.latency = 0.0
    assert isinstance(exc, httpx.PoolTimeout) and classify(exc) is NotSent


def test_an_answer_that_does_not_come_in_time_is_ambiguous(server: QboServer) -> None:
    server.faults.latency = 0.5
    try:
        exc = provoke(
            lambda: httpx.get(
                f"{server.base_url}/v3/company/r/item/1",
                headers={"Authorization": "Bearer t"},
                timeout=httpx.Timeout(2, read=0.1),
            )
        )
    finally:
        server.faults.latency = 0.0
    assert isinstance(exc, httpx.ReadTimeout) and classify(exc) is AmbiguousOutcome


def test_a_connection_dropped_before_the_answer_is_ambiguous(server: QboServer) -> None:
    server.reset_next(1)
    exc = provoke(
        lambda: httpx.post(
            f"{server.base_url}/v3/company/r/invoice",
            headers={"Authorization": "Bearer t"},
            json={},
            timeout=2,
        )
    )
    assert isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError)
    assert classify(exc) is AmbiguousOutcome


def test_an_unsupported_scheme_was_not_sent_and_an_invalid_url_is_configuration() -> None:
    exc = provoke(lambda: httpx.get("ftp://127.0.0.1/v3", timeout=1))
    assert isinstance(exc, httpx.UnsupportedProtocol) and classify(exc) is NotSent
    bad = provoke(lambda: httpx.get("http://[::1/v3", timeout=1))
    assert classify(bad) is ConfigurationError


def test_every_httpx_transport_class_is_classified_explicitly() -> None:
    listed = {cls for cls, _outcome, _what in CLASSES}
    wanted = {
        httpx.ConnectTimeout, httpx.PoolTimeout, httpx.ConnectError, httpx.UnsupportedProtocol,
        httpx.ProxyError, httpx.ReadTimeout, httpx.WriteTimeout, httpx.ReadError,
        httpx.WriteError, httpx.CloseError, httpx.RemoteProtocolError, httpx.LocalProtocolError,
        httpx.DecodingError, httpx.TooManyRedirects,
    }  # fmt: skip
    assert wanted <= listed
    # most specific first: no class is shadowed by a base class listed before it
    order = [cls for cls, _o, _w in CLASSES]
    for i, cls in enumerate(order):
        assert not any(issubclass(cls, earlier) for earlier in order[:i]), cls
