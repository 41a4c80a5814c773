"""The host's rules hold on every request: who, which companies, may act, CSRF, escaping."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from syncstate.adapters.storage.sqlite.state import SQLiteStore
from syncstate.web import Viewer
from web_panel import AT, HOSTILE_ID, client_for, csrf_of, record, state_of

PAGES = [
    "/",
    "/c/acme/",
    "/c/acme/results",
    "/c/acme/history",
    "/c/acme/reset",
    "/c/acme/export",
    "/c/acme/repost",
    "/c/acme/mirror/2025-01-01..2025-12-31/balances",
]


@pytest.mark.parametrize("path", PAGES)
def test_nobody_signed_in_gets_401_and_no_data(app: object, path: str) -> None:
    page = client_for(app, None).get(path)
    assert page.status_code == 401
    assert "A-1" not in page.text and "acme" not in page.text.split("<main>")[1]


@pytest.mark.parametrize(
    "path",
    [
        "/c/globex/",
        "/c/globex/results",
        "/c/globex/results?filter=failed&q=G-5",
        "/c/globex/reset?start=2026-03-01&end=2026-03-31&employee=emp-a",
        "/c/globex/export",
        "/c/globex/history",
        "/c/globex/history?start=2026-03-01&end=2026-03-31",
    ],
)
def test_a_user_of_company_a_cannot_read_company_b_by_editing_the_url(
    alice: TestClient, path: str
) -> None:
    page = alice.get(path)
    assert page.status_code == 404
    assert "G-" not in page.text and "emp-a" not in page.text


def test_the_front_page_lists_only_the_viewers_companies(alice: TestClient) -> None:
    page = alice.get("/")
    assert page.status_code == 200
    assert 'href="/c/acme/"' in page.text and "globex" not in page.text


def test_a_user_of_company_a_cannot_change_company_b_with_a_valid_token(
    alice: TestClient, store: SQLiteStore
) -> None:
    token = csrf_of(alice.get("/c/acme/results").text)
    form = {"csrf": token, "key": "time_entry:G-5", "reason": "hostile"}
    assert alice.post("/c/globex/results/unlink", data=form).status_code == 404
    # naming the other company in the form of one's own company's page is refused too
    sneaky = {**form, "company": "globex"}
    assert alice.post("/c/acme/results/unlink", data=sneaky).status_code == 404
    # and a record id is always read as a record of the company in the path
    page = alice.post("/c/acme/results/unlink", data=form)
    assert page.status_code == 404  # acme has no G-5
    assert state_of(store, "globex", "G-5") == "failed"


def test_a_post_without_a_valid_csrf_token_is_refused_and_changes_nothing(
    app: object, alice: TestClient, store: SQLiteStore
) -> None:
    form = {"key": "time_entry:A-5", "reason": "r"}
    assert alice.post("/c/acme/results/unlink", data=form).status_code == 403
    assert alice.post("/c/acme/results/unlink", data={**form, "csrf": "forged"}).status_code == 403
    carol = client_for(app, "carol")  # a token is bound to its user
    carols = csrf_of(carol.get("/c/acme/results").text)
    refused = alice.post("/c/acme/results/unlink", data={**form, "csrf": carols})
    assert refused.status_code == 403
    assert "security token" in refused.text
    assert state_of(store, "acme", "A-5") == "failed"


def test_a_panel_with_another_secret_does_not_accept_the_token(
    store: SQLiteStore, alice: TestClient
) -> None:
    from syncstate.web import create_app
    from web_panel import authorize

    token = csrf_of(alice.get("/c/acme/results").text)
    other = client_for(create_app(store, authorize=authorize, secret=b"x" * 32), "alice")
    form = {"csrf": token, "key": "time_entry:A-5", "reason": "r"}
    assert other.post("/c/acme/results/unlink", data=form).status_code == 403


def test_a_viewer_who_may_not_act_sees_no_buttons_and_cannot_post(
    app: object, store: SQLiteStore
) -> None:
    reader = client_for(app, "reader")
    page = reader.get("/c/acme/results")
    assert page.status_code == 200 and "Unlink records" not in page.text
    form = {"csrf": csrf_of(page.text), "key": "time_entry:A-5", "reason": "r"}
    refused = reader.post("/c/acme/results/unlink", data=form)
    assert refused.status_code == 403 and "may look but not change" in refused.text
    assert state_of(store, "acme", "A-5") == "failed"


def test_record_fields_with_html_and_script_are_shown_as_text(alice: TestClient) -> None:
    page = alice.get("/c/acme/results?filter=failed")
    assert page.status_code == 200
    assert "&lt;script&gt;alert(&#39;id&#39;)&lt;/script&gt;" in page.text
    assert "&lt;img src=x onerror=alert(1)&gt;" in page.text
    assert "&lt;b&gt;ACME&lt;/b&gt;" in page.text
    assert "<script>alert" not in page.text and "<img src=x" not in page.text
    assert "<b>ACME" not in page.text


def test_a_hostile_search_is_echoed_as_text(alice: TestClient) -> None:
    page = alice.get("/c/acme/results", params={"q": '"><script>alert(2)</script>'})
    assert page.status_code == 200
    assert "<script>alert(2)" not in page.text
    assert "&#34;&gt;&lt;script&gt;alert(2)&lt;/script&gt;" in page.text


def test_a_hostile_record_id_can_be_unlinked_and_its_result_is_escaped(
    alice: TestClient, store: SQLiteStore
) -> None:
    token = csrf_of(alice.get("/c/acme/results").text)
    done = alice.post(
        "/c/acme/results/unlink",
        data={"csrf": token, "key": f"time_entry:{HOSTILE_ID}", "reason": "<u>bad</u>"},
    )
    assert done.status_code == 200
    assert "<script>alert" not in done.text
    assert state_of(store, "acme", HOSTILE_ID) == "unlinked"
    unlinked = alice.get("/c/acme/results?filter=unlinked").text
    assert "unlinked: &lt;u&gt;bad&lt;/u&gt;" in unlinked


def test_every_page_forbids_inline_script_and_framing_by_other_sites(alice: TestClient) -> None:
    headers = alice.get("/c/acme/results").headers
    assert "script-src 'self'" in headers["content-security-policy"]
    assert "frame-ancestors 'self'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"


def test_an_error_page_escapes_what_it_repeats(alice: TestClient) -> None:
    page = alice.get("/c/acme/results", params={"after": "<b>no-colon</b>"})
    assert page.status_code == 400
    assert "&lt;b&gt;no-colon&lt;/b&gt;" in page.text and "<b>no-colon" not in page.text


def test_a_company_list_given_as_one_string_is_refused() -> None:
    with pytest.raises(TypeError, match="collection of ids"):
        Viewer(user="x", companies="acme")  # type: ignore[arg-type]


def test_authorize_returning_something_else_is_a_clear_error(store: SQLiteStore) -> None:
    from syncstate.web import create_app

    app = create_app(store, authorize=lambda request: "alice")  # type: ignore[arg-type,return-value]
    with pytest.raises(TypeError, match=r"must return a syncstate\.web\.Viewer"):
        client_for(app, "alice").get("/")


def test_an_async_authorize_is_awaited(store: SQLiteStore) -> None:
    from syncstate.web import create_app

    async def authorize(request: object) -> Viewer:
        return Viewer(user="ann", companies={"globex"})

    page = client_for(create_app(store, authorize=authorize), None).get("/c/globex/results")
    assert page.status_code == 200 and "G-1" in page.text and "ann (read only)" in page.text


def test_even_the_stylesheet_needs_a_signed_in_viewer(app: object, alice: TestClient) -> None:
    assert client_for(app, None).get("/static/panel.css").status_code == 401
    assert alice.get("/static/panel.css").status_code == 200


def test_a_company_id_with_odd_characters_is_quoted_in_redirects(store: SQLiteStore) -> None:
    from syncstate.adapters.backends.memory import MemoryBackend
    from syncstate.web import create_app

    odd = "acme ltd?x=1"
    store.ingest(odd, [record(odd, "O-1", "emp", 1)], at=AT, actor="h")
    app = create_app(
        store,
        authorize=lambda request: Viewer(user="ann", companies={odd}, may_act=True),
        backends={"books": MemoryBackend()},
    )
    client = client_for(app, None)
    page = client.get("/c/acme%20ltd%3Fx%3D1/results")
    assert page.status_code == 200 and "O-1" in page.text
    started = client.post(
        "/c/acme%20ltd%3Fx%3D1/export", data={"csrf": csrf_of(page.text), "backend": "books"}
    )
    assert started.headers["location"].startswith("/c/acme%20ltd%3Fx%3D1/jobs/")
