"""The SQL text of the SQLite state store, and the queries it builds from filters.

Parameterised statements only (``?`` placeholders); the ones with a ``{values}``
slot take a multi-row ``VALUES`` list, filled in by
:func:`~syncstate.adapters.storage.sqlite.bulk.write_rows`. Used by
:class:`~syncstate.adapters.storage.sqlite.state.SQLiteStore`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from syncstate.adapters.storage.base import RECORD_SELECT, STATUS_COLUMNS, STATUS_SELECT
from syncstate.domain.records import RecordKey
from syncstate.domain.state import EXPORTABLE, ExportState
from syncstate.periods import DateRange

__all__ = [
    "INSERT_JOURNAL",
    "INSERT_JOURNAL_KEYED",
    "INSERT_RECORDS",
    "SET_STATUS",
    "UPDATE_RECORDS",
    "UPDATE_STATUSES",
    "claim_query",
    "find_query",
]

#: every status column set from a parameter (a ``WHERE`` clause follows)
SET_STATUS = "UPDATE records SET " + ", ".join(f"{c} = ?" for c in STATUS_COLUMNS)
#: statuses (as status_to_row gives them, then the row id) written from a VALUES list
UPDATE_STATUSES = (
    "UPDATE records SET "
    + ", ".join(f"{c} = v.column{i}" for i, c in enumerate(STATUS_COLUMNS, start=1))
    + " FROM (VALUES {values}) AS v WHERE records.id = v.column"
    + str(len(STATUS_COLUMNS) + 1)
)
#: journal rows as :func:`~syncstate.adapters.storage.base.plan_distinct` gives them
INSERT_JOURNAL = (
    "INSERT INTO journal (record, batch, remote_id, remote_version, message, from_state,"
    " to_state, generation, key_generation, key_revision, remote_number) VALUES {values}"
)
#: a journal row whose idempotency key is stored as text (events on one record repeated
#: within an operation, planned by plan_events)
INSERT_JOURNAL_KEYED = (
    "INSERT INTO journal (record, batch, remote_id, remote_version, message, from_state,"
    " to_state, generation, idempotency_key, remote_number)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
#: new records (their status columns take the defaults: not exported)
INSERT_RECORDS = (
    "INSERT INTO records (company, kind, source_id, on_date, subject, fields, hash) VALUES {values}"
)
#: a changed record's source data, found by its key
UPDATE_RECORDS = (
    "UPDATE records SET on_date = ?, subject = ?, fields = ?, hash = ? "
    "WHERE company = ? AND kind = ? AND source_id = ?"
)


def find_query(
    company: str,
    *,
    kinds: Iterable[str] | None,
    date_range: DateRange | None,
    subjects: Iterable[str] | None,
    states: Iterable[ExportState] | None,
    source_ids: Iterable[str] | None,
    after: RecordKey | None,
    limit: int | None,
) -> tuple[str, list[Any]]:
    """The query (selecting :data:`~syncstate.adapters.storage.base.RECORD_SELECT`) and
    parameters of
    :meth:`~syncstate.ports.StateStore.find`: records matching every filter, ordered
    by (kind, source id)."""
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
        f"SELECT {RECORD_SELECT} FROM records WHERE {' AND '.join(where)} ORDER BY kind, source_id"
    )
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    return sql, params


def claim_query(
    company: str, *, at: dt.datetime, kinds: Iterable[str] | None
) -> tuple[str, list[Any]]:
    """The select (row id, then the columns of a record and its status) and parameters
    of the records a claim at ``at`` may take: exportable ones and in-flight ones whose
    lease ran out. Conditions and an order may follow."""
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
    select = (
        "SELECT id, kind, source_id, on_date, subject, fields, hash, "
        f"{STATUS_SELECT} FROM records WHERE {' AND '.join(where)}"
    )
    return select, params
