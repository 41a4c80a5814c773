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
from syncstate.errors import StorageError

__all__ = ["open_sqlite", "read_transaction", "write_transaction"]


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
        conn.execute("BEGIN")
        try:
            yield conn
        finally:
            conn.execute("COMMIT")
