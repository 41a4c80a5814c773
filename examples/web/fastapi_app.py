"""The syncstate panel mounted in a FastAPI app at ``/sync``.

The host already knows its users (here: an API key header standing in for a real
sign-in); ``authorize`` turns the user into a :class:`~syncstate.web.Viewer`. Run it
from this folder with ``SYNCSTATE_DB=demo.db uvicorn --factory fastapi_app:main``.
"""

from __future__ import annotations

import os
from typing import Any

from fastapi import FastAPI
from starlette.requests import Request

from syncstate import MemoryBackend, SQLiteStore
from syncstate.web import Viewer, create_app

#: the host's users: who they are, which companies they keep, whether they may change things
USERS = {
    "key-ann": ("ann@example.com", {"acme"}, True),
    "key-joe": ("joe@example.com", {"acme", "globex"}, False),
}


def authorize(request: Request) -> Viewer | None:
    """The host's sign-in, as the panel needs it (``None``: not signed in)."""
    found = USERS.get(request.headers.get("x-api-key", ""))
    if found is None:
        return None
    user, companies, may_act = found
    return Viewer(user=user, companies=companies, may_act=may_act)


def build(db: str) -> FastAPI:
    """The host's FastAPI app with the panel at ``/sync``."""
    app = FastAPI()

    @app.get("/")
    def home() -> dict[str, str]:
        return {"panel": "/sync/"}

    store = SQLiteStore(db)
    panel = create_app(
        store,
        authorize=authorize,
        backends={"memory": MemoryBackend()},  # a real host passes its QuickBooks back end
        secret=os.environ.get("SYNCSTATE_PANEL_SECRET", "").encode() or None,
    )
    app.mount("/sync", panel)
    return app


def main() -> Any:
    """The app over ``$SYNCSTATE_DB`` (run: ``uvicorn --factory fastapi_app:main``)."""
    return build(os.environ.get("SYNCSTATE_DB", "syncstate.db"))
