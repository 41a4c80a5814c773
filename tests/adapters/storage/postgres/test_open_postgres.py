"""One call opens every PostgreSQL store of a host: one schema, one pool."""

from __future__ import annotations

import datetime as dt

import pytest

from postgres_server import pg_dsn, pg_schema, require_postgres_driver  # noqa: F401

require_postgres_driver()

import psycopg  # noqa: E402

from syncstate.adapters.storage.postgres.stores import open_postgres  # noqa: E402
from syncstate.errors import StorageError  # noqa: E402
from syncstate.testing.bundle_contract import bundle_entry  # noqa: E402
from syncstate.testing.mirror_contract import Y2024, make_year  # noqa: E402
from syncstate.testing.store_contract import make_time_records  # noqa: E402

pytestmark = pytest.mark.postgres


def test_every_store_lives_in_one_schema_on_one_pool(
    pg_dsn: str,  # noqa: F811
    pg_schema: str,  # noqa: F811
) -> None:
    now = dt.datetime.now(dt.UTC)
    with open_postgres(pg_dsn, schema=pg_schema, max_size=4) as stores:
        assert stores.bundles.shares_transactions_with(stores.state)
        stores.state.ingest("acme", make_time_records("acme", 3), at=now, actor="t")
        stores.bundles.add("acme", [bundle_entry("A", "ann", "u1")])
        year = make_year(Y2024, 2)
        generation = stores.mirror.stage_year("acme", year, source="s", at=now)
        stores.mirror.swap_in("acme", {Y2024: generation}, [], at=now)
        assert stores.mirror.read_year("acme", Y2024) == year
        assert stores.pool.get_stats()["pool_max"] == 4
        with psycopg.connect(pg_dsn) as conn:
            versions = dict(
                conn.execute(f'SELECT component, version FROM "{pg_schema}".schema_migrations')
            )
        assert {"state", "bundles", "mirror"} <= set(versions) and len(versions) >= 4
    with pytest.raises(StorageError):  # closed with its pool
        stores.state.companies()
