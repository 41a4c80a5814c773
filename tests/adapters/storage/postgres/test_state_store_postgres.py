"""The storage conformance suite against PostgreSQL (a real server)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from postgres_server import pg_dsn, pg_schema, require_postgres_driver  # noqa: F401
from syncstate.testing.store_contract import StateStoreContract

require_postgres_driver()

from syncstate.adapters.storage.postgres.state import PostgresStore  # noqa: E402

pytestmark = pytest.mark.postgres


class TestPostgresStore(StateStoreContract):
    @pytest.fixture
    def store(self, pg_dsn: str, pg_schema: str) -> Iterator[PostgresStore]:  # noqa: F811
        s = PostgresStore(pg_dsn, schema=pg_schema, max_size=2)
        yield s
        s.close()
