"""The embedded default :class:`~syncstate.ports.StateStore`, on SQLite.

WAL mode, one transaction per operation (``BEGIN IMMEDIATE`` for writes, so
concurrent processes serialise instead of failing half-way), parameterised SQL
only, bulk writes with ``executemany`` inside one transaction, schema versioned
by :mod:`syncstate.adapters.storage.sqlite.migrations`.

One connection per store, guarded by a lock so export threads can share it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from itertools import chain, repeat
from typing import Any

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
    status_to_row,
    utc,
)
from syncstate.adapters.storage.journal import (
    JOURNAL_READ_COLUMNS,
    JournalBatches,
    JournalEntries,
    journal_entry_from_row,
    keyed_journal_rows,
)
from syncstate.adapters.storage.sqlite.files import open_sqlite, read_transaction, write_transaction
from syncstate.adapters.storage.sqlite.migrations import STATE_MIGRATIONS
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

__all__ = ["SQLiteStore"]

_CHUNK = 500  # keys per IN (...) query, well under SQLite's variable limit
_ROWS_PER_STATEMENT = 100  # rows per multi-row VALUES list (bounded by the variable limit)
#: read statuses grouped once a chunk held fewer distinct statuses than 1 in this many rows
_GROUPED_BELOW = 16
_STATUS_LIST = ", ".join(STATUS_COLUMNS)
_json = json.JSONDecoder().decode
_RECORD_COLUMNS = "company, kind, source_id, on_date, subject, fields, hash, " + ", ".join(
    STATUS_COLUMNS
)
_SET_STATUS = "UPDATE records SET " + ", ".join(f"{c} = ?" for c in STATUS_COLUMNS)
#: statuses (as status_to_row gives them, then the row id) written from a VALUES list
_UPDATE_STATUSES = (
    "UPDATE records SET "
    + ", ".join(f"{c} = v.column{i}" for i, c in enumerate(STATUS_COLUMNS, start=1))
    + " FROM (VALUES {values}) AS v WHERE records.id = v.column"
    + str(len(STATUS_COLUMNS) + 1)
)
#: journal rows as :func:`~syncstate.adapters.storage.base.plan_distinct` gives them
_INSERT_JOURNAL = (
    "INSERT INTO journal (record, batch, remote_id, remote_version, message, from_state,"
    " to_state, generation, key_generation, key_revision) VALUES {values}"
)
#: a journal row whose idempotency key is stored as text (events on one record repeated
#: within an operation, planned by plan_events)
_INSERT_JOURNAL_KEYED = (
    "INSERT INTO journal (record, batch, remote_id, remote_version, message, from_state,"
    " to_state, generation, idempotency_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


#: what :meth:`SQLiteStore._load` finds: kind -> source id -> (row id, status)
_Found = dict[str, dict[str, tuple[int, Status]]]


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _write_rows(conn: sqlite3.Connection, sql: str, rows: Sequence[tuple[Any, ...]]) -> None:
    """Run ``sql`` (with a ``{values}`` slot) for ``rows`` of equal width, many rows per
    statement: a multi-row ``VALUES`` list is parsed once per chunk and saves SQLite a
    statement step per row (about a fifth of a bulk write, measured)."""
    if not rows:
        return
    width = len(rows[0])
    per = max(
        1, min(_ROWS_PER_STATEMENT, conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // width)
    )
    one = "(" + ", ".join("?" * width) + ")"
    full = sql.format(values=", ".join([one] * per))
    flat = chain.from_iterable
    for start in range(0, len(rows), per):
        chunk = rows[start : start + per]
        statement = full if len(chunk) == per else sql.format(values=", ".join([one] * len(chunk)))
        conn.execute(statement, list(flat(chunk)))


def _has_json(conn: sqlite3.Connection) -> bool:
    """Whether this SQLite has the JSON functions (built in since 3.38, optional before)."""
    try:
        conn.execute("SELECT json_group_array(1)").fetchone()
    except sqlite3.OperationalError:
        return False
    return True


def _batches(conn: sqlite3.Connection, at: dt.datetime, actor: str) -> JournalBatches:
    at_text = at.isoformat()

    def insert(event: str) -> int:
        cursor = conn.execute(
            "INSERT INTO journal_batches (at, actor, event) VALUES (?, ?, ?)",
            (at_text, actor, event),
        )
        return int(cursor.lastrowid or 0)

    return JournalBatches(insert)


class SQLiteStore:
    """State store in one SQLite file (or ``":memory:"``)."""

    def __init__(self, path: str | os.PathLike[str] = "syncstate.db", *, timeout: float = 30.0):
        self.path = str(path)
        self._conn = open_sqlite(
            path, component="state", migrations=STATE_MIGRATIONS, timeout=timeout
        )
        self._lock = threading.RLock()
        self._json = _has_json(self._conn)
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
    ) -> tuple[_Found, int]:
        """Row id and status of each stored key, by kind then source id, and how many
        distinct keys were asked for (a foreign company's key is refused first)."""
        by_kind: dict[str, dict[str, None]] = {}
        last_kind, wanted = "", {}
        for key in keys:
            if key.company != company:
                check_company(company, key)
            if key.kind != last_kind:
                last_kind = key.kind
                wanted = by_kind.get(last_kind) or by_kind.setdefault(last_kind, {})
            wanted[key.source_id] = None
        found: _Found = {}
        decode = status_decoder()
        for kind, ids in by_kind.items():
            of_kind = found[kind] = {}
            grouped = False
            for chunk in _chunks(list(ids)):
                params = (company, kind, *chunk)
                marks = ", ".join("?" * len(chunk))
                if grouped:
                    # records in one status come back as one row: their ids and source
                    # ids as JSON arrays (aggregated in the same order), decoded in C
                    rows = conn.execute(
                        f"SELECT json_group_array(id), json_group_array(source_id), "
                        f"{_STATUS_LIST} FROM records WHERE company = ? AND kind = ? "
                        f"AND source_id IN ({marks}) GROUP BY {_STATUS_LIST}",
                        params,
                    ).fetchall()
                    for row in rows:
                        hit = repeat(decode(row[2:]))
                        of_kind.update(
                            zip(_json(row[1]), zip(_json(row[0]), hit, strict=False), strict=True)
                        )
                    runs = len(rows)
                else:
                    runs, last = 0, None
                    for row in conn.execute(
                        f"SELECT id, source_id, {_STATUS_LIST} FROM records "
                        f"WHERE company = ? AND kind = ? AND source_id IN ({marks})",
                        params,
                    ):
                        status = decode(row[2:])
                        if status is not last:
                            runs, last = runs + 1, status
                        of_kind[row[1]] = (row[0], status)
                # a bulk operation's records mostly share a few statuses (all claimed,
                # all not exported): then read the next chunk grouped by status
                grouped = self._json and runs * _GROUPED_BELOW <= len(chunk)
        return found, sum(len(ids) for ids in by_kind.values())

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
                f"SELECT {_RECORD_COLUMNS} FROM records "
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
        where = ["company = ?"]
        params: list[Any] = [company]

        def any_of(column: str, values: Iterable[Any]) -> None:
            items = list(values)
            where.append(f"{column} IN ({', '.join('?' * len(items))})" if items else "0")
            params.extend(items)

        if kinds is not None:
            any_of("kind", kinds)
        if date_range is not None:
            where.append("on_date BETWEEN ? AND ?")
            params += [date_range.start.isoformat(), date_range.end.isoformat()]
        if subjects is not None:
            any_of("subject", subjects)
        if states is not None:
            any_of("state", (s.value for s in states))
        if source_ids is not None:
            any_of("source_id", source_ids)
        if after is not None:
            where.append("(kind, source_id) > (?, ?)")
            params += [after.kind, after.source_id]
        sql = (
            f"SELECT {_RECORD_COLUMNS} FROM records WHERE {' AND '.join(where)} "
            "ORDER BY kind, source_id"
        )
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
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
        """Write ``statuses[i]`` to row ``rowids[i]`` (row ids read in this transaction).

        Records that end in the same status (a bulk claim, a reset) are updated
        with one statement per chunk of rowids; the others one row each.
        """
        singles, groups = status_runs(rowids, statuses, status_to_row)
        for row, ids in groups.items():
            ids.sort()
            for chunk in _chunks(ids):
                marks = ", ".join("?" * len(chunk))
                conn.execute(f"{_SET_STATUS} WHERE id IN ({marks})", (*row, *chunk))
        rows = [(*row, rowid) for rowid, row in singles]
        if self._update_from:
            _write_rows(conn, _UPDATE_STATUSES, rows)
        else:
            conn.executemany(_SET_STATUS + " WHERE id = ?", rows)

    def _apply_distinct(
        self,
        conn: sqlite3.Connection,
        company: str,
        keys: Sequence[RecordKey],
        events: Sequence[Event],
        found: _Found,
        *,
        at: dt.datetime,
        actor: str,
    ) -> tuple[list[Status | None], list[Status], JournalEntries]:
        """Apply ``events[i]`` to the distinct ``keys[i]``; return statuses before and after
        and the journal entries."""
        before: list[Status | None] = []
        ids: list[int | None] = []
        add_before, add_id = before.append, ids.append
        last_kind, of_kind = None, {}
        for key in keys:
            if key.kind != last_kind:
                last_kind = key.kind
                of_kind = found.get(last_kind, {})
            hit = of_kind.get(key.source_id)
            if hit is None:
                add_before(None)
                add_id(None)
            else:
                add_id(hit[0])
                add_before(hit[1])
        after, rows = plan_distinct(
            company, keys, before, events, ids, at=at, batch_of=_batches(conn, at, actor)
        )
        # planning raised RecordNotFound if any key was missing
        self._write_statuses(conn, ids, after)  # type: ignore[arg-type]
        _write_rows(conn, _INSERT_JOURNAL, rows)
        # the rows go now (so the collector never walks them); entries are recomputed
        return before, after, JournalEntries(keys, before, events, at=at, actor=actor)  # type: ignore[arg-type]

    def ingest(
        self, company: str, records: Iterable[SourceRecord], *, at: dt.datetime, actor: str
    ) -> IngestReport:
        """Add new records and update changed ones, in one transaction."""
        at = utc(at)
        incoming: dict[RecordKey, SourceRecord] = {}
        for record in records:
            check_company(company, record.key)
            incoming[record.key] = record
        with paused_gc(), self._write() as conn:
            known: dict[RecordKey, str] = {}
            by_kind: dict[str, list[str]] = {}
            for key in incoming:
                by_kind.setdefault(key.kind, []).append(key.source_id)
            for kind, ids in by_kind.items():
                for chunk in _chunks(ids):
                    marks = ", ".join("?" * len(chunk))
                    for source_id, digest in conn.execute(
                        "SELECT source_id, hash FROM records "
                        f"WHERE company = ? AND kind = ? AND source_id IN ({marks})",
                        (company, kind, *chunk),
                    ):
                        known[RecordKey(company, kind, source_id)] = digest
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
            _write_rows(
                conn,
                "INSERT INTO records (company, kind, source_id, on_date, subject, fields, hash) "
                "VALUES {values}",
                new_rows,
            )
            outdated: tuple[RecordKey, ...] = ()
            if changed:
                conn.executemany(
                    "UPDATE records SET on_date = ?, subject = ?, fields = ?, hash = ? "
                    "WHERE company = ? AND kind = ? AND source_id = ?",
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
                outdated = tuple(
                    key
                    for key, old, new in zip(keys, before, after, strict=True)
                    if new.state is ExportState.OUTDATED
                    and old is not None
                    and old.state is not ExportState.OUTDATED
                )
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
        before = {
            key: hit[1] for key in keys if (hit := found[key.kind].get(key.source_id)) is not None
        }
        statuses, entries = plan_events(company, before, batch, at=at, actor=actor)
        self._write_statuses(
            conn,
            [found[key.kind][key.source_id][0] for key in statuses],
            list(statuses.values()),
        )
        conn.executemany(
            _INSERT_JOURNAL_KEYED,
            keyed_journal_rows(
                entries, lambda key: found[key.kind][key.source_id][0], _batches(conn, at, actor)
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
        exportable = [s.value for s in EXPORTABLE]
        where = [
            "company = ?",
            f"(state IN ({', '.join('?' * len(exportable))}) "
            "OR (state = 'in_flight' AND (lease_until IS NULL OR lease_until <= ?)))",
        ]
        params: list[Any] = [company, *exportable, at.isoformat()]
        if kinds is not None:
            kind_list = list(kinds)
            where.append(f"kind IN ({', '.join('?' * len(kind_list))})" if kind_list else "0")
            params += kind_list
        wanted = None if keys is None else sorted(set(keys))
        select = (
            "SELECT id, kind, source_id, on_date, subject, fields, hash, "
            f"{', '.join(STATUS_COLUMNS)} FROM records WHERE {' AND '.join(where)}"
        )
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
            batch_of=_batches(conn, at, actor),
        )
        self._write_statuses(conn, ids, after)
        _write_rows(conn, _INSERT_JOURNAL, journal)
        return [StoredRecord(r, s) for r, s in zip(records, after, strict=True)]

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._conn.close()

    def __enter__(self) -> SQLiteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
