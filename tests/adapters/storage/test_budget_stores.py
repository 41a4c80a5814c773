"""The budget-store kit against memory, SQLite and PostgreSQL (a real server)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from postgres_server import pg_dsn, pg_schema, require_postgres_driver  # noqa: F401
from syncstate.adapters.storage.memory.budgets import MemoryBudgetStore
from syncstate.adapters.storage.sqlite.budgets import SQLiteBudgetStore
from syncstate.ports.budget import BudgetLimits, BudgetScope
from syncstate.testing.budget_contract import BudgetStoreContract


class TestMemoryBudgets(BudgetStoreContract):
    @pytest.fixture
    def budgets(self) -> Iterator[MemoryBudgetStore]:
        store = MemoryBudgetStore()
        yield store
        store.close()


class TestSQLiteBudgets(BudgetStoreContract):
    @pytest.fixture
    def budgets(self, tmp_path: Path) -> Iterator[SQLiteBudgetStore]:
        store = SQLiteBudgetStore(tmp_path / "budgets.db")
        yield store
        store.close()


@pytest.mark.postgres
class TestPostgresBudgets(BudgetStoreContract):
    @pytest.fixture
    def budgets(self, pg_dsn: str, pg_schema: str) -> Iterator[object]:  # noqa: F811
        require_postgres_driver()
        from syncstate.adapters.storage.postgres.budgets import PostgresBudgetStore

        store = PostgresBudgetStore(pg_dsn, schema=pg_schema)
        yield store
        store.close()


def test_limits_can_only_be_lowered_by_the_host() -> None:
    declared = BudgetLimits(per_minute=500, concurrent=10, batch_per_minute=40)
    lowered = declared.lowered(BudgetLimits(per_minute=1000, concurrent=4))
    assert lowered == BudgetLimits(per_minute=500, concurrent=4, batch_per_minute=40)
    assert declared.scaled(0.5).per_minute == 250 and declared.scaled(0.5).concurrent == 10


@pytest.mark.parametrize("bad", [0, -1, True, "10"])
def test_limits_refuse_what_is_not_a_positive_number(bad: object) -> None:
    from syncstate.errors import InputError

    with pytest.raises(InputError, match="per_minute"):
        BudgetLimits(per_minute=bad)  # type: ignore[arg-type]


def test_an_sqlite_file_holds_the_budgets_beside_the_state(tmp_path: Path) -> None:
    from syncstate.adapters.storage.sqlite.state import SQLiteStore

    path = tmp_path / "shared.db"
    with SQLiteStore(path), SQLiteBudgetStore(path) as budgets:
        scope = BudgetScope("quickbooks", "acme")
        assert budgets.take(scope, BudgetLimits(concurrent=1), holder="w").slot is not None
    with SQLiteBudgetStore(path) as again:  # shared through the file
        assert again.usage(scope).slots == 1
