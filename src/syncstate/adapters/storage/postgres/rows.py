"""Row codecs of the PostgreSQL state store: statuses and records as psycopg passes them.

PostgreSQL hands back dates, timestamps and booleans as Python objects where
SQLite stores text and integers; these codecs bridge them to the shared
:func:`~syncstate.adapters.storage.base.status_from_row` form.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from syncstate.adapters.storage.base import fields_from_json, status_from_row, utc
from syncstate.domain.records import RecordKey, SourceRecord
from syncstate.domain.state import Status
from syncstate.ports import StoredRecord

__all__ = ["db_status_row", "from_db_status", "stored", "to_db_status"]


def db_status_row(row: Sequence[Any]) -> tuple[Any, ...]:
    """A status row as PostgreSQL returns it, in the form :func:`status_from_row` reads."""
    lease = row[8]
    if lease is None:
        return tuple(row)
    return (*row[:8], lease.astimezone(dt.UTC).isoformat(), *row[9:])


def from_db_status(row: Sequence[Any]) -> Status:
    """The status of a row as PostgreSQL returns it."""
    return status_from_row(db_status_row(row))


def to_db_status(status: Status) -> tuple[Any, ...]:
    """The status as a row PostgreSQL stores (the status columns, in their order)."""
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
        status.remote_number,
    )


def stored(
    row: Sequence[Any], decode: Callable[[Sequence[Any]], Status] = status_from_row
) -> StoredRecord:
    """A record and its status from a row of the record columns (``decode`` reads the
    status, e.g. a shared :func:`~syncstate.adapters.storage.base.status_decoder`)."""
    record = SourceRecord(
        key=RecordKey(row[0], row[1], row[2]),
        on=row[3],
        subject=row[4],
        fields=fields_from_json(row[5]),
        hash=row[6],
    )
    return StoredRecord(record, decode(db_status_row(row[7:])))
