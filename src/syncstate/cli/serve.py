"""``syncstate serve``: the operator panel in a browser, on this machine, for one user.

Listens on 127.0.0.1 only (never on a network interface) and prints a URL with a
one-time token; opening it sets a cookie, and every other request without that cookie
is refused, so other users of the machine cannot use the panel. Needs the web extra:
``pip install 'syncstate[web]'``. ``--backend`` (with ``--backend-option``) enables
export; ``--ledger FILE`` the repost page; ``--mirror FILE`` the mirror page; the bundles
page uses the database itself. ``--read-only`` shows without changing anything.
"""

from __future__ import annotations

import argparse
import getpass
import hmac
import secrets
import socket
import sys
from collections.abc import Callable
from http.cookies import SimpleCookie
from typing import TYPE_CHECKING, Any

from syncstate.cli._common import add_db_argument, add_json_argument, open_sqlite_store
from syncstate.cli.backend_args import add_backend_arguments, backend_pairs, close_backend
from syncstate.errors import ConfigurationError, InputError

if TYPE_CHECKING:
    from starlette.requests import Request

    from syncstate.ports import StateStore
    from syncstate.web import Viewer

__all__ = ["TokenGate", "local_authorize", "register", "run"]

COOKIE = "syncstate_panel"
HOST = "127.0.0.1"


def register(sub: Any) -> None:
    """Add the ``serve`` command."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "serve",
        help="run the operator panel on 127.0.0.1 (needs syncstate[web])",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_db_argument(parser)
    parser.add_argument("--port", type=int, default=8765, help="port (default 8765; 0: any free)")
    parser.add_argument("--ledger", metavar="FILE", help="SQLite repost ledger (repost page)")
    parser.add_argument("--mirror", metavar="FILE", help="SQLite mirror store (mirror page)")
    parser.add_argument("--read-only", action="store_true", help="look, never change")
    add_backend_arguments(parser, required=False)
    add_json_argument(parser)  # errors as one JSON line on stderr
    parser.set_defaults(func=run)


def local_authorize(
    store: StateStore, *, may_act: bool, user: str | None = None
) -> Callable[[Request], Viewer]:
    """The single local user, who may see every company in ``store``."""
    from syncstate.web import Viewer

    name = user or getpass.getuser()

    def authorize(request: Request) -> Viewer:
        return Viewer(user=name, companies=frozenset(store.companies()), may_act=may_act)

    return authorize


class TokenGate:
    """ASGI middleware: only a browser that opened the printed URL (token) gets in."""

    def __init__(self, app: Any, token: str) -> None:
        self.app = app
        self.token = token

    def __repr__(self) -> str:
        return "TokenGate(token=***)"

    def _cookie(self, scope: dict[str, Any]) -> str:
        for name, value in scope.get("headers", []):
            if name == b"cookie":
                jar: SimpleCookie = SimpleCookie()
                jar.load(value.decode("latin-1"))
                if COOKIE in jar:
                    return jar[COOKIE].value
        return ""

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """Let the request through, trade the URL token for a cookie, or refuse (403)."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        from urllib.parse import parse_qs

        given = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token", [""])[0]
        if given and hmac.compare_digest(given, self.token):
            cookie = f"{COOKIE}={self.token}; Path=/; HttpOnly; SameSite=Strict"
            headers = [(b"location", b"/"), (b"set-cookie", cookie.encode())]
            await send({"type": "http.response.start", "status": 303, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        if hmac.compare_digest(self._cookie(scope), self.token):
            await self.app(scope, receive, send)
            return
        body = b"Open the URL that `syncstate serve` printed (it carries the access token).\n"
        headers = [(b"content-type", b"text/plain; charset=utf-8")]
        await send({"type": "http.response.start", "status": 403, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def run(args: argparse.Namespace) -> int:
    """Serve the panel until interrupted."""
    try:
        import uvicorn

        from syncstate.web import create_app
    except ImportError as exc:
        raise ConfigurationError(
            f"syncstate serve needs the web extra ({exc}): pip install 'syncstate[web]'"
        ) from None
    if args.realm is not None:
        raise InputError("--realm needs a company; use --backend-option realm=COMPANY:ID")
    store = open_sqlite_store(args)
    backends = {}
    if args.backend:
        if args.backend == "memory" and not args.allow_memory:
            raise InputError("--backend memory forgets what it receives: add --allow-memory")
        from syncstate.plugins import open_backend_from_options

        backends[args.backend] = open_backend_from_options(args.backend, backend_pairs(args))
    ledger = None
    if args.ledger:
        from syncstate.adapters.storage.sqlite.ledger import SQLiteLedgerStore

        ledger = SQLiteLedgerStore(args.ledger, readonly=args.read_only)
    mirror = None
    if args.mirror:
        from syncstate.adapters.storage.sqlite.mirror import SQLiteMirrorStore

        mirror = SQLiteMirrorStore(args.mirror)
    bundles = None
    if not args.read_only:  # opening the bundle tables may create them: a write
        from syncstate.adapters.storage.sqlite.bundles import SQLiteBundleStore

        bundles = SQLiteBundleStore.beside(store)
    app = create_app(
        store,
        authorize=local_authorize(store, may_act=not args.read_only),
        backends=backends,
        ledger=ledger,
        bundles=bundles,
        mirror=mirror,
    )
    token = secrets.token_urlsafe(24)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((HOST, args.port))
    except OSError as exc:
        sock.close()
        raise InputError(f"cannot listen on {HOST}:{args.port}: {exc.strerror}") from None
    port = sock.getsockname()[1]
    print(f"syncstate panel: http://{HOST}:{port}/?token={token}", flush=True)
    print("Press Ctrl-C to stop.", file=sys.stderr, flush=True)
    config = uvicorn.Config(TokenGate(app, token), log_level="warning", lifespan="off")
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
        for backend in backends.values():
            close_backend(backend)
        for extra in (ledger, mirror):
            if extra is not None:
                extra.close()
        store.close()
    return 0
