"""Versioned schema migrations, one numbered list per component.

Each component (``state``, ``mirror``, ``repost``, ...) keeps its own ordered
list of migration scripts; ``schema_migrations`` records how far each one
has got. Applying is idempotent, and a database newer than the code raises
:class:`~syncstate.errors.SchemaVersionError` instead of being misread.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from syncstate.errors import SchemaVersionError, StorageError

__all__ = ["STATE_MIGRATIONS", "migrate_sqlite"]

#: the export-state schema (SQLite dialect); append, never edit a released step
STATE_MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE records (
        company TEXT NOT NULL,
        kind TEXT NOT NULL,
        source_id TEXT NOT NULL,
        on_date TEXT NOT NULL,
        subject TEXT NOT NULL,
        fields TEXT NOT NULL,
        hash TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'not_exported',
        generation INTEGER NOT NULL DEFAULT 0,
        revision INTEGER NOT NULL DEFAULT 0,
        remote_id TEXT,
        remote_version TEXT,
        message TEXT,
        previous TEXT,
        worker TEXT NOT NULL DEFAULT '',
        lease_until TEXT,
        changed_in_flight INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (company, kind, source_id)
    );
    CREATE INDEX records_by_state ON records (company, state);
    CREATE INDEX records_by_date ON records (company, on_date);
    CREATE TABLE journal (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        company TEXT NOT NULL,
        kind TEXT NOT NULL,
        source_id TEXT NOT NULL,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        event TEXT NOT NULL,
        from_state TEXT NOT NULL,
        to_state TEXT NOT NULL,
        generation INTEGER NOT NULL,
        idempotency_key TEXT NOT NULL
    );
    CREATE INDEX journal_by_record ON journal (company, kind, source_id, seq);
    """,
    # 2: records get a stable integer id (VACUUM may renumber an implicit rowid) and
    # the journal becomes compact: one row per transition referring to the record by
    # id and to a batch holding what one operation shares (time, actor, the event
    # without its per-record payload); the idempotency key is derived from the
    # attempt's generation and revision. Rows carried over from schema 1 keep their
    # whole event in a batch of their own and their key as text.
    """
    CREATE TABLE records_v2 (
        id INTEGER PRIMARY KEY,
        company TEXT NOT NULL,
        kind TEXT NOT NULL,
        source_id TEXT NOT NULL,
        on_date TEXT NOT NULL,
        subject TEXT NOT NULL,
        fields TEXT NOT NULL,
        hash TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'not_exported',
        generation INTEGER NOT NULL DEFAULT 0,
        revision INTEGER NOT NULL DEFAULT 0,
        remote_id TEXT,
        remote_version TEXT,
        message TEXT,
        previous TEXT,
        worker TEXT NOT NULL DEFAULT '',
        lease_until TEXT,
        changed_in_flight INTEGER NOT NULL DEFAULT 0,
        UNIQUE (company, kind, source_id)
    );
    INSERT INTO records_v2 (id, company, kind, source_id, on_date, subject, fields, hash,
        state, generation, revision, remote_id, remote_version, message, previous, worker,
        lease_until, changed_in_flight)
    SELECT rowid, company, kind, source_id, on_date, subject, fields, hash, state,
        generation, revision, remote_id, remote_version, message, previous, worker,
        lease_until, changed_in_flight
    FROM records;
    CREATE TABLE journal_batches (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        event TEXT NOT NULL
    );
    INSERT INTO journal_batches (id, at, actor, event) SELECT seq, at, actor, event FROM journal;
    CREATE TABLE journal_v2 (
        seq INTEGER PRIMARY KEY,
        record INTEGER NOT NULL,
        batch INTEGER NOT NULL,
        remote_id TEXT,
        remote_version TEXT,
        message TEXT,
        from_state TEXT NOT NULL,
        to_state TEXT NOT NULL,
        generation INTEGER NOT NULL,
        key_generation INTEGER,
        key_revision INTEGER,
        idempotency_key TEXT
    );
    INSERT INTO journal_v2 (seq, record, batch, from_state, to_state, generation,
        idempotency_key)
    SELECT j.seq, r.id, j.seq, j.from_state, j.to_state, j.generation, j.idempotency_key
    FROM journal AS j JOIN records_v2 AS r
        ON r.company = j.company AND r.kind = j.kind AND r.source_id = j.source_id;
    DROP TABLE journal;
    DROP TABLE records;
    ALTER TABLE records_v2 RENAME TO records;
    ALTER TABLE journal_v2 RENAME TO journal;
    CREATE INDEX records_by_state ON records (company, state);
    CREATE INDEX records_by_date ON records (company, on_date);
    CREATE INDEX journal_by_record ON journal (record, seq);
    """,
    # 3: the number the back end shows people (QuickBooks DocNumber, Xero InvoiceNumber)
    # is stored with the link, in the journal too, and found by an index
    """
    ALTER TABLE records ADD COLUMN remote_number TEXT;
    ALTER TABLE journal ADD COLUMN remote_number TEXT;
    CREATE INDEX records_by_number ON records (company, remote_number)
        WHERE remote_number IS NOT NULL;
    """,
)


def migrate_sqlite(conn: sqlite3.Connection, component: str, steps: Sequence[str]) -> int:
    """Bring ``component`` up to ``len(steps)``; return the version now in place.

    ``conn`` must be in autocommit mode (``isolation_level=None``); each step
    runs in its own transaction together with its version bump.
    """
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " component TEXT PRIMARY KEY, version INTEGER NOT NULL)"
    )
    while True:
        # read the version inside the write lock: two processes opening a new file at
        # once must not both run the same step
        conn.execute("BEGIN IMMEDIATE")
        try:
            row = conn.execute(
                "SELECT version FROM schema_migrations WHERE component = ?", (component,)
            ).fetchone()
            current = 0 if row is None else int(row[0])
            if current > len(steps):
                raise SchemaVersionError(
                    f"the {component!r} schema is at version {current}, newer than this "
                    f"syncstate understands ({len(steps)}); upgrade syncstate"
                )
            if current == len(steps):
                conn.execute("COMMIT")
                return current
            try:
                for statement in steps[current].split(";"):
                    if statement.strip():
                        conn.execute(statement)
            except sqlite3.Error as exc:
                raise StorageError(
                    f"upgrading the {component!r} schema from version {current} to "
                    f"{current + 1} failed, nothing was changed: {exc}"
                ) from exc
            conn.execute(
                "INSERT INTO schema_migrations (component, version) VALUES (?, ?) "
                "ON CONFLICT (component) DO UPDATE SET version = excluded.version",
                (component, current + 1),
            )
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
