"""The syncstate panel in a Flask (WSGI) app, through the ``a2wsgi`` adapter.

``a2wsgi.ASGIMiddleware`` runs the ASGI panel on a WSGI server; Werkzeug's
``DispatcherMiddleware`` sends ``/sync/...`` to it and everything else to Flask. The
panel's live progress (server-sent events) streams through the adapter; on WSGI
servers that buffer responses the job page falls back to refreshing itself.
"""

from __future__ import annotations

import os
from typing import Any

from a2wsgi import ASGIMiddleware
from flask import Flask
from starlette.requests import Request
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from syncstate import SQLiteStore
from syncstate.web import Viewer, create_app


def authorize(request: Request) -> Viewer | None:
    """A signing-in proxy in front of the app sets ``X-Remote-User`` (an example rule)."""
    user = request.headers.get("x-remote-user")
    if not user:
        return None
    return Viewer(user=user, companies={"acme"}, may_act=True)


def build(db: str) -> Any:
    """The WSGI application: Flask, with the panel at ``/sync``."""
    flask_app = Flask(__name__)

    @flask_app.get("/")
    def home() -> str:
        return "the host's own page"

    panel = create_app(SQLiteStore(db), authorize=authorize)
    flask_app.wsgi_app = DispatcherMiddleware(  # type: ignore[method-assign]
        flask_app.wsgi_app, {"/sync": ASGIMiddleware(panel)}
    )
    return flask_app


def main() -> Any:
    """The app over ``$SYNCSTATE_DB`` (run: ``flask --app 'flask_app:main()' run``)."""
    return build(os.environ.get("SYNCSTATE_DB", "syncstate.db"))
