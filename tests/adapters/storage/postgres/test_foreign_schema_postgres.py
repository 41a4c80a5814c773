"""A PostgreSQL schema that is not syncstate's is refused and left exactly as it was.

Another application's tables in the schema (and no syncstate ``schema_migrations``
marker) make every store refuse to open there with a ``ForeignSchemaError`` (a
``StorageError``, and an ``InputError``: the CLI exits 2), unless the host adopts the
schema on purpose; a read-only open never creates or migrates anything."""

from __future__ import annotations

from typing import Any

import pytest

from postgres_server import pg_dsn, pg_schema, require_postgres_driver  # noqa: F401

require_postgres_driver()

import psycopg  # noqa: E402

from syncstate.adapters.storage.postgres.migrations import ForeignSchemaError  # noqa: E402
from syncstate.adapters.storage.postgres.mirror import PostgresMirrorStore  # noqa: E402
from syncstate.adapters.storage.postgres.state import PostgresStore  # noqa: E402
from syncstate.adapters.storage.postgres.stores import open_postgres  # noqa: E402
from syncstate.errors import InputError, StorageError  # noqa: E402

pytestmark = pytest.mark.postgres


def snapshot(dsn: str, schema: str) -> dict[str, Any]:
    """Everything a reader can see of ``schema``: tables, columns, rows, the schema itself."""
    with psycopg.connect(dsn) as conn:
        exists = conn.execute(
            "SELECT count(*) FROM information_schema.schemata WHERE schema_name = %s", (schema,)
        ).fetchone()
        tables = conn.execute(
            "SELECT table_name, table_type FROM information_schema.tables"
            " WHERE table_schema = %s ORDER BY 1",
            (schema,),
        ).fetchall()
        columns = conn.execute(
            "SELECT table_name, column_name, data_type, ordinal_position"
            " FROM information_schema.columns WHERE table_schema = %s ORDER BY 1, 4",
            (schema,),
        ).fetchall()
        rows = {
            name: conn.execute(f'SELECT * FROM "{schema}"."{name}" ORDER BY 1').fetchall()
            for name, kind in tables
        }
        sequences = conn.execute(
            "SELECT sequence_name FROM information_schema.sequences"
            " WHERE sequence_schema = %s ORDER BY 1",
            (schema,),
        ).fetchall()
    return {
        "exists": exists,
        "tables": tables,
        "columns": columns,
        "rows": rows,
        "sequences": sequences,
    }


@pytest.fixture
def foreign(pg_dsn: str, pg_schema: str) -> str:  # noqa: F811
    """``pg_schema`` holding another application's table."""
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{pg_schema}"')
        conn.execute(f'CREATE TABLE "{pg_schema}".invoices (id INTEGER PRIMARY KEY, total NUMERIC)')
        conn.execute(f'INSERT INTO "{pg_schema}".invoices VALUES (1, 10.50), (2, 99)')
    return pg_schema


def test_every_store_refuses_a_foreign_schema_and_changes_nothing(
    pg_dsn: str,  # noqa: F811
    foreign: str,
) -> None:
    before = snapshot(pg_dsn, foreign)
    for opened in (
        lambda: PostgresStore(pg_dsn, schema=foreign, max_size=2),
        lambda: PostgresMirrorStore(pg_dsn, schema=foreign, max_size=2),
        lambda: PostgresMirrorStore(pg_dsn, schema=foreign, max_size=2, readonly=True),
    ):
        with pytest.raises(ForeignSchemaError, match="not syncstate's") as caught:
            opened()
        assert isinstance(caught.value, StorageError) and isinstance(caught.value, InputError)
        assert "invoices" in str(caught.value) and "adopt_schema" in str(caught.value)
    assert snapshot(pg_dsn, foreign) == before


def test_a_host_may_adopt_a_schema_on_purpose(pg_dsn: str, foreign: str) -> None:  # noqa: F811
    with PostgresMirrorStore(pg_dsn, schema=foreign, max_size=2, adopt_schema=True) as store:
        assert store.loaded_years("acme") == []
    with psycopg.connect(pg_dsn) as conn:
        assert conn.execute(f'SELECT count(*) FROM "{foreign}".invoices').fetchone() == (2,)
    # adopted once, it holds syncstate's marker: later opens need no flag
    PostgresMirrorStore(pg_dsn, schema=foreign, max_size=2).close()


def test_every_store_of_a_host_on_postgresql_may_adopt_the_schema_in_one_call(
    pg_dsn: str,  # noqa: F811
    foreign: str,
) -> None:
    before = snapshot(pg_dsn, foreign)
    with pytest.raises(ForeignSchemaError):
        open_postgres(pg_dsn, schema=foreign, max_size=2)
    assert snapshot(pg_dsn, foreign) == before
    with open_postgres(pg_dsn, schema=foreign, max_size=4, adopt_schema=True) as stores:
        assert sum(stores.state.counts("acme").values()) == 0
        assert stores.mirror.loaded_years("acme") == []
    with psycopg.connect(pg_dsn) as conn:
        assert conn.execute(f'SELECT count(*) FROM "{foreign}".invoices').fetchone() == (2,)


def test_another_applications_migrations_table_is_never_shared(
    pg_dsn: str,  # noqa: F811
    foreign: str,
) -> None:
    with psycopg.connect(pg_dsn, autocommit=True) as conn:  # Rails names its table so
        conn.execute(f'CREATE TABLE "{foreign}".schema_migrations (version TEXT PRIMARY KEY)')
        conn.execute(f"INSERT INTO \"{foreign}\".schema_migrations VALUES ('20240101')")
    before = snapshot(pg_dsn, foreign)
    for adopt in (False, True):
        with pytest.raises(ForeignSchemaError, match="schema_migrations table belongs"):
            PostgresMirrorStore(pg_dsn, schema=foreign, max_size=2, adopt_schema=adopt)
    assert snapshot(pg_dsn, foreign) == before


def test_syncstate_schemas_open_and_host_tables_beside_them_are_fine(
    pg_dsn: str,  # noqa: F811
    pg_schema: str,  # noqa: F811
) -> None:
    PostgresStore(pg_dsn, schema=pg_schema, max_size=2).close()
    with psycopg.connect(pg_dsn, autocommit=True) as conn:  # the host's table, added later
        conn.execute(f'CREATE TABLE "{pg_schema}".host_documents (id TEXT)')
    with PostgresMirrorStore(pg_dsn, schema=pg_schema, max_size=2) as store:
        assert store.attempts("acme") == []
    PostgresStore(pg_dsn, schema=pg_schema, max_size=2).close()


def test_a_read_only_open_creates_and_migrates_nothing(
    pg_dsn: str,  # noqa: F811
    pg_schema: str,  # noqa: F811
) -> None:
    before = snapshot(pg_dsn, pg_schema)
    with pytest.raises(InputError, match="no syncstate 'mirror' tables"):
        PostgresMirrorStore(pg_dsn, schema=pg_schema, max_size=2, readonly=True)
    assert snapshot(pg_dsn, pg_schema) == before  # not even the schema was created
    PostgresStore(pg_dsn, schema=pg_schema, max_size=2).close()  # state only, no mirror
    before = snapshot(pg_dsn, pg_schema)
    with pytest.raises(InputError):
        PostgresMirrorStore(pg_dsn, schema=pg_schema, max_size=2, readonly=True)
    assert snapshot(pg_dsn, pg_schema) == before
    PostgresMirrorStore(pg_dsn, schema=pg_schema, max_size=2).close()
    with PostgresMirrorStore(pg_dsn, schema=pg_schema, max_size=2, readonly=True) as store:
        assert store.loaded_years("acme") == []
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(
            f"UPDATE \"{pg_schema}\".schema_migrations SET version = 1 WHERE component = 'mirror'"
        )
    with pytest.raises(StorageError, match="upgrades it"):
        PostgresMirrorStore(pg_dsn, schema=pg_schema, max_size=2, readonly=True)
