"""The SQL text of the PostgreSQL state store, and the queries it builds from filters.

Parameterised statements only (``%s`` or named ``%(name)s`` placeholders).
Table names are the caller's (schema-qualified, quoted); the temporary tables
bulk writes go through are dropped at commit. Used by
:class:`~syncstate.adapters.storage.postgres.state.PostgresStore`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from syncstate.adapters.storage.base import RECORD_SELECT, STATUS_COLUMNS
from syncstate.domain.records import RecordKey
from syncstate.domain.state import EXPORTABLE, ExportState
from syncstate.periods import DateRange

__all__ = [
    "CLAIMABLE",
    "INCOMING_TEMP",
    "JOURNAL_COLUMNS",
    "JOURNAL_KEYED_COLUMNS",
    "SET_STATUS",
    "STATUS_TEMP",
    "claim_query",
    "find_query",
    "key_match",
]

#: every status column set from a parameter
SET_STATUS = ", ".join(f"{c} = %s" for c in STATUS_COLUMNS)
_EXPORTABLE = ", ".join(sorted(f"'{s.value}'" for s in EXPORTABLE))
#: the rows a claim may take: exportable ones and in-flight ones whose lease ran out
CLAIMABLE = (
    f"(state IN ({_EXPORTABLE}) OR "
    "(state = 'in_flight' AND (lease_until IS NULL OR lease_until <= %(at)s)))"
)
#: a journal row as :func:`~syncstate.adapters.storage.base.plan_distinct` gives it
JOURNAL_COLUMNS = (
    "record, batch, remote_id, remote_version, message, from_state, to_state, generation,"
    " key_generation, key_revision, remote_number"
)
#: a journal row with its idempotency key as text (a record repeated in one operation)
JOURNAL_KEYED_COLUMNS = (
    "record, batch, remote_id, remote_version, message, from_state, to_state, generation,"
    " idempotency_key, remote_number"
)
#: the statuses a bulk write copies in: a record's kind and source id, then its status
STATUS_TEMP = (
    'CREATE TEMP TABLE _ss_status (kind TEXT COLLATE "C", source_id TEXT COLLATE "C", '
    "state TEXT, generation INTEGER, revision INTEGER, remote_id TEXT, remote_version TEXT, "
    "message TEXT, previous TEXT, worker TEXT, lease_until TIMESTAMPTZ, "
    "changed_in_flight BOOLEAN, remote_number TEXT) ON COMMIT DROP"
)
#: the records an ingest copies in
INCOMING_TEMP = (
    'CREATE TEMP TABLE _ss_incoming (kind TEXT COLLATE "C", source_id TEXT COLLATE "C", '
    'on_date DATE, subject TEXT COLLATE "C", fields TEXT, hash TEXT) ON COMMIT DROP'
)


def key_match(keys: Iterable[RecordKey]) -> tuple[str, dict[str, Any]]:
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


def find_query(
    records: str,
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
    """The query (selecting :data:`~syncstate.adapters.storage.base.RECORD_SELECT` from
    table ``records``) and parameters of :meth:`~syncstate.ports.StateStore.find`: records
    matching every filter, ordered by (kind, source id)."""
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
        f"SELECT {RECORD_SELECT} FROM {records} WHERE {' AND '.join(where)} "
        "ORDER BY kind, source_id"
    )
    if limit is not None:
        sql += " LIMIT %s"
        params.append(limit)
    return sql, params


def claim_query(
    records: str,
    company: str,
    *,
    at: dt.datetime,
    limit: int,
    kinds: Iterable[str] | None,
    keys: Sequence[RecordKey] | None,
) -> tuple[str, dict[str, Any]]:
    """The query (row id, then :data:`~syncstate.adapters.storage.base.RECORD_SELECT`) and
    parameters that lock up to
    ``limit`` rows of table ``records`` a claim at ``at`` may take (:data:`CLAIMABLE`;
    of ``kinds`` and among ``keys``, if given), in key order, skipping rows another
    transaction has locked."""
    where = ["company = %(company)s", CLAIMABLE]
    params: dict[str, Any] = {"company": company, "at": at, "limit": limit}
    if kinds is not None:
        where.append("kind = ANY(%(kinds)s::text[])")
        params["kinds"] = list(kinds)
    if keys is not None:
        match, by_kind = key_match(keys)
        where.append(match)
        params.update(by_kind)
    sql = (
        f"SELECT id, {RECORD_SELECT} FROM {records} WHERE {' AND '.join(where)} "
        "ORDER BY kind, source_id LIMIT %(limit)s FOR UPDATE SKIP LOCKED"
    )
    return sql, params
