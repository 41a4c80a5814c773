"""The embedded default :class:`~syncstate.ports.StateStore`, on SQLite.

WAL mode, one transaction per operation (``BEGIN IMMEDIATE`` for writes, so
concurrent processes serialise instead of failing half-way), parameterised SQL
only, bulk writes with ``executemany`` inside one transaction, schema versioned
by :mod:`syncstate.adapters.storage.sqlite.migrations`.

One connection per store, guarded by a lock so export threads can share it. The
SQL text is in :mod:`~syncstate.adapters.storage.sqlite.statements`, the bulk
reads and writes in :mod:`~syncstate.adapters.storage.sqlite.bulk`; this module
decides what an operation reads and writes.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from typing import Any

from syncstate.adapters.storage.base import (
    RECORD_SELECT,
    Found,
    check_company,
    fields_from_json,
    fields_to_json,
    found_statuses,
    incoming_records,
    newly_outdated,
    paused_gc,
    plan_distinct,
    plan_found,
    status_decoder,
    status_from_row,
    utc,
)
from syncstate.adapters.storage.journal import (
    JOURNAL_READ_COLUMNS,
    JournalEntries,
    journal_entry_from_row,
    keyed_journal_rows,
)
from syncstate.adapters.storage.sqlite.bulk import (
    has_json,
    journal_batches,
    load_statuses,
    stored_hashes,
    write_rows,
    write_statuses,
)
from syncstate.adapters.storage.sqlite.files import (
    open_readonly,
    open_sqlite,
    read_transaction,
    write_transaction,
)
from syncstate.adapters.storage.sqlite.migrations import STATE_MIGRATIONS
from syncstate.adapters.storage.sqlite.statements import (
    INSERT_JOURNAL,
    INSERT_JOURNAL_KEYED,
    INSERT_RECORDS,
    UPDATE_RECORDS,
    claim_query,
    find_query,
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

__all__ = ["SQLiteStore"]


class SQLiteStore:
    """State store in one SQLite file (or ``":memory:"``)."""

    def __init__(
        self,
        path: str | os.PathLike[str] = "syncstate.db",
        *,
        timeout: float = 30.0,
        readonly: bool = False,
    ):
        """Open (creating and migrating if needed) the state store at ``path``.

        ``readonly=True`` opens an existing syncstate database without changing it
        (no file created, no migration, no journal-mode switch); writes then fail with
        :class:`~syncstate.errors.StorageError`. A file that is not a syncstate
        database is refused with :class:`~syncstate.errors.InputError`.
        """
        self.path = str(path)
        self.readonly = readonly
        if readonly:
            self._conn = open_readonly(
                path, component="state", migrations=STATE_MIGRATIONS, timeout=timeout
            )
        else:
            self._conn = open_sqlite(
                path, component="state", migrations=STATE_MIGRATIONS, timeout=timeout
            )
        self._lock = threading.RLock()
        self._json = has_json(self._conn)
        # UPDATE ... FROM needs SQLite 3.33 (2020); older ones write statuses row by row
        self._update_from = sqlite3.sqlite_version_info >= (3, 33, 0)

    def __repr__(self) -> str:
        return f"SQLiteStore({self.path!r})"

    @property
    def connection(self) -> sqlite3.Connection:
        """The underlying connection (for host-owned tables in the same file)."""
        return self._conn

    def _write(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        """One write transaction: commit on success, roll back on any error."""
        return write_transaction(self._conn, self._lock, self.path)

    def _read(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        return read_transaction(self._conn, self._lock)

    # ------------------------------------------------------------------ reads

    def _load(
        self, conn: sqlite3.Connection, company: str, keys: Iterable[RecordKey]
    ) -> tuple[Found, int]:
        """Row id and status of each stored key, by kind then source id, and how many
        distinct keys were asked for."""
        return load_statuses(conn, company, keys, grouped=self._json)

    @staticmethod
    def _stored(row: Sequence[Any]) -> StoredRecord:
        record = SourceRecord(
            key=RecordKey(row[0], row[1], row[2]),
            on=dt.date.fromisoformat(row[3]),
            subject=row[4],
            fields=fields_from_json(row[5]),
            hash=row[6],
        )
        return StoredRecord(record, status_from_row(row[7:]))

    def get(self, key: RecordKey) -> StoredRecord:
        """One record with its status."""
        with self._read() as conn:
            row = conn.execute(
                f"SELECT {RECORD_SELECT} FROM records "
                "WHERE company = ? AND kind = ? AND source_id = ?",
                (key.company, key.kind, key.source_id),
            ).fetchone()
        if row is None:
            raise RecordNotFound(record=str(key))
        return self._stored(row)

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
            company,
            kinds=kinds,
            date_range=date_range,
            subjects=subjects,
            states=states,
            source_ids=source_ids,
            after=after,
            limit=limit,
        )
        with self._read() as conn:
            return [self._stored(row) for row in conn.execute(sql, params)]

    def journal(self, key: RecordKey) -> list[JournalEntry]:
        """The record's journal, oldest first."""
        with self._read() as conn:
            exists = conn.execute(
                "SELECT id FROM records WHERE company = ? AND kind = ? AND source_id = ?",
                (key.company, key.kind, key.source_id),
            ).fetchone()
            rows = (
                []
                if exists is None
                else conn.execute(
                    f"SELECT {JOURNAL_READ_COLUMNS} FROM journal AS j"
                    " JOIN journal_batches AS b ON b.id = j.batch"
                    " WHERE j.record = ? ORDER BY j.seq",
                    (exists[0],),
                ).fetchall()
            )
        if exists is None:
            raise RecordNotFound(record=str(key))
        return [journal_entry_from_row(key, dt.datetime.fromisoformat(r[0]), r) for r in rows]

    def counts(self, company: str) -> dict[ExportState, int]:
        """Records per state."""
        out = dict.fromkeys(ExportState, 0)
        with self._read() as conn:
            rows = conn.execute(
                "SELECT state, count(*) FROM records WHERE company = ? GROUP BY state", (company,)
            )
            for state, count in rows:
                out[ExportState(state)] = count
        return out

    def companies(self) -> list[str]:
        """Companies with records."""
        with self._read() as conn:
            return [r[0] for r in conn.execute("SELECT DISTINCT company FROM records ORDER BY 1")]

    # ----------------------------------------------------------------- writes

    def _write_statuses(
        self, conn: sqlite3.Connection, rowids: Sequence[int], statuses: Sequence[Status]
    ) -> None:
        """Write ``statuses[i]`` to row ``rowids[i]`` (row ids read in this transaction)."""
        write_statuses(conn, rowids, statuses, update_from=self._update_from)

    def _apply_distinct(
        self,
        conn: sqlite3.Connection,
        company: str,
        keys: Sequence[RecordKey],
        events: Sequence[Event],
        found: Found,
        *,
        at: dt.datetime,
        actor: str,
    ) -> tuple[list[Status | None], list[Status], JournalEntries]:
        """Apply ``events[i]`` to the distinct ``keys[i]``; return statuses before and after
        and the journal entries."""
        before, ids = found_statuses(keys, found)
        after, rows = plan_distinct(
            company, keys, before, events, ids, at=at, batch_of=journal_batches(conn, at, actor)
        )
        # planning raised RecordNotFound if any key was missing
        self._write_statuses(conn, ids, after)  # type: ignore[arg-type]
        write_rows(conn, INSERT_JOURNAL, rows)
        # the rows go now (so the collector never walks them); entries are recomputed
        return before, after, JournalEntries(keys, before, events, at=at, actor=actor)  # type: ignore[arg-type]

    def ingest(
        self, company: str, records: Iterable[SourceRecord], *, at: dt.datetime, actor: str
    ) -> IngestReport:
        """Add new records and update changed ones, in one transaction."""
        at = utc(at)
        incoming = incoming_records(company, records)
        with paused_gc(), self._write() as conn:
            known = stored_hashes(conn, company, incoming)
            new_rows = []
            changed: list[SourceRecord] = []
            unchanged = 0
            for key, record in incoming.items():
                digest = known.get(key)
                if digest is None:
                    new_rows.append(
                        (
                            company,
                            key.kind,
                            key.source_id,
                            record.on.isoformat(),
                            record.subject,
                            fields_to_json(record),
                            record.hash,
                        )
                    )
                elif digest == record.hash:
                    unchanged += 1
                else:
                    changed.append(record)
            write_rows(conn, INSERT_RECORDS, new_rows)
            outdated: tuple[RecordKey, ...] = ()
            if changed:
                conn.executemany(
                    UPDATE_RECORDS,
                    [
                        (
                            r.on.isoformat(),
                            r.subject,
                            fields_to_json(r),
                            r.hash,
                            company,
                            r.key.kind,
                            r.key.source_id,
                        )
                        for r in changed
                    ],
                )
                keys = [r.key for r in changed]
                found, _ = self._load(conn, company, keys)
                event = Event.of(EventKind.SOURCE_CHANGED, "source changed")
                before, after, _entries = self._apply_distinct(
                    conn, company, keys, [event] * len(keys), found, at=at, actor=actor
                )
                outdated = newly_outdated(keys, before, after)
        return IngestReport(
            added=len(new_rows), changed=len(changed), unchanged=unchanged, outdated=outdated
        )

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
        with paused_gc(), self._write() as conn:
            # a helper call: its bulk locals are freed before the collector resumes
            return self._apply(conn, company, events, at=at, actor=actor)

    def _apply(
        self,
        conn: sqlite3.Connection,
        company: str,
        events: Iterable[tuple[RecordKey, Event]],
        *,
        at: dt.datetime,
        actor: str,
    ) -> Sequence[JournalEntry]:
        batch = list(events)
        keys = [key for key, _ in batch]
        found, distinct = self._load(conn, company, keys)
        if distinct == len(keys):  # the bulk case: each record once
            events_in_order = [event for _, event in batch]
            _, _, planned = self._apply_distinct(
                conn, company, keys, events_in_order, found, at=at, actor=actor
            )
            return planned
        statuses, entries = plan_found(company, batch, found, at=at, actor=actor)
        self._write_statuses(
            conn,
            [found[key.kind][key.source_id][0] for key in statuses],
            list(statuses.values()),
        )
        conn.executemany(
            INSERT_JOURNAL_KEYED,
            keyed_journal_rows(
                entries,
                lambda key: found[key.kind][key.source_id][0],
                journal_batches(conn, at, actor),
            ),
        )
        return entries

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
        """Claim up to ``limit`` exportable records (or expired leases), atomically."""
        at = utc(at)
        select, params = claim_query(company, at=at, kinds=kinds)
        wanted = None if keys is None else sorted(set(keys))
        with paused_gc(), self._write() as conn:
            # a helper call: its bulk locals are freed before the collector resumes
            return self._claim(
                conn, company, select, params, wanted, worker, lease_until, at, actor, limit
            )

    def _claim(
        self,
        conn: sqlite3.Connection,
        company: str,
        select: str,
        params: list[Any],
        wanted: list[RecordKey] | None,
        worker: str,
        lease_until: dt.datetime,
        at: dt.datetime,
        actor: str,
        limit: int,
    ) -> list[StoredRecord]:
        rows: list[Any] = []
        if wanted is None:
            rows = conn.execute(
                f"{select} ORDER BY kind, source_id LIMIT ?", (*params, limit)
            ).fetchall()
        else:
            for key in wanted:
                check_company(company, key)
            for key in wanted:
                if len(rows) >= limit:
                    break
                row = conn.execute(
                    f"{select} AND kind = ? AND source_id = ?",
                    (*params, key.kind, key.source_id),
                ).fetchone()
                if row is not None:
                    rows.append(row)
        # one pass over the rows: records, statuses (equal rows decoded once), rowids
        decode = status_decoder()
        dates: dict[str, dt.date] = {}
        records: list[SourceRecord] = []
        claimed: list[RecordKey] = []
        before: list[Status | None] = []
        for row in rows:
            key = RecordKey(company, row[1], row[2])
            on = dates.get(row[3])
            if on is None:
                on = dates[row[3]] = dt.date.fromisoformat(row[3])
            records.append(
                SourceRecord(
                    key=key, on=on, subject=row[4], fields=fields_from_json(row[5]), hash=row[6]
                )
            )
            claimed.append(key)
            before.append(decode(row[7:]))
        event = Event.claim(worker=worker, lease_until=utc(lease_until))
        ids = [row[0] for row in rows]
        after, journal = plan_distinct(
            company,
            claimed,
            before,
            [event] * len(claimed),
            ids,
            at=at,
            batch_of=journal_batches(conn, at, actor),
        )
        self._write_statuses(conn, ids, after)
        write_rows(conn, INSERT_JOURNAL, journal)
        return [StoredRecord(r, s) for r, s in zip(records, after, strict=True)]

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._conn.close()

    def __enter__(self) -> SQLiteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
