"""Versioned schema migrations, one numbered list per component.

Each component (``state``, ``mirror``, ``repost``, ...) keeps its own ordered
list of migration scripts; ``schema_migrations`` records how far each one
has got. Applying is idempotent, and a database newer than the code raises
:class:`~syncstate.errors.SchemaVersionError` instead of being misread.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from syncstate.errors import SchemaVersionError

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
            for statement in steps[current].split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute(
                "INSERT INTO schema_migrations (component, version) VALUES (?, ?) "
                "ON CONFLICT (component) DO UPDATE SET version = excluded.version",
                (component, current + 1),
            )
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
