"""A PostgreSQL schema written at state version 1 upgrades to version 2 with nothing lost.

The rows are written the way the version-1 store wrote them (the journal kept
company, kind, source id, time, actor, the event as JSON and the idempotency key
as text); after the upgrade every journal entry must read back equal, statuses
must replay from the journal, and new transitions must append after the old ones.
"""

from __future__ import annotations

import pytest

from postgres_server import pg_dsn, pg_schema, require_postgres_driver  # noqa: F401
from schema_1_history import check_upgraded, schema_1_history
from syncstate.adapters.storage.base import encode_event, fields_to_json, status_to_row
from syncstate.domain.records import RecordKey
from syncstate.domain.state import JournalEntry

require_postgres_driver()

import psycopg  # noqa: E402

from syncstate.adapters.storage.postgres.migrations import (  # noqa: E402
    STATE_MIGRATIONS_POSTGRES,
    migrate_postgres,
)
from syncstate.adapters.storage.postgres.state import PostgresStore  # noqa: E402

pytestmark = pytest.mark.postgres


def _write_version_1(dsn: str, schema: str) -> dict[RecordKey, list[JournalEntry]]:
    journals: dict[RecordKey, list[JournalEntry]] = {}
    with psycopg.connect(dsn, autocommit=True) as conn:
        assert migrate_postgres(conn, "state", STATE_MIGRATIONS_POSTGRES[:1], schema=schema) == 1
        with conn.transaction():
            for record, status, entries in schema_1_history():
                key = record.key
                conn.execute(
                    f'INSERT INTO "{schema}".records (company, kind, source_id, on_date,'
                    " subject, fields, hash, state, generation, revision, remote_id,"
                    " remote_version, message, previous, worker, lease_until, changed_in_flight)"
                    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    (
                        key.company,
                        key.kind,
                        key.source_id,
                        record.on,
                        record.subject,
                        fields_to_json(record),
                        record.hash,
                        *status_to_row(status)[:8],
                        status.lease_until,
                        status.changed_in_flight,
                    ),
                )
                for e in entries:
                    conn.execute(
                        f'INSERT INTO "{schema}".journal (company, kind, source_id, at, actor,'
                        " event, from_state, to_state, generation, idempotency_key)"
                        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                        (
                            key.company,
                            key.kind,
                            key.source_id,
                            e.at,
                            e.actor,
                            encode_event(e.event),
                            e.from_state.value,
                            e.to_state.value,
                            e.generation,
                            e.idempotency_key,
                        ),
                    )
                journals[key] = entries
    return journals


def test_version_1_schema_upgrades_without_losing_a_journal_entry(
    pg_dsn: str,  # noqa: F811
    pg_schema: str,  # noqa: F811
) -> None:
    journals = _write_version_1(pg_dsn, pg_schema)
    with PostgresStore(pg_dsn, schema=pg_schema, max_size=1) as store:
        check_upgraded(store, journals)
    with psycopg.connect(pg_dsn) as conn:
        [(version,)] = conn.execute(
            f'SELECT version FROM "{pg_schema}".schema_migrations WHERE component = %s',
            ("state",),
        ).fetchall()
    assert version == len(STATE_MIGRATIONS_POSTGRES) == 3
