"""The PostgreSQL :class:`~syncstate.ports.BundleStore`: bundles, membership, mappings.

Same tables as the SQLite store (migration component ``bundles``), in the
schema of the host's choosing, with ``COLLATE "C"`` keys so entries sort as in
Python and SQLite. The rules the port asks for, and how they hold here:

* **At most one bundle per transaction**: the member is the primary key of
  ``bundle_members``; on top, every write takes a transaction-level advisory
  lock of its company (:func:`bundle_lock_key`), so two workers adding bundles
  of one company run one after the other (and an identical re-add is a no-op,
  not a conflict) while other companies are not held up.
* **One transaction per write**, retried on transient failures like the state
  store (:class:`~syncstate.adapters.storage.postgres.connections.PostgresConnections`).
* **Consistent reads**: an entry and its members come from one statement, one
  snapshot.
* Opened :meth:`PostgresBundleStore.beside` a
  :class:`~syncstate.adapters.storage.postgres.state.PostgresStore` it shares
  that store's pool and schema, and :meth:`PostgresBundleStore.remove_and_apply`
  (:class:`~syncstate.ports.AtomicUnbundle`) resets the bundle records and
  removes their membership in one transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from psycopg import errors as pg_errors
from psycopg_pool import ConnectionPool

from syncstate.adapters.storage.base import check_company, utc
from syncstate.adapters.storage.memory.bundles import check_entry, entry_order
from syncstate.adapters.storage.postgres.connections import Connection, PostgresConnections
from syncstate.adapters.storage.postgres.migrations import quote_schema
from syncstate.adapters.storage.postgres.state import PostgresStore
from syncstate.domain.records import RecordKey
from syncstate.domain.state import Event
from syncstate.errors import InputError
from syncstate.ports import BundleEntry

__all__ = ["BUNDLE_MIGRATIONS_POSTGRES", "PostgresBundleStore", "bundle_lock_key"]

#: the ``bundles`` schema (PostgreSQL dialect of the SQLite steps); append, never edit
BUNDLE_MIGRATIONS_POSTGRES: tuple[str, ...] = (
    """
    CREATE TABLE bundles (
        company TEXT COLLATE "C" NOT NULL,
        kind TEXT COLLATE "C" NOT NULL,
        bundle_id TEXT COLLATE "C" NOT NULL,
        client TEXT COLLATE "C" NOT NULL,
        on_date DATE NOT NULL,
        PRIMARY KEY (company, kind, bundle_id)
    );
    CREATE INDEX bundles_in_order ON bundles (company, client, on_date, kind, bundle_id);
    CREATE TABLE bundle_members (
        company TEXT COLLATE "C" NOT NULL,
        member_kind TEXT COLLATE "C" NOT NULL,
        member_id TEXT COLLATE "C" NOT NULL,
        kind TEXT COLLATE "C" NOT NULL,
        bundle_id TEXT COLLATE "C" NOT NULL,
        PRIMARY KEY (company, member_kind, member_id)
    );
    CREATE INDEX bundle_members_by_bundle ON bundle_members (company, kind, bundle_id);
    CREATE TABLE mappings (
        company TEXT COLLATE "C" NOT NULL,
        kind TEXT COLLATE "C" NOT NULL,
        local TEXT COLLATE "C" NOT NULL,
        remote TEXT NOT NULL,
        PRIMARY KEY (company, kind, local)
    );
    """,
)


#: the (kind, id) pairs of the ``kinds`` and ``ids`` parameters, as a row set
_PAIRS = "(SELECT * FROM unnest(%(kinds)s::text[], %(ids)s::text[]))"


def bundle_lock_key(schema: str, company: str) -> int:
    """The advisory-lock key serialising bundle writes of ``company`` in ``schema`` (a
    signed bigint: advisory locks are database-wide, so the schema is part of the key)."""
    name = f"syncstate:bundles:{schema}:{company}"
    return int.from_bytes(
        hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True
    )


class PostgresBundleStore:
    """Bundle associations and mappings in a PostgreSQL schema, shared by many workers.

    Give exactly one of ``dsn``, ``pool`` or ``connect`` (as for
    :class:`~syncstate.adapters.storage.postgres.state.PostgresStore`), or open it
    :meth:`beside` a state store to share its connections and schema.
    """

    def __init__(
        self,
        dsn: str | None = None,
        *,
        pool: ConnectionPool[Any] | None = None,
        connect: Callable[[], Connection] | None = None,
        schema: str = "syncstate",
        min_size: int = 1,
        max_size: int = 4,
        connect_timeout: float = 10.0,
        attempts: int = 5,
        adopt_schema: bool = False,
        _shared: PostgresConnections | None = None,
    ) -> None:
        self.schema = schema
        q = quote_schema(schema)
        self._bundles, self._members, self._mappings = (
            f"{q}.bundles",
            f"{q}.bundle_members",
            f"{q}.mappings",
        )
        self._state: PostgresStore | None = None
        self._owned = _shared is None
        self._db = _shared or PostgresConnections(
            dsn,
            pool=pool,
            connect=connect,
            min_size=min_size,
            max_size=max_size,
            connect_timeout=connect_timeout,
            attempts=attempts,
            adopt_schema=adopt_schema,
        )
        try:
            self._db.migrate("bundles", BUNDLE_MIGRATIONS_POSTGRES, schema=schema)
        except BaseException:
            self.close()
            raise

    @classmethod
    def beside(cls, store: PostgresStore) -> PostgresBundleStore:
        """A bundle store in ``store``'s schema, on its connections (closed with it)."""
        bundles = cls(schema=store.schema, _shared=store._db)
        bundles._state = store
        return bundles

    def __repr__(self) -> str:
        return f"PostgresBundleStore({self._db.shown!r}, schema={self.schema!r})"

    # ------------------------------------------------------------------ reads

    def _select(
        self, conn: Connection, company: str, where: str, params: dict[str, Any], page: str = ""
    ) -> Any:
        return conn.execute(
            f"SELECT b.kind, b.bundle_id, b.client, b.on_date,"
            f" array_agg(m.member_kind ORDER BY m.member_kind, m.member_id),"
            f" array_agg(m.member_id ORDER BY m.member_kind, m.member_id)"
            f" FROM {self._bundles} AS b JOIN {self._members} AS m"
            f" ON m.company = b.company AND m.kind = b.kind AND m.bundle_id = b.bundle_id"
            f" WHERE b.company = %(company)s {where}"
            f" GROUP BY b.client, b.on_date, b.kind, b.bundle_id"
            f" ORDER BY b.client, b.on_date, b.kind, b.bundle_id{page}",
            {"company": company, **params},
        ).fetchall()

    @staticmethod
    def _entry(company: str, row: Sequence[Any]) -> BundleEntry:
        return BundleEntry(
            bundle=RecordKey(company, row[0], row[1]),
            client=row[2],
            on=row[3],
            members=tuple(RecordKey(company, k, i) for k, i in zip(row[4], row[5], strict=True)),
        )

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
        where = ""
        params: dict[str, Any] = {}
        if clients is not None:
            where += " AND b.client = ANY(%(clients)s::text[])"
            params["clients"] = sorted(set(clients))
        if bundles is not None:
            wanted = [k for k in set(bundles) if k.company == company]
            where += f" AND (b.kind, b.bundle_id) IN {_PAIRS}"
            params["kinds"] = [k.kind for k in wanted]
            params["ids"] = [k.source_id for k in wanted]
        params["offset"], params["limit"] = max(0, offset), limit  # LIMIT NULL: no limit
        page = " OFFSET %(offset)s LIMIT %(limit)s"
        rows = self._db.run(
            "bundle entries", lambda c: self._select(c, company, where, params, page)
        )
        return [self._entry(company, row) for row in rows]

    def bundle_of(self, company: str, members: Iterable[RecordKey]) -> dict[RecordKey, RecordKey]:
        """The bundle each member is in."""
        keys = list(members)
        for member in keys:
            check_company(company, member)
        return self._db.run("bundle_of", lambda conn: self.bundle_of_in(conn, company, keys))

    def mappings(self, company: str) -> list[tuple[str, str, str]]:
        """The company's mappings, sorted."""
        rows = self._db.run(
            "mappings",
            lambda conn: conn.execute(
                f"SELECT kind, local, remote FROM {self._mappings}"
                " WHERE company = %s ORDER BY kind, local",
                (company,),
            ).fetchall(),
        )
        return [(r[0], r[1], r[2]) for r in rows]

    # ----------------------------------------------------------------- writes

    def _lock(self, conn: Connection, company: str) -> None:
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (bundle_lock_key(self.schema, company),))

    def add(self, company: str, entries: Iterable[BundleEntry]) -> None:
        """Add bundles in one transaction; a member already in another bundle refuses all."""
        batch = list(entries)
        for entry in batch:
            check_entry(company, entry)
        if not batch:
            return

        def write(conn: Connection) -> None:
            self._lock(conn, company)
            fresh: list[BundleEntry] = []
            seen: set[RecordKey] = set()
            rows = self._select(
                conn,
                company,
                f" AND (b.kind, b.bundle_id) IN {_PAIRS}",
                {
                    "kinds": [e.bundle.kind for e in batch],
                    "ids": [e.bundle.source_id for e in batch],
                },
            )
            stored = {e.bundle: e for e in (self._entry(company, r) for r in rows)}
            for entry in batch:
                old = stored.get(entry.bundle)
                if old is not None:
                    if old != _sorted_members(entry):
                        raise InputError(f"bundle {entry.bundle} already exists with other content")
                    continue
                if entry.bundle in seen:
                    continue
                seen.add(entry.bundle)
                fresh.append(entry)
            if not fresh:
                return
            members = [(m, e.bundle) for e in fresh for m in e.members]
            owners = self.bundle_of_in(conn, company, [m for m, _ in members])
            claimed: dict[RecordKey, RecordKey] = {}
            for member, bundle in members:
                owner = owners.get(member) or claimed.get(member)
                if owner is not None and owner != bundle:
                    raise InputError(f"record {member} is already in bundle {owner}")
                claimed[member] = bundle
            with conn.cursor() as cur:
                cur.executemany(
                    f"INSERT INTO {self._bundles} (company, kind, bundle_id, client, on_date)"
                    " VALUES (%s, %s, %s, %s, %s)",
                    [(company, e.bundle.kind, e.bundle.source_id, e.client, e.on) for e in fresh],
                )
                try:
                    cur.executemany(
                        f"INSERT INTO {self._members}"
                        " (company, member_kind, member_id, kind, bundle_id)"
                        " VALUES (%s, %s, %s, %s, %s)",
                        [
                            (company, m.kind, m.source_id, b.kind, b.source_id)
                            for m, b in claimed.items()
                        ],
                    )
                except pg_errors.UniqueViolation as exc:
                    raise InputError(f"a member is in two bundles: {exc}") from exc

        self._db.run("add bundles", write)

    def bundle_of_in(
        self, conn: Connection, company: str, members: Sequence[RecordKey]
    ) -> dict[RecordKey, RecordKey]:
        """:meth:`bundle_of` inside the caller's transaction."""
        if not members:
            return {}
        rows = conn.execute(
            f"SELECT member_kind, member_id, kind, bundle_id FROM {self._members}"
            " WHERE company = %s AND (member_kind, member_id) IN"
            " (SELECT * FROM unnest(%s::text[], %s::text[]))",
            (company, [k.kind for k in members], [k.source_id for k in members]),
        ).fetchall()
        return {RecordKey(company, r[0], r[1]): RecordKey(company, r[2], r[3]) for r in rows}

    def _remove_in(
        self, conn: Connection, company: str, keys: Sequence[RecordKey]
    ) -> list[BundleEntry]:
        self._lock(conn, company)
        if not keys:
            return []
        params = {"kinds": [k.kind for k in keys], "ids": [k.source_id for k in keys]}
        match = f" AND (b.kind, b.bundle_id) IN {_PAIRS}"
        removed = [self._entry(company, r) for r in self._select(conn, company, match, params)]
        in_keys = f"(kind, bundle_id) IN {_PAIRS}"
        conn.execute(
            f"DELETE FROM {self._members} WHERE company = %(company)s AND {in_keys}",
            {"company": company, **params},
        )
        conn.execute(
            f"DELETE FROM {self._bundles} WHERE company = %(company)s AND {in_keys}",
            {"company": company, **params},
        )
        return sorted(removed, key=entry_order)

    def remove(self, company: str, bundles: Iterable[RecordKey]) -> list[BundleEntry]:
        """Delete bundles and their associations in one transaction; return those removed."""
        keys = list(dict.fromkeys(bundles))
        for key in keys:
            check_company(company, key)
        return self._db.run("remove bundles", lambda conn: self._remove_in(conn, company, keys))

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
        batch = list(events)
        moment = utc(at)

        def write(conn: Connection) -> list[BundleEntry]:
            if batch:
                found = state._statuses(conn, company, [key for key, _ in batch])
                state._apply_found(conn, company, batch, found, at=moment, actor=actor)
            return self._remove_in(conn, company, keys)

        return self._db.run("un-bundle", write)

    def set_mappings(self, company: str, rows: Iterable[tuple[str, str, str]]) -> None:
        """Add, replace or (with an empty remote) delete mappings, in one transaction."""
        batch = [(str(k), str(lo), str(r)) for k, lo, r in rows]

        def write(conn: Connection) -> None:
            self._lock(conn, company)
            with conn.cursor() as cur:
                # in the given order: a later row for the same mapping wins
                for kind, local, remote in batch:
                    if remote.strip():
                        cur.execute(
                            f"INSERT INTO {self._mappings} (company, kind, local, remote)"
                            " VALUES (%s, %s, %s, %s) ON CONFLICT (company, kind, local)"
                            " DO UPDATE SET remote = excluded.remote",
                            (company, kind, local, remote),
                        )
                    else:
                        cur.execute(
                            f"DELETE FROM {self._mappings}"
                            " WHERE company = %s AND kind = %s AND local = %s",
                            (company, kind, local),
                        )

        self._db.run("set mappings", write)

    def close(self) -> None:
        """Close the pool this store opened (a shared or host pool is left alone)."""
        if self._owned:
            self._db.close()

    def __enter__(self) -> PostgresBundleStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _sorted_members(entry: BundleEntry) -> BundleEntry:
    """``entry`` with its members in the order the store gives them back."""
    return BundleEntry(
        bundle=entry.bundle,
        client=entry.client,
        on=entry.on,
        members=tuple(sorted(set(entry.members), key=lambda k: (k.kind, k.source_id))),
    )
