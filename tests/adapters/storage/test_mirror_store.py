"""The mirror-store kit against memory and SQLite."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from syncstate.adapters.storage.memory.mirror import MemoryMirrorStore
from syncstate.adapters.storage.sqlite.mirror import SQLiteMirrorStore
from syncstate.testing.mirror_contract import MirrorStoreContract


class TestMemoryMirrorStore(MirrorStoreContract):
    @pytest.fixture
    def mirror(self) -> Iterator[MemoryMirrorStore]:
        yield MemoryMirrorStore()


class TestSQLiteMirrorStore(MirrorStoreContract):
    @pytest.fixture
    def mirror(self, tmp_path: Path) -> Iterator[SQLiteMirrorStore]:
        store = SQLiteMirrorStore(tmp_path / "mirror.db")
        yield store
        store.close()
