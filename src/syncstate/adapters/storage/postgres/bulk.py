"""How the PostgreSQL state store writes many rows at once.

From :data:`BULK` rows on, statuses and journal rows go through ``COPY`` (into
a temporary table and one set-based ``UPDATE``, or straight into the journal);
fewer go through pipelined ``executemany``. Ingested records always go through
``COPY`` (:func:`merge_incoming`). Every function runs inside the caller's
transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from syncstate.adapters.storage.base import STATUS_COLUMNS, fields_to_json, status_runs
from syncstate.adapters.storage.journal import JournalBatches
from syncstate.adapters.storage.postgres.connections import Connection
from syncstate.adapters.storage.postgres.rows import to_db_status
from syncstate.adapters.storage.postgres.statements import (
    INCOMING_TEMP,
    JOURNAL_COLUMNS,
    JOURNAL_KEYED_COLUMNS,
    SET_STATUS,
    STATUS_TEMP,
)
from syncstate.domain.records import RecordKey, SourceRecord
from syncstate.domain.state import Status

__all__ = ["BULK", "journal_batches", "merge_incoming", "write_journal", "write_statuses"]

BULK = 64  # rows from which writes go through COPY instead of executemany


def journal_batches(conn: Connection, table: str, at: dt.datetime, actor: str) -> JournalBatches:
    """The journal batches of this write transaction, stored in ``table`` at ``at`` by
    ``actor``."""

    def insert(event: str) -> int:
        row = conn.execute(
            f"INSERT INTO {table} (at, actor, event) VALUES (%s, %s, %s) RETURNING id",
            (at, actor, event),
        ).fetchone()
        assert row is not None  # RETURNING gives the row
        return int(row[0])

    return JournalBatches(insert)


def write_statuses(
    conn: Connection,
    records: str,
    company: str,
    keys: Sequence[RecordKey],
    statuses: Sequence[Status],
) -> None:
    """Write ``statuses[i]`` to record ``keys[i]`` of table ``records``: runs of records
    sharing one status object with one statement per run and kind, the others through
    ``COPY`` and one join (or pipelined ``executemany`` when they are few). Rows are
    found through the primary key."""
    alone, groups = status_runs(keys, statuses, to_db_status)
    singles = [(key.kind, key.source_id, *row) for key, row in alone]
    with conn.cursor() as cur:
        for row, members in groups.items():
            by_kind: dict[str, list[str]] = {}
            for key in members:
                by_kind.setdefault(key.kind, []).append(key.source_id)
            for kind, ids in by_kind.items():
                cur.execute(
                    f"UPDATE {records} SET {SET_STATUS} WHERE company = %s "
                    "AND kind = %s AND source_id = ANY(%s::text[])",
                    (*row, company, kind, ids),
                )
        if len(singles) < BULK:
            cur.executemany(
                f"UPDATE {records} SET {SET_STATUS} "
                "WHERE company = %s AND kind = %s AND source_id = %s",
                [(*r[2:], company, r[0], r[1]) for r in singles],
            )
            return
        cur.execute(STATUS_TEMP)
        with cur.copy("COPY _ss_status FROM STDIN") as copy:
            for single in singles:
                copy.write_row(single)
        cur.execute(
            f"UPDATE {records} AS r SET "
            + ", ".join(f"{c} = s.{c}" for c in STATUS_COLUMNS)
            + " FROM _ss_status AS s WHERE r.company = %s"
            " AND r.kind = s.kind AND r.source_id = s.source_id",
            (company,),
        )
        cur.execute("DROP TABLE _ss_status")


def write_journal(
    conn: Connection, journal: str, rows: Sequence[tuple[Any, ...]], *, keyed: bool = False
) -> None:
    """Append journal rows as :func:`~syncstate.adapters.storage.base.plan_distinct` gives
    them to table ``journal`` (``keyed``: with the idempotency key as text instead of its
    generation and revision)."""
    columns = JOURNAL_KEYED_COLUMNS if keyed else JOURNAL_COLUMNS
    with conn.cursor() as cur:
        if len(rows) < BULK:
            marks = ", ".join(["%s"] * len(columns.split(",")))
            cur.executemany(f"INSERT INTO {journal} ({columns}) VALUES ({marks})", rows)
            return
        with cur.copy(f"COPY {journal} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


def merge_incoming(
    conn: Connection, records: str, company: str, ordered: Sequence[SourceRecord]
) -> tuple[int, list[Any]]:
    """Ingest ``ordered`` (records of ``company`` in key order) into table ``records``
    through ``COPY`` into a temporary table: insert the new ones, lock the changed ones
    (whose hash differs) and update their source data.

    Returns how many were added and the changed ones' rows as they were (row id, kind,
    source id, then the status columns), in key order; their statuses are left to the
    caller.
    """
    with conn.cursor() as cur:
        cur.execute(INCOMING_TEMP)
        with cur.copy("COPY _ss_incoming FROM STDIN") as copy:
            for r in ordered:
                copy.write_row(
                    (r.key.kind, r.key.source_id, r.on, r.subject, fields_to_json(r), r.hash)
                )
        cur.execute(
            f"INSERT INTO {records} "
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
            f"FROM {records} AS r, _ss_incoming AS i WHERE r.company = %s "
            "AND r.kind = i.kind AND r.source_id = i.source_id AND r.hash <> i.hash "
            "ORDER BY r.kind, r.source_id FOR UPDATE OF r",
            (company,),
        ).fetchall()
        if rows:
            cur.execute(
                f"UPDATE {records} AS r SET on_date = i.on_date, "
                "subject = i.subject, fields = i.fields, hash = i.hash "
                "FROM _ss_incoming AS i WHERE r.company = %s AND r.kind = i.kind "
                "AND r.source_id = i.source_id AND r.hash <> i.hash",
                (company,),
            )
        cur.execute("DROP TABLE _ss_incoming")
    return added, rows
