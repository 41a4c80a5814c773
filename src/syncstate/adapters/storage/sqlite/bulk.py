"""How the SQLite state store reads and writes many rows at once.

Keys are looked up in chunks of ``IN (...)`` lists, rows are written many per
statement (:func:`write_rows`), statuses are read grouped by status once a bulk
operation's records turn out to share a few (:func:`load_statuses`) and written
with one statement per run of records sharing one (:func:`write_statuses`).
Every function runs inside the caller's transaction.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from itertools import chain, repeat
from typing import Any

from syncstate.adapters.storage.base import (
    STATUS_SELECT,
    Found,
    check_company,
    status_decoder,
    status_runs,
    status_to_row,
)
from syncstate.adapters.storage.journal import JournalBatches
from syncstate.adapters.storage.sqlite.statements import SET_STATUS, UPDATE_STATUSES
from syncstate.domain.records import RecordKey
from syncstate.domain.state import Status

__all__ = [
    "CHUNK",
    "chunks",
    "has_json",
    "journal_batches",
    "load_statuses",
    "stored_hashes",
    "write_rows",
    "write_statuses",
]

CHUNK = 500  # keys per IN (...) query, well under SQLite's variable limit
_ROWS_PER_STATEMENT = 100  # rows per multi-row VALUES list (bounded by the variable limit)
#: read statuses grouped once a chunk held fewer distinct statuses than 1 in this many rows
_GROUPED_BELOW = 16
_json = json.JSONDecoder().decode


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    """``items`` in consecutive slices of at most ``size``."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def write_rows(conn: sqlite3.Connection, sql: str, rows: Sequence[tuple[Any, ...]]) -> None:
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


def has_json(conn: sqlite3.Connection) -> bool:
    """Whether this SQLite has the JSON functions (built in since 3.38, optional before)."""
    try:
        conn.execute("SELECT json_group_array(1)").fetchone()
    except sqlite3.OperationalError:
        return False
    return True


def journal_batches(conn: sqlite3.Connection, at: dt.datetime, actor: str) -> JournalBatches:
    """The journal batches of this write transaction, stored at ``at`` by ``actor``."""
    at_text = at.isoformat()

    def insert(event: str) -> int:
        cursor = conn.execute(
            "INSERT INTO journal_batches (at, actor, event) VALUES (?, ?, ?)",
            (at_text, actor, event),
        )
        return int(cursor.lastrowid or 0)

    return JournalBatches(insert)


def stored_hashes(
    conn: sqlite3.Connection, company: str, keys: Iterable[RecordKey]
) -> dict[RecordKey, str]:
    """The content hash of each of ``keys`` (all of ``company``) that is stored."""
    known: dict[RecordKey, str] = {}
    by_kind: dict[str, list[str]] = {}
    for key in keys:
        by_kind.setdefault(key.kind, []).append(key.source_id)
    for kind, ids in by_kind.items():
        for chunk in chunks(ids):
            marks = ", ".join("?" * len(chunk))
            for source_id, digest in conn.execute(
                "SELECT source_id, hash FROM records "
                f"WHERE company = ? AND kind = ? AND source_id IN ({marks})",
                (company, kind, *chunk),
            ):
                known[RecordKey(company, kind, source_id)] = digest
    return known


def load_statuses(
    conn: sqlite3.Connection, company: str, keys: Iterable[RecordKey], *, grouped: bool
) -> tuple[Found, int]:
    """Row id and status of each stored key, by kind then source id, and how many
    distinct keys were asked for (a foreign company's key is refused first).

    ``grouped``: this SQLite has the JSON functions (:func:`has_json`), so chunks
    of keys may be read grouped by status.
    """
    by_kind: dict[str, dict[str, None]] = {}
    last_kind, wanted = "", {}
    for key in keys:
        if key.company != company:
            check_company(company, key)
        if key.kind != last_kind:
            last_kind = key.kind
            wanted = by_kind.get(last_kind) or by_kind.setdefault(last_kind, {})
        wanted[key.source_id] = None
    found: Found = {}
    decode = status_decoder()
    for kind, ids in by_kind.items():
        of_kind = found[kind] = {}
        group = False
        for chunk in chunks(list(ids)):
            params = (company, kind, *chunk)
            marks = ", ".join("?" * len(chunk))
            if group:
                # records in one status come back as one row: their ids and source
                # ids as JSON arrays (aggregated in the same order), decoded in C
                rows = conn.execute(
                    f"SELECT json_group_array(id), json_group_array(source_id), "
                    f"{STATUS_SELECT} FROM records WHERE company = ? AND kind = ? "
                    f"AND source_id IN ({marks}) GROUP BY {STATUS_SELECT}",
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
                    f"SELECT id, source_id, {STATUS_SELECT} FROM records "
                    f"WHERE company = ? AND kind = ? AND source_id IN ({marks})",
                    params,
                ):
                    status = decode(row[2:])
                    if status is not last:
                        runs, last = runs + 1, status
                    of_kind[row[1]] = (row[0], status)
            # a bulk operation's records mostly share a few statuses (all claimed,
            # all not exported): then read the next chunk grouped by status
            group = grouped and runs * _GROUPED_BELOW <= len(chunk)
    return found, sum(len(ids) for ids in by_kind.values())


def write_statuses(
    conn: sqlite3.Connection,
    rowids: Sequence[int],
    statuses: Sequence[Status],
    *,
    update_from: bool,
) -> None:
    """Write ``statuses[i]`` to row ``rowids[i]`` (row ids read in this transaction).

    Records that end in the same status (a bulk claim, a reset) are updated
    with one statement per chunk of rowids; the others many rows per statement
    (``update_from``: this SQLite has ``UPDATE ... FROM``, 3.33 or later) or one
    row each.
    """
    singles, groups = status_runs(rowids, statuses, status_to_row)
    for row, ids in groups.items():
        ids.sort()
        for chunk in chunks(ids):
            marks = ", ".join("?" * len(chunk))
            conn.execute(f"{SET_STATUS} WHERE id IN ({marks})", (*row, *chunk))
    rows = [(*row, rowid) for rowid, row in singles]
    if update_from:
        write_rows(conn, UPDATE_STATUSES, rows)
    else:
        conn.executemany(SET_STATUS + " WHERE id = ?", rows)
