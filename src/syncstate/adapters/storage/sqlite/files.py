"""What every SQLite-backed store shares: opening the file and its transactions.

The state, bundle, mirror and repost stores each keep their own tables (and
migration component) but open the file the same way (WAL, a busy timeout,
one connection shared between threads under a lock) and run the same
transactions: ``BEGIN IMMEDIATE`` for writes, so concurrent processes wait
instead of failing half-way, commit on success, roll back on any error, and
SQLite's own errors surface as :class:`~syncstate.errors.StorageError`.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from syncstate.adapters.storage.sqlite.migrations import migrate_sqlite
from syncstate.errors import InputError, SchemaVersionError, StorageError

__all__ = [
    "foreign_tables",
    "open_readonly",
    "open_sqlite",
    "read_transaction",
    "write_transaction",
]


def open_sqlite(
    path: str | os.PathLike[str],
    *,
    component: str,
    migrations: Sequence[str],
    timeout: float = 30.0,
) -> sqlite3.Connection:
    """Open (creating if needed) the database at ``path`` and migrate ``component``."""
    name = str(path)
    if name != ":memory:":
        Path(name).parent.mkdir(parents=True, exist_ok=True)
    try:
        conn = sqlite3.connect(name, isolation_level=None, check_same_thread=False, timeout=timeout)
        conn.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
        _enable_wal(conn, timeout)
        conn.execute("PRAGMA synchronous=NORMAL")
        migrate_sqlite(conn, component, migrations)
    except sqlite3.Error as exc:
        raise StorageError(f"cannot open SQLite database {name}: {exc}") from exc
    return conn


def open_readonly(
    path: str | os.PathLike[str],
    *,
    component: str,
    migrations: Sequence[str],
    timeout: float = 30.0,
    oldest: int | None = None,
) -> sqlite3.Connection:
    """Open an existing syncstate database for reading only; nothing reaches the file.

    No file is created, no journal mode switched, no migration run. A missing file, a
    file that is not SQLite, or an SQLite file without syncstate's ``component`` is an
    :class:`~syncstate.errors.InputError` (a wrong path: exit 2); a schema newer than
    this syncstate is a :class:`~syncstate.errors.SchemaVersionError`, an older one a
    :class:`~syncstate.errors.StorageError` (a command that writes upgrades it) unless
    it is at least ``oldest`` (a reader that copes with the tables of that version).
    """
    name = str(path)
    if not Path(name).is_file():
        raise InputError(f"database {name} does not exist")
    uri = f"{Path(name).resolve().as_uri()}?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
    except sqlite3.Error as exc:
        raise InputError(f"cannot open {name} as an SQLite database: {exc}") from exc
    try:
        conn.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        row = None
        if "schema_migrations" in tables:
            row = conn.execute(
                "SELECT version FROM schema_migrations WHERE component = ?", (component,)
            ).fetchone()
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise InputError(f"{name} is not an SQLite database syncstate can read: {exc}") from exc
    raw = None if row is None else row[0]
    try:
        version = 0 if raw is None else int(raw)
    except (TypeError, ValueError):
        conn.close()
        raise StorageError(f"{name}: the {component!r} schema version {raw!r} is damaged") from None
    known = len(migrations)
    if version == known or (oldest is not None and 1 <= oldest <= version < known):
        return conn
    conn.close()
    if version == 0:
        raise InputError(f"{name} is not a syncstate database (it has no {component!r} tables)")
    if version > known:
        raise SchemaVersionError(
            f"the {component!r} schema of {name} is at version {version}, newer than this "
            f"syncstate understands ({known}); upgrade syncstate"
        )
    raise StorageError(
        f"the {component!r} schema of {name} is at version {version} (this syncstate uses "
        f"{known}); a command that writes upgrades it"
    )


def foreign_tables(path: str | os.PathLike[str]) -> list[str]:
    """Tables of an existing SQLite file that is not a syncstate database (else ``[]``).

    Read-only: the file is opened with ``mode=ro`` and left unchanged. A file that is
    not SQLite at all is an :class:`~syncstate.errors.InputError`.
    """
    name = str(path)
    if name == ":memory:" or not Path(name).is_file() or Path(name).stat().st_size == 0:
        return []
    try:
        conn = sqlite3.connect(f"{Path(name).resolve().as_uri()}?mode=ro", uri=True)
        try:
            tables = sorted(r[0] for r in conn.execute("SELECT name FROM sqlite_master"))
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise InputError(f"{name} is not an SQLite database: {exc}") from exc
    if "schema_migrations" in tables:
        return []
    return [t for t in tables if not t.startswith("sqlite_")]


def _enable_wal(conn: sqlite3.Connection, timeout: float) -> None:
    # Switching a new file to WAL answers "database is locked" at once, without the
    # busy handler, while another process does the same: retry until the timeout.
    deadline = time.monotonic() + timeout
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


@contextlib.contextmanager
def write_transaction(
    conn: sqlite3.Connection, lock: threading.RLock, path: str
) -> Iterator[sqlite3.Connection]:
    """One write transaction: commit on success, roll back on any error."""
    with lock:
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise StorageError(f"{path}: cannot start a transaction: {exc}") from exc
        try:
            yield conn
        except sqlite3.Error as exc:
            conn.execute("ROLLBACK")
            raise StorageError(f"{path}: write failed: {exc}") from exc
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        try:
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            conn.execute("ROLLBACK")
            raise StorageError(f"{path}: commit failed: {exc}") from exc


@contextlib.contextmanager
def read_transaction(
    conn: sqlite3.Connection, lock: threading.RLock
) -> Iterator[sqlite3.Connection]:
    """A consistent read (one snapshot) on the shared connection."""
    with lock:
        try:
            conn.execute("BEGIN")
        except sqlite3.Error as exc:
            raise StorageError(f"cannot read the database: {exc}") from exc
        try:
            yield conn
        except sqlite3.DatabaseError as exc:
            # a corrupted page, a file that is not a database (any more)
            raise StorageError(f"reading the database failed: {exc}") from exc
        finally:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("COMMIT")
