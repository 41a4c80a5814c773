"""The panel mounted under a prefix of the host's Starlette app: links, static files, forms."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route
from starlette.testclient import TestClient

from syncstate.adapters.storage.sqlite.state import SQLiteStore
from syncstate.web import create_app
from web_panel import authorize, csrf_of, state_of


def host(store: SQLiteStore) -> TestClient:
    async def homepage(request: Request) -> PlainTextResponse:
        return PlainTextResponse("the host's own page")

    app = Starlette(
        routes=[
            Route("/", homepage),
            Mount("/ops/sync", app=create_app(store, authorize=authorize)),
        ]
    )
    return TestClient(app, headers={"x-user": "alice"}, follow_redirects=False)


def test_the_mounted_panel_links_within_its_prefix(store: SQLiteStore) -> None:
    client = host(store)
    assert client.get("/").text == "the host's own page"
    page = client.get("/ops/sync/c/acme/results").text
    assert 'href="/ops/sync/static/panel.css"' in page
    assert 'action="/ops/sync/results' not in page
    assert 'formaction="/ops/sync/c/acme/results/relink"' in page
    assert 'href="/ops/sync/c/acme/reset"' in page
    css = client.get("/ops/sync/static/panel.css")
    assert css.status_code == 200 and "font-family" in css.text


def test_a_form_posted_to_the_mounted_panel_works(store: SQLiteStore) -> None:
    client = host(store)
    token = csrf_of(client.get("/ops/sync/c/acme/results").text)
    done = client.post(
        "/ops/sync/c/acme/results/unlink",
        data={"csrf": token, "key": "time_entry:A-6", "reason": "mounted"},
    )
    assert done.status_code == 200 and 'href="/ops/sync/c/acme/results"' in done.text
    assert state_of(store, "acme", "A-6") == "unlinked"


def test_the_mounted_panel_still_refuses_other_companies(store: SQLiteStore) -> None:
    assert host(store).get("/ops/sync/c/globex/results").status_code == 404
