"""The SQLite :class:`~syncstate.ports.BundleStore`: bundle associations and mappings.

Open it by path (a file of its own, or any file: its tables live in their own
migration namespace, ``bundles``), or :meth:`SQLiteBundleStore.beside` a
:class:`~syncstate.adapters.storage.sqlite.state.SQLiteStore`: then it shares
that store's connection, and :meth:`SQLiteBundleStore.remove_and_apply`
(:class:`~syncstate.ports.AtomicUnbundle`) resets the bundle records and removes
their membership in **one** transaction. A member's primary key makes "a
transaction is in at most one bundle" a rule of the database itself; every
write is one ``BEGIN IMMEDIATE`` transaction, so an un-bundle removes the
bundle and all its associations, or nothing.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from typing import Any

from syncstate.adapters.storage.base import check_company, utc
from syncstate.adapters.storage.memory.bundles import check_entry, entry_order
from syncstate.adapters.storage.sqlite.files import open_sqlite, write_transaction
from syncstate.adapters.storage.sqlite.migrations import migrate_sqlite
from syncstate.adapters.storage.sqlite.state import SQLiteStore
from syncstate.domain.records import RecordKey
from syncstate.domain.state import Event
from syncstate.errors import InputError, StorageError
from syncstate.ports import BundleEntry

__all__ = ["BUNDLE_MIGRATIONS", "SQLiteBundleStore"]

#: the ``bundles`` schema; append, never edit a released step
BUNDLE_MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE bundles (
        company TEXT NOT NULL,
        kind TEXT NOT NULL,
        bundle_id TEXT NOT NULL,
        client TEXT NOT NULL,
        on_date TEXT NOT NULL,
        PRIMARY KEY (company, kind, bundle_id)
    );
    CREATE INDEX bundles_in_order ON bundles (company, client, on_date, kind, bundle_id);
    CREATE TABLE bundle_members (
        company TEXT NOT NULL,
        member_kind TEXT NOT NULL,
        member_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        bundle_id TEXT NOT NULL,
        PRIMARY KEY (company, member_kind, member_id)
    );
    CREATE INDEX bundle_members_by_bundle ON bundle_members (company, kind, bundle_id);
    CREATE TABLE mappings (
        company TEXT NOT NULL,
        kind TEXT NOT NULL,
        local TEXT NOT NULL,
        remote TEXT NOT NULL,
        PRIMARY KEY (company, kind, local)
    );
    """,
)

_ORDER = "ORDER BY client, on_date, kind, bundle_id"


class SQLiteBundleStore:
    """Bundle associations and mappings in an SQLite file (or ``":memory:"``).

    ``connection`` (with the ``lock`` guarding it) makes the store use a
    connection it does not own (:meth:`close` leaves it open).
    """

    def __init__(
        self,
        path: str | os.PathLike[str] = "syncstate.db",
        *,
        timeout: float = 30.0,
        connection: sqlite3.Connection | None = None,
        lock: threading.RLock | None = None,
    ) -> None:
        self.path = str(path)
        self._lock = lock or threading.RLock()
        self._state: SQLiteStore | None = None
        self._owned = connection is None
        if connection is None:
            connection = open_sqlite(
                path, component="bundles", migrations=BUNDLE_MIGRATIONS, timeout=timeout
            )
        else:
            try:
                migrate_sqlite(connection, "bundles", BUNDLE_MIGRATIONS)
            except sqlite3.Error as exc:
                raise StorageError(f"cannot migrate SQLite database {self.path}: {exc}") from exc
        self._conn = connection

    @classmethod
    def beside(cls, store: SQLiteStore) -> SQLiteBundleStore:
        """A bundle store in the same database as ``store``, on its connection.

        Both stores then write through one connection under one lock, so an
        un-bundle (:meth:`remove_and_apply`) is one transaction over both.
        """
        bundles = cls(store.path, connection=store.connection, lock=store._lock)
        bundles._state = store
        return bundles

    def shares_transactions_with(self, store: object) -> bool:
        """True for the state store this one was opened beside."""
        return self._state is not None and store is self._state

    def remove_and_apply(
        self,
        company: str,
        bundles: Sequence[RecordKey],
        events: Sequence[tuple[RecordKey, Event]],
        *,
        at: dt.datetime,
        actor: str,
    ) -> list[BundleEntry]:
        """Apply ``events`` to the state store and remove ``bundles``, in one transaction."""
        state = self._state
        if state is None:
            raise InputError("this bundle store was not opened beside a state store")
        keys = list(dict.fromkeys(bundles))
        for key in keys:
            check_company(company, key)
        with self._write() as conn:
            if events:
                state._apply(conn, company, events, at=utc(at), actor=actor)
            return self._remove_in(conn, company, keys)

    def __repr__(self) -> str:
        return f"SQLiteBundleStore({self.path!r})"

    def _write(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        return write_transaction(self._conn, self._lock, self.path)

    def _members(self, conn: sqlite3.Connection, key: RecordKey) -> tuple[RecordKey, ...]:
        rows = conn.execute(
            "SELECT member_kind, member_id FROM bundle_members "
            "WHERE company = ? AND kind = ? AND bundle_id = ? ORDER BY member_kind, member_id",
            (key.company, key.kind, key.source_id),
        )
        return tuple(RecordKey(key.company, kind, sid) for kind, sid in rows)

    def _entry(self, conn: sqlite3.Connection, company: str, row: Any) -> BundleEntry:
        key = RecordKey(company, row[0], row[1])
        return BundleEntry(
            bundle=key,
            client=row[2],
            on=dt.date.fromisoformat(row[3]),
            members=self._members(conn, key),
        )

    def add(self, company: str, entries: Iterable[BundleEntry]) -> None:
        """Add bundles atomically; a member already in another bundle refuses them all."""
        batch = list(entries)
        for entry in batch:
            check_entry(company, entry)
        with self._write() as conn:
            for entry in batch:
                key = entry.bundle
                row = conn.execute(
                    "SELECT kind, bundle_id, client, on_date FROM bundles "
                    "WHERE company = ? AND kind = ? AND bundle_id = ?",
                    (company, key.kind, key.source_id),
                ).fetchone()
                if row is not None:
                    if self._entry(conn, company, row) != entry:
                        raise InputError(f"bundle {key} already exists with other content")
                    continue
                for member in entry.members:
                    owner = conn.execute(
                        "SELECT kind, bundle_id FROM bundle_members "
                        "WHERE company = ? AND member_kind = ? AND member_id = ?",
                        (company, member.kind, member.source_id),
                    ).fetchone()
                    if owner is not None:
                        held_by = RecordKey(company, owner[0], owner[1])
                        raise InputError(f"record {member} is already in bundle {held_by}")
                conn.execute(
                    "INSERT INTO bundles (company, kind, bundle_id, client, on_date) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (company, key.kind, key.source_id, entry.client, entry.on.isoformat()),
                )
                try:
                    conn.executemany(
                        "INSERT INTO bundle_members "
                        "(company, member_kind, member_id, kind, bundle_id) VALUES (?, ?, ?, ?, ?)",
                        [
                            (company, m.kind, m.source_id, key.kind, key.source_id)
                            for m in entry.members
                        ],
                    )
                except sqlite3.IntegrityError as exc:
                    raise InputError(f"bundle {key}: a member is in two bundles ({exc})") from exc

    def remove(self, company: str, bundles: Iterable[RecordKey]) -> list[BundleEntry]:
        """Delete bundles and their associations in one transaction; return those removed."""
        keys = list(dict.fromkeys(bundles))
        for key in keys:
            check_company(company, key)
        with self._write() as conn:
            return self._remove_in(conn, company, keys)

    def _remove_in(
        self, conn: sqlite3.Connection, company: str, keys: Sequence[RecordKey]
    ) -> list[BundleEntry]:
        removed = []
        for key in keys:
            row = conn.execute(
                "SELECT kind, bundle_id, client, on_date FROM bundles "
                "WHERE company = ? AND kind = ? AND bundle_id = ?",
                (company, key.kind, key.source_id),
            ).fetchone()
            if row is None:
                continue
            removed.append(self._entry(conn, company, row))
            args = (company, key.kind, key.source_id)
            conn.execute(
                "DELETE FROM bundle_members WHERE company = ? AND kind = ? AND bundle_id = ?",
                args,
            )
            conn.execute(
                "DELETE FROM bundles WHERE company = ? AND kind = ? AND bundle_id = ?", args
            )
        return sorted(removed, key=entry_order)

    def entries(
        self,
        company: str,
        *,
        clients: Iterable[str] | None = None,
        bundles: Iterable[RecordKey] | None = None,
        offset: int = 0,
        limit: int | None = None,
    ) -> list[BundleEntry]:
        """Live bundles matching the filters, ordered by client, date, kind and id."""
        where = ["company = ?"]
        params: list[Any] = [company]
        if clients is not None:
            names = sorted(set(clients))
            where.append(f"client IN ({', '.join('?' * len(names))})" if names else "0")
            params += names
        wanted = None if bundles is None else set(bundles)
        sql = f"SELECT kind, bundle_id, client, on_date FROM bundles WHERE {' AND '.join(where)} "
        with self._lock:
            rows = self._conn.execute(sql + _ORDER, params).fetchall()
            if wanted is not None:
                rows = [r for r in rows if RecordKey(company, r[0], r[1]) in wanted]
            end = None if limit is None else offset + limit
            return [self._entry(self._conn, company, row) for row in rows[offset:end]]

    def bundle_of(self, company: str, members: Iterable[RecordKey]) -> dict[RecordKey, RecordKey]:
        """The bundle each member is in."""
        out = {}
        with self._lock:
            for member in members:
                check_company(company, member)
                row = self._conn.execute(
                    "SELECT kind, bundle_id FROM bundle_members "
                    "WHERE company = ? AND member_kind = ? AND member_id = ?",
                    (company, member.kind, member.source_id),
                ).fetchone()
                if row is not None:
                    out[member] = RecordKey(company, row[0], row[1])
        return out

    def mappings(self, company: str) -> list[tuple[str, str, str]]:
        """The company's mappings, sorted."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT kind, local, remote FROM mappings WHERE company = ? ORDER BY 1, 2",
                (company,),
            ).fetchall()
        return [(r[0], r[1], r[2]) for r in rows]

    def set_mappings(self, company: str, rows: Iterable[tuple[str, str, str]]) -> None:
        """Add, replace or (with an empty remote) delete mappings, in one transaction."""
        batch = [(str(k), str(lo), str(r)) for k, lo, r in rows]
        with self._write() as conn:
            for kind, local, remote in batch:
                if remote.strip():
                    conn.execute(
                        "INSERT INTO mappings (company, kind, local, remote) VALUES (?, ?, ?, ?) "
                        "ON CONFLICT (company, kind, local) DO UPDATE SET remote = excluded.remote",
                        (company, kind, local, remote),
                    )
                else:
                    conn.execute(
                        "DELETE FROM mappings WHERE company = ? AND kind = ? AND local = ?",
                        (company, kind, local),
                    )

    def close(self) -> None:
        """Close the connection if this store opened it."""
        with self._lock:
            if self._owned:
                self._conn.close()
