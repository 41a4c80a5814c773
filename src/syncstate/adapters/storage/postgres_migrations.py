"""The PostgreSQL dialect of the versioned schema migrations.

Same components and version numbers as :mod:`syncstate.adapters.storage.migrations`
(step *n* here creates what step *n* of the SQLite list creates), written with
PostgreSQL types: ``DATE`` and ``TIMESTAMPTZ`` instead of ISO text, ``BOOLEAN``
flags, an identity column for the journal, and ``COLLATE "C"`` on the key
columns so that ``ORDER BY kind, source_id`` sorts exactly as Python and SQLite
do (by code point), whatever the database's locale.

All tables live in one schema (``syncstate`` unless the host chooses another).
Each step runs in its own transaction under a transaction-level advisory lock,
so processes that start at the same moment migrate once, not twice.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import psycopg

from syncstate.errors import ConfigurationError, SchemaVersionError

__all__ = ["MIGRATION_LOCK", "STATE_MIGRATIONS_POSTGRES", "migrate_postgres", "quote_schema"]

#: advisory lock key (a bigint) held while a migration step runs
MIGRATION_LOCK = 0x5359_4E43_4D49_4752  # "SYNCMIGR"

_SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")

#: the export-state schema (PostgreSQL dialect); append, never edit a released step
STATE_MIGRATIONS_POSTGRES: tuple[str, ...] = (
    """
    CREATE TABLE records (
        company TEXT COLLATE "C" NOT NULL,
        kind TEXT COLLATE "C" NOT NULL,
        source_id TEXT COLLATE "C" NOT NULL,
        on_date DATE NOT NULL,
        subject TEXT COLLATE "C" NOT NULL,
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
        lease_until TIMESTAMPTZ,
        changed_in_flight BOOLEAN NOT NULL DEFAULT FALSE,
        PRIMARY KEY (company, kind, source_id)
    );
    CREATE INDEX records_by_state ON records (company, state);
    CREATE INDEX records_by_date ON records (company, on_date);
    CREATE INDEX records_claimable ON records (company, kind, source_id)
        WHERE state IN ('not_exported', 'failed', 'outdated', 'in_flight');
    CREATE TABLE journal (
        seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        company TEXT COLLATE "C" NOT NULL,
        kind TEXT COLLATE "C" NOT NULL,
        source_id TEXT COLLATE "C" NOT NULL,
        at TIMESTAMPTZ NOT NULL,
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


def quote_schema(schema: str) -> str:
    """``schema`` as a quoted SQL identifier; only plain lower-case names are accepted."""
    if not _SCHEMA_NAME.fullmatch(schema):
        raise ConfigurationError(
            f"PostgreSQL schema name {schema!r} is not allowed: use lower-case letters, "
            "digits and underscores (at most 63), starting with a letter or underscore"
        )
    return f'"{schema}"'


def migrate_postgres(
    conn: psycopg.Connection[Any], component: str, steps: Sequence[str], *, schema: str
) -> int:
    """Bring ``component`` in ``schema`` up to ``len(steps)``; return the version in place.

    ``conn`` must not be inside a transaction; each step commits together with
    its version bump, or not at all.
    """
    quoted = quote_schema(schema)
    while True:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
            conn.execute(f"CREATE SCHEMA IF NOT EXISTS {quoted}")
            conn.execute(f"SET LOCAL search_path TO {quoted}")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " component TEXT PRIMARY KEY, version INTEGER NOT NULL)"
            )
            row = conn.execute(
                "SELECT version FROM schema_migrations WHERE component = %s", (component,)
            ).fetchone()
            version = 0 if row is None else int(row[0])
            if version > len(steps):
                raise SchemaVersionError(
                    f"the {component!r} schema in {schema!r} is at version {version}, newer "
                    f"than this syncstate understands ({len(steps)}); upgrade syncstate"
                )
            if version == len(steps):
                return version
            conn.execute(steps[version])
            conn.execute(
                "INSERT INTO schema_migrations (component, version) VALUES (%s, %s) "
                "ON CONFLICT (component) DO UPDATE SET version = excluded.version",
                (component, version + 1),
            )
