"""The bundle-store kit against PostgreSQL (a real server), alone and beside a state store."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from postgres_server import pg_dsn, pg_schema, require_postgres_driver  # noqa: F401
from syncstate.testing.bundle_contract import AtomicUnbundleContract, BundleStoreContract

require_postgres_driver()

from syncstate.adapters.storage.postgres.bundles import PostgresBundleStore  # noqa: E402
from syncstate.adapters.storage.postgres.state import PostgresStore  # noqa: E402

pytestmark = pytest.mark.postgres


class TestPostgresBundleStore(BundleStoreContract):
    @pytest.fixture
    def bundles(self, pg_dsn: str, pg_schema: str) -> Iterator[PostgresBundleStore]:  # noqa: F811
        store = PostgresBundleStore(pg_dsn, schema=pg_schema, max_size=3)
        yield store
        store.close()


class TestPostgresBundleStoreBesideState(BundleStoreContract, AtomicUnbundleContract):
    @pytest.fixture
    def pair(
        self,
        pg_dsn: str,  # noqa: F811
        pg_schema: str,  # noqa: F811
    ) -> Iterator[tuple[PostgresStore, PostgresBundleStore]]:
        state = PostgresStore(pg_dsn, schema=pg_schema, max_size=3)
        bundles = PostgresBundleStore.beside(state)
        yield state, bundles
        bundles.close()
        state.close()

    @pytest.fixture
    def bundles(
        self, pair: tuple[PostgresStore, PostgresBundleStore]
    ) -> Iterator[PostgresBundleStore]:
        yield pair[1]


def test_closing_a_store_opened_beside_leaves_the_state_store_working(
    pg_dsn: str,  # noqa: F811
    pg_schema: str,  # noqa: F811
) -> None:
    state = PostgresStore(pg_dsn, schema=pg_schema, max_size=2)
    PostgresBundleStore.beside(state).close()
    assert state.companies() == []
    state.close()
