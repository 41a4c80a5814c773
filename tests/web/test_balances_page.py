"""The mirror's balances per account: one page per company and fiscal year."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from syncstate import MemoryMirrorStore, MirrorService, SQLiteMirrorStore
from syncstate.adapters.storage.sqlite.state import SQLiteStore
from syncstate.web import create_app
from syncstate.web.pages_balances import money
from web_books import EXPECTED, HOSTILE_ACCOUNT, TOTALS, Y2023, BooksSource
from web_panel import authorize, client_for

ROW = re.compile(
    r'<tr data-account="([^"]+)"[^>]*>\s*<td class="account">[^<]*</td>\s*'
    r'<td class="name">(.*?)</td>\s*<td class="money">([^<]*)</td>\s*'
    r'<td class="money">([^<]*)</td>\s*<td class="money">(.*?)</td>',
    re.S,
)


@pytest.fixture(params=["sqlite", "memory"])
def mirror(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    store: Any = (
        SQLiteMirrorStore(tmp_path / "books.db")
        if request.param == "sqlite"
        else MemoryMirrorStore()
    )
    for company in ("acme", "globex"):
        MirrorService(store).load(company, BooksSource())
    yield store
    store.close()


@pytest.fixture
def app(store: SQLiteStore, mirror: Any) -> Any:
    return create_app(store, authorize=authorize, mirror=mirror, secret=b"k" * 32)


def balances_url(company: str = "acme", year: str = Y2023) -> str:
    return f"/c/{company}/mirror/{year}/balances"


def rows_of(page: str) -> dict[str, tuple[str, str, str, str, bool]]:
    """Each account row: (name, opening, movement, closing, flagged), as a user reads it."""
    found = {}
    for number, name, opening, movement, closing in ROW.findall(page):
        flagged = "&#8800;" in closing or "\u2260" in closing
        shown = re.sub(r"<span.*?</span>\s*", "", closing, flags=re.S).strip()
        found[number] = (html.unescape(name), opening, movement, shown, flagged)
    return found


def totals_of(page: str) -> tuple[str, ...]:
    return tuple(
        re.search(rf'data-total="{which}">([^<]*)<', page).group(1)  # type: ignore[union-attr]
        for which in ("opening", "movement", "closing")
    )


def test_every_account_with_opening_movement_closing_and_totals(app: Any) -> None:
    page = client_for(app, "alice").get(balances_url())
    assert page.status_code == 200
    assert rows_of(page.text) == EXPECTED
    assert totals_of(page.text) == TOTALS
    assert "5 accounts" in page.text and "3 vouchers, 6 transactions" in page.text


def test_the_amounts_are_right_aligned_plain_decimals(app: Any) -> None:
    page = client_for(app, "alice").get(balances_url()).text
    amounts = re.findall(r'<td class="money"[^>]*>(?:<span.*?</span>\s*)?([^<]*)</td>', page, re.S)
    assert len(amounts) == 5 * 3 + 3
    assert all(re.fullmatch(r"-?\d+\.\d{2,}", a.strip()) for a in amounts), amounts
    css = client_for(app, "alice").get("/static/panel.css").text
    assert re.search(r"\.money \{[^}]*text-align: right", css)


def test_money_is_never_rounded_nor_written_with_an_exponent() -> None:
    assert money(Decimal("100.1")) == "100.10"
    assert money(Decimal("-0.005")) == "-0.005"
    assert money(Decimal("1E+3")) == "1000.00"
    assert money(Decimal("-0.00")) == "0.00"
    assert money(Decimal("12345678901234567890123456789.5")) == "12345678901234567890123456789.50"


@pytest.mark.parametrize(
    ("text", "accounts"),
    [
        ("19", ["1930"]),
        ("1", ["1510", "1930"]),
        ("rEnT", ["5010"]),
        ("suppliers", ["2440"]),
        ("<b>", ["2440"]),
        ("nothing like it", []),
    ],
)
def test_the_filter_by_number_prefix_or_name(app: Any, text: str, accounts: list[str]) -> None:
    page = client_for(app, "alice").get(balances_url(), params={"q": text}).text
    assert sorted(rows_of(page)) == accounts
    if accounts:
        shown = [EXPECTED[a] for a in accounts]
        opening = sum((Decimal(row[1]) for row in shown), Decimal(0))
        assert Decimal(totals_of(page)[0]) == opening  # the totals are of the rows shown
        assert f"{len(accounts)} of 5 accounts match" in page
    else:
        assert "No account matches" in page and "data-total" not in page


def test_the_mirror_page_links_each_year_to_its_balances(app: Any) -> None:
    client = client_for(app, "alice")
    page = client.get("/c/acme/mirror").text
    link = re.search(r'<a href="([^"]+/balances)" class="balances"', page)
    assert link and html.unescape(link.group(1)) == balances_url()
    assert client.get(html.unescape(link.group(1))).status_code == 200


def test_an_account_name_of_html_is_shown_as_text(app: Any) -> None:
    page = client_for(app, "alice").get(balances_url()).text
    assert HOSTILE_ACCOUNT not in page and "<img" not in page and "<b>co" not in page
    assert html.escape(HOSTILE_ACCOUNT) in page.replace("&#39;", "&#x27;")


def test_a_year_not_in_the_mirror_and_a_badly_written_year(app: Any) -> None:
    client = client_for(app, "alice")
    missing = client.get(balances_url(year="2019-01-01..2019-12-31"))
    assert missing.status_code == 404 and "not in the mirror of acme" in missing.text
    bad = client.get(balances_url(year="2023"))
    assert bad.status_code == 400 and "YYYY-MM-DD..YYYY-MM-DD" in bad.text


def test_a_read_only_viewer_reads_the_balances(app: Any) -> None:
    assert client_for(app, "reader").get(balances_url()).status_code == 200


def test_without_a_mirror_store_the_page_says_so(store: SQLiteStore) -> None:
    client = client_for(create_app(store, authorize=authorize), "alice")
    page = client.get(balances_url())
    assert page.status_code == 404 and "no mirror store" in page.text


def test_company_b_balances_are_not_readable_by_a_user_of_a(app: Any) -> None:
    alice = client_for(app, "alice")
    for path in (balances_url("globex"), balances_url("globex") + "?q=secret"):
        page = alice.get(path)
        assert page.status_code == 404
        assert "Globex secret" not in page.text and "1510" not in page.text
    # the same answer as for a company that does not exist: no hint that globex does
    nowhere = alice.get(balances_url("nosuch")).text
    assert alice.get(balances_url("globex")).text == nowhere
    assert client_for(app, None).get(balances_url()).status_code == 401
    # bob, of globex, reads globex's
    page = client_for(app, "bob").get(balances_url("globex"))
    assert page.status_code == 200 and "Globex secret receivables" in page.text
