"""The panel's ASGI application: one :class:`Panel` holding the host's stores and rules.

:func:`create_app` builds a Starlette application whose pages live in the
``pages_*`` modules of this package. Every request goes through :meth:`Panel.viewer`
(the host's ``authorize``), every company in a path through :meth:`Panel.company`,
and every POST through :meth:`Panel.form` (may act, CSRF token, no other company).
Blocking store and back-end calls run in a worker thread, so one slow page does not
stall the others.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import quote

import attrs
from jinja2 import Environment, PackageLoader
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Receive, Scope, Send

from syncstate.errors import (
    CompanyBusy,
    InputError,
    InvalidTransition,
    RecordNotFound,
    SyncStateError,
)
from syncstate.ports import (
    AccountingBackend,
    BundleStore,
    Clock,
    MirrorStore,
    RepostLedger,
    StateStore,
    SystemClock,
)
from syncstate.web.jobs import JobBoard
from syncstate.web.security import Authorize, CsrfGuard, Refused, Viewer, authorized_viewer

__all__ = ["Panel", "create_app"]

log = logging.getLogger(__name__)
_T = TypeVar("_T")

#: sent with every page: no inline script, nothing from elsewhere, not framed by other sites
SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'"
    ),
    "x-content-type-options": "nosniff",
    "x-frame-options": "SAMEORIGIN",
    "referrer-policy": "same-origin",
    "cache-control": "no-store",
}


@attrs.define(kw_only=True)
class Panel:
    """What the pages share: the host's stores, back ends and rules."""

    store: StateStore
    authorize: Authorize
    backends: Mapping[str, AccountingBackend]
    csrf: CsrfGuard
    clock: Clock
    jobs: JobBoard
    templates: Jinja2Templates
    title: str
    #: the repost page's ledger (``None``: the page says it is not set up)
    ledger: RepostLedger | None = None
    #: the bundles page's bundle store (``None``: the page says it is not set up)
    bundles: BundleStore | None = None
    #: the mirror page's store (``None``: the page says it is not set up)
    mirror: MirrorStore | None = None

    async def viewer(self, request: Request) -> Viewer:
        """The signed-in viewer (the host's ``authorize``), or 401."""
        return await authorized_viewer(request, self.authorize)

    def company(self, request: Request, viewer: Viewer) -> str:
        """The company in the path, if ``viewer`` may see it (404 otherwise, never a hint)."""
        company = str(request.path_params.get("company", ""))
        if not viewer.sees(company):
            raise Refused(404, "There is no such company in your panel.")
        return company

    async def form(
        self, request: Request, viewer: Viewer, company: str, *, act: bool = True
    ) -> FormData:
        """The POSTed form, once the viewer may act, the token is right and no company differs.

        ``act=False`` for a POST that only reads (an upload to compare, say).
        """
        if act and not viewer.may_act:
            raise Refused(403, f"{viewer.user} may look but not change anything here.")
        form = await request.form(max_files=50, max_fields=5000)
        token = form.get("csrf") or request.headers.get("x-csrf-token")
        self.csrf.check(viewer, token if isinstance(token, str) else None)
        for named in form.getlist("company"):
            if named != company:
                raise Refused(404, "There is no such company in your panel.")
        return form

    def url(self, request: Request, company: str, path: str) -> str:
        """The panel's URL of ``path`` under ``company`` (prefix of the mount, id quoted)."""
        base = str(request.scope.get("root_path", "")).rstrip("/")
        return f"{base}/c/{quote(company, safe='')}{path}"

    async def call(self, fn: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
        """Run a blocking service call in a worker thread."""
        return await run_in_threadpool(functools.partial(fn, *args, **kwargs))

    def render(
        self,
        request: Request,
        name: str,
        context: dict[str, Any],
        *,
        viewer: Viewer | None = None,
        status: int = 200,
    ) -> HTMLResponse:
        """Render template ``name`` (every value escaped) with the panel's common context."""
        base = str(request.scope.get("root_path", "")).rstrip("/")
        full = {
            "title": self.title,
            "base": base,
            "viewer": viewer,
            "csrf": "" if viewer is None else self.csrf.token(viewer),
            "backends": sorted(self.backends),
            **context,
        }
        response = self.templates.TemplateResponse(request, name, full, status_code=status)
        return response


def panel_of(request: Request) -> Panel:
    """The :class:`Panel` of the application serving ``request``."""
    panel: Panel = request.app.state.panel
    return panel


async def _refused(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Refused)  # registered for Refused only
    return panel_of(request).render(
        request, "error.html", {"message": exc.message, "heading": "Refused"}, status=exc.status
    )


async def _failed(request: Request, exc: Exception) -> Response:
    status = 502
    if isinstance(exc, InputError):
        status = 400
    elif isinstance(exc, InvalidTransition | CompanyBusy):
        status = 409
    elif isinstance(exc, RecordNotFound):
        status = 404
    if status == 502:
        log.warning("panel request failed: %s", exc, extra={"path": request.url.path})
    message = " ".join(str(exc).split())
    return panel_of(request).render(
        request, "error.html", {"message": message, "heading": "Not done"}, status=status
    )


class _SecurityHeaders:
    """Adds :data:`SECURITY_HEADERS` to every response of the panel."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def sending(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                for name, value in SECURITY_HEADERS.items():
                    if name.encode() not in present:
                        headers.append((name.encode(), value.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, sending)


class _Authorized:
    """ASGI wrapper: the host's ``authorize`` passes even requests for static files."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await panel_of(Request(scope, receive)).viewer(Request(scope, receive))
        await self.app(scope, receive, send)


def _routes() -> list[BaseRoute]:
    from syncstate.web import (
        pages_balances,
        pages_bundles,
        pages_export,
        pages_history,
        pages_home,
        pages_mirror,
        pages_repost,
        pages_reset,
        pages_results,
    )

    routes: list[BaseRoute] = [
        Mount(
            "/static",
            app=_Authorized(StaticFiles(packages=[("syncstate.web", "static")])),
            name="static",
        ),
    ]
    for module in (
        pages_home,
        pages_history,
        pages_results,
        pages_reset,
        pages_export,
        pages_bundles,
        pages_mirror,
        pages_balances,
        pages_repost,
    ):
        routes.extend(module.routes())
    return routes


def create_app(
    store: StateStore,
    *,
    authorize: Authorize,
    backends: Mapping[str, AccountingBackend] | None = None,
    ledger: RepostLedger | None = None,
    bundles: BundleStore | None = None,
    mirror: MirrorStore | None = None,
    secret: bytes | None = None,
    clock: Clock | None = None,
    title: str = "syncstate",
) -> Starlette:
    """The operator panel as an ASGI application, to mount in the host's web app.

    ``store`` holds the records; ``authorize`` is called on every request and returns
    the :class:`~syncstate.web.Viewer` (or ``None``: not signed in); ``backends`` are
    the back ends an operator may export to, by name; ``ledger`` (a
    :class:`~syncstate.adapters.storage.sqlite.ledger.SQLiteLedgerStore`) enables the
    repost page, ``bundles`` (a :class:`~syncstate.ports.BundleStore`, e.g.
    ``SQLiteBundleStore.beside(store)``) the bundles page and ``mirror`` (a
    :class:`~syncstate.ports.MirrorStore`) the mirror page and its balances per
    account. ``secret`` signs the CSRF tokens: give every worker process the same one
    (by default each panel draws its own at random).
    """
    env = Environment(loader=PackageLoader("syncstate.web", "templates"), autoescape=True)
    panel = Panel(
        store=store,
        authorize=authorize,
        backends=dict(backends or {}),
        csrf=CsrfGuard(secret),
        clock=clock or SystemClock(),
        jobs=JobBoard(),
        templates=Jinja2Templates(env=env),
        title=title,
        ledger=ledger,
        bundles=bundles,
        mirror=mirror,
    )
    app = Starlette(
        routes=_routes(),
        middleware=[Middleware(_SecurityHeaders)],
        exception_handlers={Refused: _refused, SyncStateError: _failed},
    )
    app.state.panel = panel
    return app


def page(handler: Callable[[Request, Panel, Viewer, str], Any]) -> Callable[[Request], Any]:
    """Wrap a company page: ask the host who this is and check the company first."""

    @functools.wraps(handler)
    async def endpoint(request: Request) -> Any:
        panel = panel_of(request)
        viewer = await panel.viewer(request)
        company = panel.company(request, viewer)
        return await handler(request, panel, viewer, company)

    return endpoint


def company_route(path: str, handler: Any, *, methods: tuple[str, ...] = ("GET",)) -> Route:
    """A route under ``/c/{company}`` whose handler gets the checked viewer and company."""
    return Route("/c/{company}" + path, page(handler), methods=list(methods))
