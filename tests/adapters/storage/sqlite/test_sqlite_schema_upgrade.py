"""A database written with state schema 1 opens under schema 2 with nothing lost.

Schema 1 kept each journal row whole (company, kind, source id, time, actor, the
event as JSON, the idempotency key as text). The rows here are written the way
the schema-1 store wrote them; after the upgrade every journal entry must read
back equal, statuses must still replay from the journal, and new transitions
must append after the old ones.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from schema_1_history import T0, check_upgraded, schema_1_history
from syncstate.adapters.storage.base import encode_event, status_to_row
from syncstate.adapters.storage.sqlite.migrations import STATE_MIGRATIONS, migrate_sqlite
from syncstate.adapters.storage.sqlite.state import SQLiteStore
from syncstate.domain.records import RecordKey
from syncstate.domain.state import Event, ExportState, JournalEntry, Status
from syncstate.errors import StorageError
from syncstate.testing.store_contract import make_time_records


def _write_schema_1(path: Path) -> dict[RecordKey, list[JournalEntry]]:
    """Two companies' records and journals as the schema-1 store stored them."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    assert migrate_sqlite(conn, "state", STATE_MIGRATIONS[:1]) == 1
    journals: dict[RecordKey, list[JournalEntry]] = {}
    conn.execute("BEGIN")
    for record, status, entries in schema_1_history():
        key = record.key
        conn.execute(
            "INSERT INTO records (company, kind, source_id, on_date, subject, fields, hash,"
            " state, generation, revision, remote_id, remote_version, message, previous,"
            " worker, lease_until, changed_in_flight)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                key.company,
                key.kind,
                key.source_id,
                record.on.isoformat(),
                record.subject,
                json.dumps(dict(record.fields), separators=(",", ":")),
                record.hash,
                *status_to_row(status)[:10],  # the ten status columns of schema 1
            ),
        )
        conn.executemany(
            "INSERT INTO journal (company, kind, source_id, at, actor, event, from_state,"
            " to_state, generation, idempotency_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    key.company,
                    key.kind,
                    key.source_id,
                    e.at.isoformat(),
                    e.actor,
                    encode_event(e.event),
                    e.from_state.value,
                    e.to_state.value,
                    e.generation,
                    e.idempotency_key,
                )
                for e in entries
            ],
        )
        journals[key] = entries
    conn.execute("COMMIT")
    conn.close()
    return journals


def test_schema_1_database_upgrades_without_losing_a_journal_entry(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    journals = _write_schema_1(path)
    with SQLiteStore(path) as store:
        version = store.connection.execute(
            "SELECT version FROM schema_migrations WHERE component = 'state'"
        ).fetchone()[0]
        assert version == len(STATE_MIGRATIONS) == 3
        check_upgraded(store, journals)


def test_upgrade_is_atomic_when_the_old_data_cannot_be_carried_over(tmp_path: Path) -> None:
    path = tmp_path / "broken.db"
    _write_schema_1(path)
    conn = sqlite3.connect(path, isolation_level=None)
    # a journal row whose event is missing (NOT NULL in the new batch table)
    conn.execute("PRAGMA ignore_check_constraints = ON")
    conn.execute("CREATE TABLE scratch AS SELECT * FROM journal LIMIT 1")
    conn.execute("DROP TABLE journal")
    conn.execute(
        "CREATE TABLE journal (seq INTEGER PRIMARY KEY AUTOINCREMENT, company TEXT, kind TEXT,"
        " source_id TEXT, at TEXT, actor TEXT, event TEXT, from_state TEXT, to_state TEXT,"
        " generation INTEGER, idempotency_key TEXT)"
    )
    conn.execute(
        "INSERT INTO journal (company, kind, source_id, at, actor, event, from_state, to_state,"
        " generation, idempotency_key) SELECT company, kind, source_id, at, actor, NULL,"
        " from_state, to_state, generation, idempotency_key FROM scratch"
    )
    conn.close()
    with pytest.raises(StorageError, match=r"from version 1 to 2 failed, nothing was changed"):
        SQLiteStore(path)
    conn = sqlite3.connect(path)
    version = conn.execute("SELECT version FROM schema_migrations WHERE component = 'state'")
    assert version.fetchone()[0] == 1
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"records", "journal"} <= tables
    assert not tables & {"records_v2", "journal_v2", "journal_batches"}
    assert conn.execute("SELECT count(*) FROM records").fetchone()[0] == 12
    conn.close()


def test_new_database_starts_at_the_latest_schema(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "new.db") as store:
        columns = [r[1] for r in store.connection.execute("PRAGMA table_info(journal)")]
        assert columns[:3] == ["seq", "record", "batch"]
        store.ingest("acme", make_time_records("acme", 3), at=T0, actor="t")
        key = store.find("acme")[0].key
        store.apply("acme", [(key, Event.claim())], at=T0, actor="t")
        (entry,) = store.journal(key)
        assert entry.to_state is ExportState.IN_FLIGHT
        assert entry.idempotency_key == Status().key_for(key)
