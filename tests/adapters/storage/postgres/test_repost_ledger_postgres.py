"""The repost ledger kit against PostgreSQL (a real server)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from postgres_server import pg_dsn, pg_schema, require_postgres_driver  # noqa: F401
from syncstate.testing.ledger_contract import WorkLedgerContract

require_postgres_driver()

from syncstate.adapters.storage.postgres.ledger import PostgresLedgerStore  # noqa: E402

pytestmark = pytest.mark.postgres


class TestPostgresLedgerStore(WorkLedgerContract):
    @pytest.fixture
    def ledger(self, pg_dsn: str, pg_schema: str) -> Iterator[PostgresLedgerStore]:  # noqa: F811
        store = PostgresLedgerStore(pg_dsn, schema=pg_schema, max_size=2)
        yield store
        store.close()


def test_the_password_never_shows_in_the_location(pg_dsn: str, pg_schema: str) -> None:  # noqa: F811
    with PostgresLedgerStore(pg_dsn, schema=pg_schema) as store:
        assert "password=" not in store.location or "password=***" in store.location
        assert pg_schema in store.location
