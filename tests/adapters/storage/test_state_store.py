"""The storage conformance suite against every shipped store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from syncstate.adapters.storage.memory.state import MemoryStore
from syncstate.adapters.storage.sqlite.state import SQLiteStore
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


class TestSQLiteStoreOnAnOlderSQLite(StateStoreContract):
    """An SQLite without the JSON functions and before 3.33 (no ``UPDATE ... FROM``):
    statuses are read row by row and written with one statement per row."""

    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[SQLiteStore]:
        s = SQLiteStore(tmp_path / "state.db")
        s._json = False  # as _has_json finds on such a build
        s._update_from = False  # as on SQLite < 3.33
        yield s
        s.close()
