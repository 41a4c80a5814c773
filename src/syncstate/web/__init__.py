"""The operator panel: a mountable ASGI application (``pip install 'syncstate[web]'``).

``create_app(store, authorize=...)`` returns a Starlette application with the pages an
accountant or office manager uses: sync results (filter, search, unlink, relink,
export selected with live progress), the history of records per export state,
reset with its warning and acknowledgement, export, bundles (export, PDF, un-bundle,
historical cutoff), the mirror (balances per account, clear with confirmation, reload
from uploaded SIE files) and repost diagnostics with drill-down.
Mount it in the host's app::

    from syncstate.web import Viewer, create_app

    def authorize(request):
        user = request.scope.get("user")          # however the host knows its users
        if user is None:
            return None                           # not signed in: 401
        return Viewer(user=user.name, companies=user.companies, may_act=user.is_staff)

    app.mount("/sync", create_app(store, authorize=authorize, backends={"qbo": backend}))

Security is the host's and enforced here: see :mod:`syncstate.web.security`.
"""

from __future__ import annotations

try:
    import jinja2  # noqa: F401  (checked here so the error names the extra)
    import starlette  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the installation
    raise ImportError(
        f"syncstate.web needs the web extra ({exc.name} is missing): pip install 'syncstate[web]'"
    ) from exc

from syncstate.web.app import create_app
from syncstate.web.security import Authorize, Viewer

__all__ = ["Authorize", "Viewer", "create_app"]
