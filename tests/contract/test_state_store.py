"""The storage conformance suite against every shipped store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from syncstate.adapters.storage.memory import MemoryStore
from syncstate.adapters.storage.sqlite import SQLiteStore
from syncstate.testing.store_contract import StateStoreContract


class TestMemoryStore(StateStoreContract):
    @pytest.fixture
    def store(self) -> Iterator[MemoryStore]:
        yield MemoryStore()


class TestSQLiteStore(StateStoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[SQLiteStore]:
        s = SQLiteStore(tmp_path / "state.db")
        yield s
        s.close()


class TestSQLiteStoreWithoutJSONFunctions(StateStoreContract):
    """An SQLite built without the JSON functions: statuses are never read grouped."""

    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[SQLiteStore]:
        s = SQLiteStore(tmp_path / "state.db")
        s._json = False  # as _has_json finds on such a build
        yield s
        s.close()
