"""Fixtures of the web panel tests: a panel over a real SQLite store (see ``web_panel``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("starlette", reason="the web panel needs: pip install 'syncstate[web]'")

from starlette.testclient import TestClient

from syncstate.adapters.backends.memory import MemoryBackend
from syncstate.adapters.storage.sqlite.state import SQLiteStore
from syncstate.web import create_app
from web_panel import authorize, client_for, seed


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStore]:
    opened = SQLiteStore(tmp_path / "panel.db")
    seed(opened, "acme", "A")
    seed(opened, "globex", "G")
    yield opened
    opened.close()


@pytest.fixture
def backend() -> MemoryBackend:
    return MemoryBackend(name="books")


@pytest.fixture
def app(store: SQLiteStore, backend: MemoryBackend) -> object:
    return create_app(store, authorize=authorize, backends={"books": backend}, secret=b"k" * 32)


@pytest.fixture
def alice(app: object) -> TestClient:
    return client_for(app, "alice")
