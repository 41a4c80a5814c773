"""The repost ledger kit against the memory and SQLite ledgers (PostgreSQL: postgres/)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from syncstate.adapters.storage.memory.ledger import MemoryRepostLedger
from syncstate.adapters.storage.sqlite.ledger import SQLiteLedgerStore
from syncstate.ports.ledger import RepostLedger
from syncstate.testing.ledger_contract import WorkLedgerContract


class TestMemoryRepostLedger(WorkLedgerContract):
    @pytest.fixture
    def ledger(self) -> Iterator[RepostLedger]:
        yield MemoryRepostLedger()


class TestSQLiteLedgerStore(WorkLedgerContract):
    @pytest.fixture
    def ledger(self, tmp_path: Path) -> Iterator[RepostLedger]:
        with SQLiteLedgerStore(tmp_path / "ledger.db") as store:
            yield store


def test_the_shipped_ledgers_implement_the_port(tmp_path: Path) -> None:
    with SQLiteLedgerStore(tmp_path / "l.db") as store:
        assert isinstance(store, RepostLedger)
    assert isinstance(MemoryRepostLedger(), RepostLedger)
