"""A shared :class:`~syncstate.ports.StateStore` on PostgreSQL, for many workers.

Install with ``pip install syncstate[postgres]`` (psycopg 3 and psycopg_pool).

* Same protocol, semantics and conformance suite as the SQLite store; the pure
  planning step (:func:`~syncstate.adapters.storage.base.plan_events`) decides
  every transition, this module only loads and writes rows.
* One transaction per operation; parameterised SQL only; bulk writes go
  through ``COPY`` into a temporary table and one set-based statement (ingest
  and large ``apply`` calls), small ones through pipelined ``executemany``.
* Claims select with ``FOR UPDATE SKIP LOCKED`` and write a lease
  (``lease_until``): N worker processes never receive the same record, and the
  leases of a worker that died expire and are taken over.
* :meth:`PostgresStore.company_lock` is a session-level advisory lock per
  company (the company name hashed to a bigint) for clear + reload.
* Connections come from a :class:`psycopg_pool.ConnectionPool` (made from a
  DSN, or supplied by the host) or a host-supplied factory. Connection failures
  before a commit, serialization failures and deadlocks are retried with
  tenacity; a connection lost *during* a commit is reported, never retried
  blindly. The DSN's password never appears in ``repr``, logs or errors.

The SQL text is in :mod:`~syncstate.adapters.storage.postgres.statements`, the
row codecs in :mod:`~syncstate.adapters.storage.postgres.rows` and the bulk
(``COPY``) writes in :mod:`~syncstate.adapters.storage.postgres.bulk`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from typing import Any

from psycopg_pool import ConnectionPool

from syncstate.adapters.storage.base import (
    RECORD_SELECT,
    STATUS_SELECT,
    Found,
    check_company,
    found_statuses,
    incoming_records,
    newly_outdated,
    paused_gc,
    plan_distinct,
    plan_found,
    status_decoder,
    utc,
)
from syncstate.adapters.storage.journal import (
    JOURNAL_READ_COLUMNS,
    JournalEntries,
    journal_entry_from_row,
    keyed_journal_rows,
)
from syncstate.adapters.storage.postgres.bulk import (
    journal_batches,
    merge_incoming,
    write_journal,
    write_statuses,
)
from syncstate.adapters.storage.postgres.connections import Connection, PostgresConnections
from syncstate.adapters.storage.postgres.migrations import (
    STATE_MIGRATIONS_POSTGRES,
    quote_schema,
)
from syncstate.adapters.storage.postgres.rows import db_status_row, from_db_status, stored
from syncstate.adapters.storage.postgres.statements import (
    claim_query,
    find_query,
    key_match,
)
from syncstate.domain.records import RecordKey, SourceRecord
from syncstate.domain.state import (
    Event,
    EventKind,
    ExportState,
    JournalEntry,
    Status,
)
from syncstate.errors import RecordNotFound
from syncstate.periods import DateRange
from syncstate.ports import IngestReport, StoredRecord

__all__ = ["PostgresStore"]


class PostgresStore:
    """State store in a PostgreSQL schema, shared by any number of worker processes.

    Give exactly one of ``dsn`` (the store opens and owns a pool of up to
    ``max_size`` connections), ``pool`` (a host's open pool, left open on
    :meth:`close`) or ``connect`` (a host's factory returning a new connection,
    closed after each operation). Tables live in ``schema``, created on first
    use together with the migrations; a schema holding another application's
    tables is refused unless ``adopt_schema=True``. A store is not fork-safe:
    make one per process.
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
    ) -> None:
        self.schema = schema
        self._q = quote_schema(schema)
        self._records = f"{self._q}.records"
        self._journal = f"{self._q}.journal"
        self._batches = f"{self._q}.journal_batches"
        self._db = PostgresConnections(
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
            self._db.migrate("state", STATE_MIGRATIONS_POSTGRES, schema=schema)
        except BaseException:
            self.close()
            raise

    def __repr__(self) -> str:
        return f"PostgresStore({self._db.shown!r}, schema={self.schema!r})"

    def company_lock(self, company: str, *, wait: bool = False) -> AbstractContextManager[None]:
        """The advisory lock of ``company`` (for clear + reload), as a context manager.

        Raises :class:`~syncstate.errors.CompanyBusy` when another process holds
        it, unless ``wait=True``. Other companies stay usable meanwhile.
        """
        return self._db.company_lock(company, wait=wait)

    # ------------------------------------------------------------------ reads

    def _statuses(self, conn: Connection, company: str, keys: Sequence[RecordKey]) -> Found:
        """Row id and current status of ``keys`` by kind then source id, locked for this
        transaction (in key order)."""
        for key in keys:
            if key.company != company:
                check_company(company, key)
        if not keys:
            return {}
        match, params = key_match(keys)
        rows = conn.execute(
            f"SELECT id, kind, source_id, {STATUS_SELECT} FROM {self._records} "
            f"WHERE company = %(company)s AND {match} ORDER BY kind, source_id FOR UPDATE",
            {"company": company, **params},
        )
        decode = status_decoder()
        found: Found = {}
        for r in rows:
            of_kind = found.get(r[1])
            if of_kind is None:
                of_kind = found[r[1]] = {}
            of_kind[r[2]] = (r[0], decode(db_status_row(r[3:])))
        return found

    def get(self, key: RecordKey) -> StoredRecord:
        """One record with its status."""
        row = self._db.run(
            "get",
            lambda conn: conn.execute(
                f"SELECT {RECORD_SELECT} FROM {self._records} "
                "WHERE company = %s AND kind = %s AND source_id = %s",
                (key.company, key.kind, key.source_id),
            ).fetchone(),
        )
        if row is None:
            raise RecordNotFound(record=str(key))
        return stored(row)

    def find(
        self,
        company: str,
        *,
        kinds: Iterable[str] | None = None,
        date_range: DateRange | None = None,
        subjects: Iterable[str] | None = None,
        states: Iterable[ExportState] | None = None,
        source_ids: Iterable[str] | None = None,
        after: RecordKey | None = None,
        limit: int | None = None,
    ) -> list[StoredRecord]:
        """Records matching every filter, ordered by (kind, source id)."""
        sql, params = find_query(
            self._records,
            company,
            kinds=kinds,
            date_range=date_range,
            subjects=subjects,
            states=states,
            source_ids=source_ids,
            after=after,
            limit=limit,
        )
        rows = self._db.run("find", lambda conn: conn.execute(sql, params).fetchall())
        return [stored(row) for row in rows]

    def journal(self, key: RecordKey) -> list[JournalEntry]:
        """The record's journal, oldest first."""
        where = "WHERE company = %s AND kind = %s AND source_id = %s"
        params = (key.company, key.kind, key.source_id)

        def read(conn: Connection) -> tuple[bool, list[Any]]:
            exists = conn.execute(f"SELECT id FROM {self._records} {where}", params).fetchone()
            if exists is None:
                return False, []
            rows = conn.execute(
                f"SELECT {JOURNAL_READ_COLUMNS} FROM {self._journal} AS j"
                f" JOIN {self._batches} AS b ON b.id = j.batch"
                " WHERE j.record = %s ORDER BY j.seq",
                (exists[0],),
            ).fetchall()
            return True, rows

        exists, rows = self._db.run("journal", read)
        if not exists:
            raise RecordNotFound(record=str(key))
        return [journal_entry_from_row(key, r[0].astimezone(dt.UTC), r) for r in rows]

    def counts(self, company: str) -> dict[ExportState, int]:
        """Records per state."""
        rows = self._db.run(
            "counts",
            lambda conn: conn.execute(
                f"SELECT state, count(*) FROM {self._records} WHERE company = %s GROUP BY state",
                (company,),
            ).fetchall(),
        )
        out = dict.fromkeys(ExportState, 0)
        for state, count in rows:
            out[ExportState(state)] = count
        return out

    def companies(self) -> list[str]:
        """Companies with records."""
        rows = self._db.run(
            "companies",
            lambda conn: conn.execute(
                f"SELECT DISTINCT company FROM {self._records} ORDER BY 1"
            ).fetchall(),
        )
        return [r[0] for r in rows]

    # ----------------------------------------------------------------- writes

    def _write_statuses(
        self,
        conn: Connection,
        company: str,
        keys: Sequence[RecordKey],
        statuses: Sequence[Status],
    ) -> None:
        """Write ``statuses[i]`` to record ``keys[i]``
        (:func:`~syncstate.adapters.storage.postgres.bulk.write_statuses`)."""
        write_statuses(conn, self._records, company, keys, statuses)

    def _write_journal(
        self, conn: Connection, rows: Sequence[tuple[Any, ...]], *, keyed: bool = False
    ) -> None:
        """Append journal rows as :func:`plan_distinct` gives them (``keyed``: with the
        idempotency key as text) through
        :func:`~syncstate.adapters.storage.postgres.bulk.write_journal`."""
        write_journal(conn, self._journal, rows, keyed=keyed)

    def _apply_found(
        self,
        conn: Connection,
        company: str,
        batch: Sequence[tuple[RecordKey, Event]],
        found: Found,
        *,
        at: dt.datetime,
        actor: str,
    ) -> Sequence[JournalEntry]:
        """Plan ``batch`` against the ``found`` statuses and write the result."""
        keys = [key for key, _ in batch]
        batches = journal_batches(conn, self._batches, at, actor)
        if len({(k.kind, k.source_id) for k in keys}) == len(keys):  # each record once
            before, ids = found_statuses(keys, found)
            events = [event for _, event in batch]
            after, rows = plan_distinct(company, keys, before, events, ids, at=at, batch_of=batches)
            self._write_statuses(conn, company, keys, after)
            self._write_journal(conn, rows)
            return JournalEntries(keys, before, events, at=at, actor=actor)  # type: ignore[arg-type]
        statuses, entries = plan_found(company, batch, found, at=at, actor=actor)
        self._write_statuses(conn, company, list(statuses), list(statuses.values()))
        self._write_journal(
            conn,
            keyed_journal_rows(entries, lambda key: found[key.kind][key.source_id][0], batches),
            keyed=True,
        )
        return entries

    def ingest(
        self, company: str, records: Iterable[SourceRecord], *, at: dt.datetime, actor: str
    ) -> IngestReport:
        """Add new records and update changed ones, in one transaction (bulk ``COPY``)."""
        at = utc(at)
        incoming = incoming_records(company, records)
        ordered = sorted(incoming.values(), key=lambda r: r.key)

        def write(conn: Connection) -> IngestReport:
            added, rows = merge_incoming(conn, self._records, company, ordered)
            outdated: tuple[RecordKey, ...] = ()
            if rows:
                keys = [RecordKey(company, r[1], r[2]) for r in rows]
                before = [from_db_status(r[3:]) for r in rows]
                event = Event.of(EventKind.SOURCE_CHANGED, "source changed")
                after, journal = plan_distinct(
                    company,
                    keys,
                    before,
                    [event] * len(keys),
                    [r[0] for r in rows],
                    at=at,
                    batch_of=journal_batches(conn, self._batches, at, actor),
                )
                self._write_statuses(conn, company, keys, after)
                self._write_journal(conn, journal)
                outdated = newly_outdated(keys, before, after)
            return IngestReport(
                added=added,
                changed=len(rows),
                unchanged=len(ordered) - added - len(rows),
                outdated=outdated,
            )

        return self._db.run("ingest", write)

    def apply(
        self,
        company: str,
        events: Iterable[tuple[RecordKey, Event]],
        *,
        at: dt.datetime,
        actor: str,
    ) -> Sequence[JournalEntry]:
        """Apply events atomically: all of them or none."""
        at = utc(at)
        with paused_gc():
            batch = list(events)

            def write(conn: Connection) -> Sequence[JournalEntry]:
                found = self._statuses(conn, company, [key for key, _ in batch])
                return self._apply_found(conn, company, batch, found, at=at, actor=actor)

            return self._db.run("apply", write)

    def claim(
        self,
        company: str,
        *,
        worker: str,
        lease_until: dt.datetime,
        at: dt.datetime,
        actor: str,
        kinds: Iterable[str] | None = None,
        keys: Iterable[RecordKey] | None = None,
        limit: int = 100,
    ) -> list[StoredRecord]:
        """Claim up to ``limit`` exportable records (or expired leases), atomically.

        Rows locked by a concurrent claim are skipped (``SKIP LOCKED``), so
        workers never wait for each other and never receive the same record.
        """
        at = utc(at)
        lease = utc(lease_until)
        wanted = None if keys is None else sorted(set(keys))
        for key in wanted or ():
            check_company(company, key)
        sql, params = claim_query(
            self._records, company, at=at, limit=limit, kinds=kinds, keys=wanted
        )

        def write(conn: Connection) -> list[StoredRecord]:
            rows = conn.execute(sql, params).fetchall()
            decode = status_decoder()
            taken = [stored(row[1:], decode) for row in rows]
            ids = [row[0] for row in rows]
            event = Event.claim(worker=worker, lease_until=lease)
            after, journal = plan_distinct(
                company,
                [s.key for s in taken],
                [s.status for s in taken],
                [event] * len(taken),
                ids,
                at=at,
                batch_of=journal_batches(conn, self._batches, at, actor),
            )
            self._write_statuses(conn, company, [s.key for s in taken], after)
            self._write_journal(conn, journal)
            return [StoredRecord(s.record, new) for s, new in zip(taken, after, strict=True)]

        with paused_gc():
            return self._db.run("claim", write)

    def close(self) -> None:
        """Close the pool this store opened (a host's pool or factory is left alone)."""
        self._db.close()

    def __enter__(self) -> PostgresStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
