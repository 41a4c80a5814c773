"""The HTTP plumbing of the local Xero-like server (one thread per connection).

:class:`XeroRequestHandler` turns HTTP/1.1 requests (``GET``, ``PUT``, ``POST``,
``DELETE``) into calls of ``XeroServer.handle`` with every header, and writes the
answers; a dropped answer resets the connection (``SO_LINGER`` 0) as a crashed peer would.
"""

from __future__ import annotations

import socket
import struct
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

__all__ = ["XeroRequestHandler"]


class XeroRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    xero: Any  #: the XeroServer that answers (set on a subclass per server)

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet (tests read counters, not logs)."""

    def setup(self) -> None:
        """Answer without Nagle's delay."""
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _serve(self, method: str) -> None:
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if len(body) < length:
            self.close_connection = True  # the client died while sending: nothing happens
            return
        headers = {name.lower(): value for name, value in self.headers.items()}
        answer = self.xero.handle(method, url.path, query, headers, body)
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
        """Reads, filters and PDFs."""
        self._serve("GET")

    def do_PUT(self) -> None:
        """Creates."""
        self._serve("PUT")

    def do_POST(self) -> None:
        """Creates and updates."""
        self._serve("POST")

    def do_DELETE(self) -> None:
        """Item deletes."""
        self._serve("DELETE")
