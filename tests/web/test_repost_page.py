"""The Repost page: findings by code with a chart, drill-down, plan preview, confirmed apply."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from starlette.testclient import TestClient

from syncstate.adapters.storage.sqlite.state import SQLiteStore
from syncstate.services.repost import diagnose_ledger
from syncstate.web import create_app
from web_panel import authorize, client_for, csrf_of, receivables_ledger


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Any]:
    opened: Any = receivables_ledger(tmp_path / "ledger.db")
    yield opened
    opened.close()


@pytest.fixture
def client(store: SQLiteStore, ledger: Any) -> TestClient:
    return client_for(create_app(store, authorize=authorize, ledger=ledger), "alice")


def test_findings_are_counted_by_code_with_a_bar_per_code(client: TestClient, ledger: Any) -> None:
    expected = {}
    for finding in diagnose_ledger(ledger, "acme"):
        expected[finding.code.value] = expected.get(finding.code.value, 0) + 1
    page = client.get("/c/acme/repost").text
    bars = dict(re.findall(r'<g class="bar" data-label="([^"]+)" data-value="(\d+)"', page))
    assert bars == {code: str(n) for code, n in expected.items()} and bars
    assert f"{sum(expected.values())} findings" in page


def test_a_drill_down_previews_the_plan_and_applying_repairs_only_that(
    client: TestClient, ledger: Any
) -> None:
    before = diagnose_ledger(ledger, "acme")
    target = next(f for f in before if f.scope.document == "INV-1")
    code = target.code.value
    listing = client.get(f"/c/acme/repost/{code}").text
    assert "CLIENT&lt;1&gt;" in listing and "CLIENT<1>" not in listing  # escaped
    drill = client.get(f"/c/acme/repost/{code}?where={quote(target.where)}").text
    assert "Plan: receivables repost of" in drill and "INV-1" in drill
    hidden = re.findall(r'type="hidden" name="([a-z]+)" value="([^"]*)"', drill)
    form = {name: html.unescape(value) for name, value in hidden}  # as a browser sends them
    unconfirmed = client.post("/c/acme/repost/apply", data={**form, "csrf": csrf_of(drill)})
    assert unconfirmed.status_code == 400 and "tick the box" in unconfirmed.text
    assert len(diagnose_ledger(ledger, "acme")) == len(before)
    done = client.post(
        "/c/acme/repost/apply", data={**form, "csrf": csrf_of(drill), "confirm": "yes"}
    )
    assert done.status_code == 200 and "balance rows written" in done.text
    after = diagnose_ledger(ledger, "acme")
    assert not [f for f in after if f.scope.document == "INV-1"]


def test_without_a_ledger_the_repost_page_says_it_is_not_set_up(alice: TestClient) -> None:
    page = alice.get("/c/acme/repost")
    assert page.status_code == 404 and "no repost ledger" in page.text


def test_another_companys_findings_are_not_shown(store: SQLiteStore, ledger: Any) -> None:
    bob = client_for(create_app(store, authorize=authorize, ledger=ledger), "bob")
    assert bob.get("/c/acme/repost").status_code == 404
    assert "0 findings" in bob.get("/c/globex/repost").text
