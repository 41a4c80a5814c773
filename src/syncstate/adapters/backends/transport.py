"""What an httpx failure means for exactly-once: never sent, or maybe sent.

Every back end that talks HTTP through httpx maps transport failures here, so the
engine gets the same answer from each:

* :class:`~syncstate.errors.NotSent`: the request provably never left this machine
  (connection refused, DNS failure, TLS handshake failure, a connect timeout, no free
  pooled connection in time, an unsupported URL scheme, a proxy that refused the
  tunnel). Retried with the same key, released if it never goes out; no lookup.
* :class:`~syncstate.errors.AmbiguousOutcome`: the request may have reached the
  service and been committed (a read or write timeout, a connection dropped before
  the answer, an answer that cannot be decoded, a local protocol error after the
  request started, too many redirects). The engine looks the document up by its key
  before it sends again.
* :class:`~syncstate.errors.ConfigurationError`: the URL itself is invalid.

The order of :data:`CLASSES` matters: the first matching class decides, so subclasses
come before their bases (``ConnectTimeout`` before ``TimeoutException``), and the last
entry (``httpx.HTTPError``) catches whatever a future httpx adds, as ambiguous.
"""

from __future__ import annotations

from typing import Self

import httpx

from syncstate.errors import AmbiguousOutcome, ConfigurationError, NotSent, SyncStateError

__all__ = ["CLASSES", "OwnedClient", "transport_error"]

_NOT_SENT = "not sent"
_AMBIGUOUS = "ambiguous"

#: httpx exception class -> (outcome, what to say), most specific first
CLASSES: tuple[tuple[type[Exception], str, str], ...] = (
    (httpx.ConnectTimeout, _NOT_SENT, "timed out connecting to"),
    (httpx.PoolTimeout, _NOT_SENT, "found no free connection in time to"),
    (httpx.ConnectError, _NOT_SENT, "could not connect (refused, DNS or TLS) to"),
    (httpx.UnsupportedProtocol, _NOT_SENT, "has an unsupported URL scheme for"),
    (httpx.ProxyError, _NOT_SENT, "could not open a proxy tunnel to"),
    (httpx.ReadTimeout, _AMBIGUOUS, "got no answer in time from"),
    (httpx.WriteTimeout, _AMBIGUOUS, "timed out sending the request to"),
    (httpx.TimeoutException, _AMBIGUOUS, "timed out talking to"),
    (httpx.ReadError, _AMBIGUOUS, "lost the connection while reading from"),
    (httpx.WriteError, _AMBIGUOUS, "lost the connection while writing to"),
    (httpx.CloseError, _AMBIGUOUS, "failed closing the connection to"),
    (httpx.RemoteProtocolError, _AMBIGUOUS, "was cut off (no complete answer) by"),
    (httpx.LocalProtocolError, _AMBIGUOUS, "broke the HTTP protocol talking to"),
    (httpx.DecodingError, _AMBIGUOUS, "could not decode the answer of"),
    (httpx.TooManyRedirects, _AMBIGUOUS, "was redirected too often by"),
    (httpx.HTTPError, _AMBIGUOUS, "failed talking to"),
)


def transport_error(
    exc: Exception, *, service: str, operation: str, record: str | None = None
) -> SyncStateError:
    """The syncstate error for an httpx failure of ``operation`` (``POST invoice``)."""
    if isinstance(exc, httpx.InvalidURL):
        return ConfigurationError(f"the {service} URL is not valid: {exc}")
    for cls, outcome, what in CLASSES:
        if isinstance(exc, cls):
            message = f"{operation} {what} {service} ({type(exc).__name__})"
            if outcome == _NOT_SENT:
                return NotSent(message, record=record)
            return AmbiguousOutcome(message, record=record)
    return AmbiguousOutcome(
        f"{operation} failed talking to {service} ({type(exc).__name__})", record=record
    )


class OwnedClient:
    """Mixin for HTTP back ends: ``close()`` and ``with`` for the httpx client they may own.

    A back end sets ``self._client`` and ``self._owns_client`` (true when it made the
    client itself rather than receiving the host's); only an owned client is closed.
    """

    _client: httpx.Client
    _owns_client: bool

    def close(self) -> None:
        """Close the HTTP client if this back end created it."""
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
