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
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from typing import Any

from psycopg_pool import ConnectionPool

from syncstate.adapters.storage.base import (
    STATUS_COLUMNS,
    check_company,
    fields_from_json,
    fields_to_json,
    paused_gc,
    plan_distinct,
    plan_events,
    status_decoder,
    status_from_row,
    status_runs,
    utc,
)
from syncstate.adapters.storage.journal import (
    JOURNAL_READ_COLUMNS,
    JournalBatches,
    JournalEntries,
    journal_entry_from_row,
    keyed_journal_rows,
)
from syncstate.adapters.storage.postgres.connections import Connection, PostgresConnections
from syncstate.adapters.storage.postgres.migrations import (
    STATE_MIGRATIONS_POSTGRES,
    migrate_postgres,
    quote_schema,
)
from syncstate.domain.records import RecordKey, SourceRecord
from syncstate.domain.state import (
    EXPORTABLE,
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


_BULK = 64  # rows from which writes go through COPY instead of executemany
_STATUS = ", ".join(STATUS_COLUMNS)
_RECORD_COLUMNS = f"company, kind, source_id, on_date, subject, fields, hash, {_STATUS}"
_EXPORTABLE = ", ".join(sorted(f"'{s.value}'" for s in EXPORTABLE))
#: the rows a claim may take: exportable ones and in-flight ones whose lease ran out
_CLAIMABLE = (
    f"(state IN ({_EXPORTABLE}) OR "
    "(state = 'in_flight' AND (lease_until IS NULL OR lease_until <= %(at)s)))"
)
#: a journal row as :func:`~syncstate.adapters.storage.base.plan_distinct` gives it
_JOURNAL_COLUMNS = (
    "record, batch, remote_id, remote_version, message, from_state, to_state, generation,"
    " key_generation, key_revision"
)
#: a journal row with its idempotency key as text (a record repeated in one operation)
_JOURNAL_KEYED_COLUMNS = (
    "record, batch, remote_id, remote_version, message, from_state, to_state, generation,"
    " idempotency_key"
)
_STATUS_TEMP = (
    'CREATE TEMP TABLE _ss_status (kind TEXT COLLATE "C", source_id TEXT COLLATE "C", '
    "state TEXT, generation INTEGER, revision INTEGER, remote_id TEXT, remote_version TEXT, "
    "message TEXT, previous TEXT, worker TEXT, lease_until TIMESTAMPTZ, "
    "changed_in_flight BOOLEAN) ON COMMIT DROP"
)
_INCOMING_TEMP = (
    'CREATE TEMP TABLE _ss_incoming (kind TEXT COLLATE "C", source_id TEXT COLLATE "C", '
    'on_date DATE, subject TEXT COLLATE "C", fields TEXT, hash TEXT) ON COMMIT DROP'
)


def _db_status_row(row: Sequence[Any]) -> tuple[Any, ...]:
    """A status row as PostgreSQL returns it, in the form :func:`status_from_row` reads."""
    lease = row[8]
    if lease is None:
        return tuple(row)
    return (*row[:8], lease.astimezone(dt.UTC).isoformat(), row[9])


def _from_db_status(row: Sequence[Any]) -> Status:
    return status_from_row(_db_status_row(row))


def _to_db_status(status: Status) -> tuple[Any, ...]:
    return (
        status.state.value,
        status.generation,
        status.revision,
        status.remote_id,
        status.remote_version,
        status.message,
        None if status.previous is None else status.previous.value,
        status.worker,
        None if status.lease_until is None else utc(status.lease_until),
        status.changed_in_flight,
    )


def _key_match(keys: Iterable[RecordKey]) -> tuple[str, dict[str, Any]]:
    """A condition matching ``keys``: ``kind = .. AND source_id = ANY(..)`` per kind.

    This shape lets PostgreSQL look the keys up in the primary key index
    whatever its statistics say (a join against ``unnest`` of the keys is
    planned as a nested loop over the whole company while the table has
    never been analysed, e.g. right after a bulk ingest).
    """
    by_kind: dict[str, set[str]] = {}
    for key in keys:
        by_kind.setdefault(key.kind, set()).add(key.source_id)
    if not by_kind:
        return "FALSE", {}
    clauses: list[str] = []
    params: dict[str, Any] = {}
    for n, (kind, ids) in enumerate(sorted(by_kind.items())):
        clauses.append(f"(kind = %(kind{n})s AND source_id = ANY(%(ids{n})s::text[]))")
        params[f"kind{n}"] = kind
        params[f"ids{n}"] = sorted(ids)
    return f"({' OR '.join(clauses)})", params


def _stored(
    row: Sequence[Any], decode: Callable[[Sequence[Any]], Status] = status_from_row
) -> StoredRecord:
    record = SourceRecord(
        key=RecordKey(row[0], row[1], row[2]),
        on=row[3],
        subject=row[4],
        fields=fields_from_json(row[5]),
        hash=row[6],
    )
    return StoredRecord(record, decode(_db_status_row(row[7:])))


def _batches(conn: Connection, table: str, at: dt.datetime, actor: str) -> JournalBatches:
    def insert(event: str) -> int:
        row = conn.execute(
            f"INSERT INTO {table} (at, actor, event) VALUES (%s, %s, %s) RETURNING id",
            (at, actor, event),
        ).fetchone()
        assert row is not None  # RETURNING gives the row
        return int(row[0])

    return JournalBatches(insert)


class PostgresStore:
    """State store in a PostgreSQL schema, shared by any number of worker processes.

    Give exactly one of ``dsn`` (the store opens and owns a pool of up to
    ``max_size`` connections), ``pool`` (a host's open pool, left open on
    :meth:`close`) or ``connect`` (a host's factory returning a new connection,
    closed after each operation). Tables live in ``schema``, created on first
    use together with the migrations. A store is not fork-safe: make one per
    process.
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
        )
        try:
            self._db.run(
                "migrate",
                lambda conn: migrate_postgres(
                    conn, "state", STATE_MIGRATIONS_POSTGRES, schema=schema
                ),
                transaction=False,
            )
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

    def _statuses(
        self, conn: Connection, company: str, keys: Sequence[RecordKey]
    ) -> dict[str, dict[str, tuple[int, Status]]]:
        """Row id and current status of ``keys`` by kind then source id, locked for this
        transaction (in key order)."""
        for key in keys:
            if key.company != company:
                check_company(company, key)
        if not keys:
            return {}
        match, params = _key_match(keys)
        rows = conn.execute(
            f"SELECT id, kind, source_id, {_STATUS} FROM {self._records} "
            f"WHERE company = %(company)s AND {match} ORDER BY kind, source_id FOR UPDATE",
            {"company": company, **params},
        )
        decode = status_decoder()
        found: dict[str, dict[str, tuple[int, Status]]] = {}
        for r in rows:
            of_kind = found.get(r[1])
            if of_kind is None:
                of_kind = found[r[1]] = {}
            of_kind[r[2]] = (r[0], decode(_db_status_row(r[3:])))
        return found

    def get(self, key: RecordKey) -> StoredRecord:
        """One record with its status."""
        row = self._db.run(
            "get",
            lambda conn: conn.execute(
                f"SELECT {_RECORD_COLUMNS} FROM {self._records} "
                "WHERE company = %s AND kind = %s AND source_id = %s",
                (key.company, key.kind, key.source_id),
            ).fetchone(),
        )
        if row is None:
            raise RecordNotFound(record=str(key))
        return _stored(row)

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
        where = ["company = %s"]
        params: list[Any] = [company]
        for column, values in (
            ("kind", kinds),
            ("subject", subjects),
            ("state", None if states is None else (s.value for s in states)),
            ("source_id", source_ids),
        ):
            if values is not None:
                where.append(f"{column} = ANY(%s::text[])")
                params.append(list(values))
        if date_range is not None:
            where.append("on_date BETWEEN %s AND %s")
            params += [date_range.start, date_range.end]
        if after is not None:
            where.append("(kind, source_id) > (%s, %s)")
            params += [after.kind, after.source_id]
        sql = (
            f"SELECT {_RECORD_COLUMNS} FROM {self._records} WHERE {' AND '.join(where)} "
            "ORDER BY kind, source_id"
        )
        if limit is not None:
            sql += " LIMIT %s"
            params.append(limit)
        rows = self._db.run("find", lambda conn: conn.execute(sql, params).fetchall())
        return [_stored(row) for row in rows]

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
        """Write ``statuses[i]`` to record ``keys[i]``: runs of records sharing one status
        object with one statement per run and kind, the others through ``COPY`` and one
        join (or pipelined ``executemany`` when they are few). Rows are found through the
        primary key."""
        alone, groups = status_runs(keys, statuses, _to_db_status)
        singles = [(key.kind, key.source_id, *row) for key, row in alone]
        set_all = ", ".join(f"{c} = %s" for c in STATUS_COLUMNS)
        with conn.cursor() as cur:
            for row, members in groups.items():
                by_kind: dict[str, list[str]] = {}
                for key in members:
                    by_kind.setdefault(key.kind, []).append(key.source_id)
                for kind, ids in by_kind.items():
                    cur.execute(
                        f"UPDATE {self._records} SET {set_all} WHERE company = %s "
                        "AND kind = %s AND source_id = ANY(%s::text[])",
                        (*row, company, kind, ids),
                    )
            if len(singles) < _BULK:
                cur.executemany(
                    f"UPDATE {self._records} SET {set_all} "
                    "WHERE company = %s AND kind = %s AND source_id = %s",
                    [(*r[2:], company, r[0], r[1]) for r in singles],
                )
                return
            cur.execute(_STATUS_TEMP)
            with cur.copy("COPY _ss_status FROM STDIN") as copy:
                for single in singles:
                    copy.write_row(single)
            cur.execute(
                f"UPDATE {self._records} AS r SET "
                + ", ".join(f"{c} = s.{c}" for c in STATUS_COLUMNS)
                + " FROM _ss_status AS s WHERE r.company = %s"
                " AND r.kind = s.kind AND r.source_id = s.source_id",
                (company,),
            )
            cur.execute("DROP TABLE _ss_status")

    def _write_journal(
        self, conn: Connection, rows: Sequence[tuple[Any, ...]], *, keyed: bool = False
    ) -> None:
        """Append journal rows as :func:`plan_distinct` gives them (``keyed``: with the
        idempotency key as text instead of its generation and revision)."""
        columns = _JOURNAL_KEYED_COLUMNS if keyed else _JOURNAL_COLUMNS
        with conn.cursor() as cur:
            if len(rows) < _BULK:
                marks = ", ".join(["%s"] * len(columns.split(",")))
                cur.executemany(f"INSERT INTO {self._journal} ({columns}) VALUES ({marks})", rows)
                return
            with cur.copy(f"COPY {self._journal} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)

    def _apply_found(
        self,
        conn: Connection,
        company: str,
        batch: Sequence[tuple[RecordKey, Event]],
        found: dict[str, dict[str, tuple[int, Status]]],
        *,
        at: dt.datetime,
        actor: str,
    ) -> Sequence[JournalEntry]:
        """Plan ``batch`` against the ``found`` statuses and write the result."""
        keys = [key for key, _ in batch]
        hits = [found.get(key.kind, {}).get(key.source_id) for key in keys]
        batches = _batches(conn, self._batches, at, actor)
        if len({(k.kind, k.source_id) for k in keys}) == len(keys):  # each record once
            before = [None if hit is None else hit[1] for hit in hits]
            ids = [None if hit is None else hit[0] for hit in hits]
            events = [event for _, event in batch]
            after, rows = plan_distinct(company, keys, before, events, ids, at=at, batch_of=batches)
            self._write_statuses(conn, company, keys, after)
            self._write_journal(conn, rows)
            return JournalEntries(keys, before, events, at=at, actor=actor)  # type: ignore[arg-type]
        current = {key: hit[1] for key, hit in zip(keys, hits, strict=True) if hit is not None}
        statuses, entries = plan_events(company, current, batch, at=at, actor=actor)
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
        incoming: dict[RecordKey, SourceRecord] = {}
        for record in records:
            check_company(company, record.key)
            incoming[record.key] = record
        ordered = sorted(incoming.values(), key=lambda r: r.key)
        join = (
            "FROM _ss_incoming AS i WHERE r.company = %s AND r.kind = i.kind "
            "AND r.source_id = i.source_id AND r.hash <> i.hash"
        )

        def write(conn: Connection) -> IngestReport:
            with conn.cursor() as cur:
                cur.execute(_INCOMING_TEMP)
                with cur.copy("COPY _ss_incoming FROM STDIN") as copy:
                    for r in ordered:
                        copy.write_row(
                            (
                                r.key.kind,
                                r.key.source_id,
                                r.on,
                                r.subject,
                                fields_to_json(r),
                                r.hash,
                            )
                        )
                cur.execute(
                    f"INSERT INTO {self._records} "
                    "(company, kind, source_id, on_date, subject, fields, hash) "
                    "SELECT %s, kind, source_id, on_date, subject, fields, hash "
                    "FROM _ss_incoming ORDER BY kind, source_id "
                    "ON CONFLICT (company, kind, source_id) DO NOTHING",
                    (company,),
                )
                added = cur.rowcount
                rows = cur.execute(
                    f"SELECT r.id, r.kind, r.source_id, "
                    f"{', '.join('r.' + c for c in STATUS_COLUMNS)} "
                    f"FROM {self._records} AS r, _ss_incoming AS i WHERE r.company = %s "
                    "AND r.kind = i.kind AND r.source_id = i.source_id AND r.hash <> i.hash "
                    "ORDER BY r.kind, r.source_id FOR UPDATE OF r",
                    (company,),
                ).fetchall()
                outdated: tuple[RecordKey, ...] = ()
                if rows:
                    cur.execute(
                        f"UPDATE {self._records} AS r SET on_date = i.on_date, "
                        f"subject = i.subject, fields = i.fields, hash = i.hash {join}",
                        (company,),
                    )
                    keys = [RecordKey(company, r[1], r[2]) for r in rows]
                    before = [_from_db_status(r[3:]) for r in rows]
                    event = Event.of(EventKind.SOURCE_CHANGED, "source changed")
                    after, journal = plan_distinct(
                        company,
                        keys,
                        before,
                        [event] * len(keys),
                        [r[0] for r in rows],
                        at=at,
                        batch_of=_batches(conn, self._batches, at, actor),
                    )
                    self._write_statuses(conn, company, keys, after)
                    self._write_journal(conn, journal)
                    outdated = tuple(
                        key
                        for key, old, new in zip(keys, before, after, strict=True)
                        if new.state is ExportState.OUTDATED
                        and old.state is not ExportState.OUTDATED
                    )
                cur.execute("DROP TABLE _ss_incoming")
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
        where = ["company = %(company)s", _CLAIMABLE]
        params: dict[str, Any] = {"company": company, "at": at, "limit": limit}
        if kinds is not None:
            where.append("kind = ANY(%(kinds)s::text[])")
            params["kinds"] = list(kinds)
        if keys is not None:
            wanted = sorted(set(keys))
            for key in wanted:
                check_company(company, key)
            match, by_kind = _key_match(wanted)
            where.append(match)
            params.update(by_kind)
        sql = (
            f"SELECT id, {_RECORD_COLUMNS} FROM {self._records} WHERE {' AND '.join(where)} "
            "ORDER BY kind, source_id LIMIT %(limit)s FOR UPDATE SKIP LOCKED"
        )

        def write(conn: Connection) -> list[StoredRecord]:
            rows = conn.execute(sql, params).fetchall()
            decode = status_decoder()
            stored = [_stored(row[1:], decode) for row in rows]
            ids = [row[0] for row in rows]
            event = Event.claim(worker=worker, lease_until=lease)
            after, journal = plan_distinct(
                company,
                [s.key for s in stored],
                [s.status for s in stored],
                [event] * len(stored),
                ids,
                at=at,
                batch_of=_batches(conn, self._batches, at, actor),
            )
            self._write_statuses(conn, company, [s.key for s in stored], after)
            self._write_journal(conn, journal)
            return [StoredRecord(s.record, new) for s, new in zip(stored, after, strict=True)]

        with paused_gc():
            return self._db.run("claim", write)

    def close(self) -> None:
        """Close the pool this store opened (a host's pool or factory is left alone)."""
        self._db.close()

    def __enter__(self) -> PostgresStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
