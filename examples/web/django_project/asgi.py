"""ASGI entry point: ``/sync/`` goes to the syncstate panel, everything else to Django.

Run from this folder: ``uvicorn asgi:application`` (``DJANGO_SETTINGS_MODULE=settings``).
The panel asks Django who the user is: the session cookie is read with Django's own
session engine and ``django.contrib.auth.get_user`` (in a worker thread: the panel
runs a plain ``authorize`` function off the event loop, as Django's ORM requires).
"""

from __future__ import annotations

import os
from importlib import import_module
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings")

from django.conf import settings
from django.core.asgi import get_asgi_application

django_app = get_asgi_application()  # sets Django up before the models are used

from django.contrib.auth import get_user  # noqa: E402
from starlette.applications import Starlette  # noqa: E402
from starlette.requests import Request  # noqa: E402
from starlette.routing import Mount  # noqa: E402

from syncstate.adapters.storage.sqlite.state import SQLiteStore  # noqa: E402
from syncstate.web import Viewer, create_app  # noqa: E402


class _SessionOnly:
    """The one thing ``get_user`` reads from a request: its session."""

    def __init__(self, session: Any) -> None:
        self.session = session


def authorize(request: Request) -> Viewer | None:
    """The Django user behind the session cookie; companies from ``company:ID`` groups."""
    key = request.cookies.get(settings.SESSION_COOKIE_NAME)
    if not key:
        return None
    engine = import_module(settings.SESSION_ENGINE)
    user = get_user(_SessionOnly(engine.SessionStore(key)))  # type: ignore[arg-type]
    if not user.is_authenticated:
        return None
    companies = {
        name.removeprefix("company:")
        for name in user.groups.values_list("name", flat=True)
        if name.startswith("company:")
    }
    return Viewer(user=user.get_username(), companies=companies, may_act=user.is_staff)


panel = create_app(
    SQLiteStore(settings.SYNCSTATE_DB), authorize=authorize, secret=settings.SECRET_KEY.encode()
)
application = Starlette(routes=[Mount("/sync", app=panel), Mount("/", app=django_app)])
