"""The HTTP plumbing of the local QuickBooks-like server (one thread per connection).

:class:`RequestHandler` turns HTTP/1.1 requests into calls of ``QboServer.handle`` and
writes the answers without Nagle's delay; a dropped answer resets the connection
(``SO_LINGER`` 0) as a crashed peer would.
"""

from __future__ import annotations

import socket
import struct
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

__all__ = ["LocalServer", "QuietServer", "RequestHandler"]


class QuietServer(ThreadingHTTPServer):
    """Clients that vanish mid-request (killed exporters) are expected, not errors."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    qbo: Any  #: the QboServer that answers (set on a subclass per server)

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet (tests read counters, not logs)."""

    def setup(self) -> None:
        """Answer without Nagle's delay: headers and body leave at once, as a real API's do."""
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _serve(self, method: str) -> None:
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if len(body) < length:
            # the client died while sending: a real server drops the request unprocessed
            self.close_connection = True
            return
        answer = self.qbo.handle(
            method, url.path, query, self.headers.get("Authorization", ""), body
        )
        if answer.drop:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
            return
        self.send_response(answer.status)
        self.send_header("Content-Type", answer.content_type)
        self.send_header("Content-Length", str(len(answer.body)))
        for name, value in answer.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(answer.body)

    def do_GET(self) -> None:
        """Reads, PDFs and queries."""
        self._serve("GET")

    def do_POST(self) -> None:
        """Writes, batches and queries."""
        self._serve("POST")


class LocalServer:
    """The life cycle every local test server shares: listen on 127.0.0.1 on a free port
    in a daemon thread; a context manager that starts and stops it.

    A subclass says which request handler serves it (:meth:`handler`) and builds its
    service URL from :attr:`root_url`.
    """

    _httpd: ThreadingHTTPServer | None = None

    def handler(self) -> type[BaseHTTPRequestHandler]:
        """The request handler class bound to this server."""
        raise NotImplementedError

    def start(self) -> Self:
        """Listen on 127.0.0.1 on a free port in a daemon thread."""
        self._httpd = QuietServer(("127.0.0.1", 0), self.handler())
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop listening."""
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def root_url(self) -> str:
        """``http://127.0.0.1:<port>`` of the running server."""
        if self._httpd is None:
            raise RuntimeError("the server is not started")
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"
