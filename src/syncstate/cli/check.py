"""``syncstate check``: is this database sound? An operator's read-only diagnosis.

It opens the database read-only (a file that is not a syncstate database is refused
with exit 2, and nothing is ever written), then:

1. runs SQLite's ``PRAGMA integrity_check`` (damaged pages, broken indexes);
2. decodes every record row, naming each one whose stored status (an unknown state,
   an unreadable ``lease_until``) or fields (broken JSON) is damaged;
3. replays each record's journal and compares the status it rebuilds with the stored
   one: a record whose status does not follow from its journal is named with both.

Exit status 0 when everything is sound, 1 when problems were found (each one line,
or a JSON list with ``--json``), 2 when the file cannot be checked as a syncstate
database.
"""

from __future__ import annotations

import argparse
import sqlite3
from typing import Any

from syncstate.cli._common import add_db_argument, add_json_argument, emit_json, open_sqlite_store
from syncstate.domain.records import RecordKey
from syncstate.domain.state import replay
from syncstate.errors import StorageError, SyncStateError

__all__ = ["register", "run"]


def register(sub: Any) -> None:
    """Add the ``check`` command."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "check",
        help="check a database: integrity, damaged rows, statuses against their journal",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_db_argument(parser)
    parser.add_argument("--company", help="only this company (default: every company)")
    add_json_argument(parser)
    parser.set_defaults(func=run)


def _rows(conn: sqlite3.Connection, company: str | None) -> list[tuple[Any, ...]]:
    from syncstate.adapters.storage.base import STATUS_SELECT

    sql = f"SELECT company, kind, source_id, fields, {STATUS_SELECT} FROM records"
    params: tuple[str, ...] = ()
    if company is not None:
        sql += " WHERE company = ?"
        params = (company,)
    try:
        return list(conn.execute(sql + " ORDER BY company, kind, source_id", params))
    except sqlite3.DatabaseError as exc:
        raise StorageError(f"the records table cannot be read: {exc}") from exc


def run(args: argparse.Namespace) -> int:
    """Check the database and report every problem found."""
    from syncstate.adapters.storage.base import fields_from_json, status_from_row

    store = open_sqlite_store(args, readonly=True)
    problems: list[str] = []
    try:
        conn = store.connection
        try:
            integrity = [str(r[0]) for r in conn.execute("PRAGMA integrity_check")]
        except sqlite3.DatabaseError as exc:
            integrity = [str(exc)]
        problems += [f"integrity: {line}" for line in integrity if line != "ok"]
        rows = _rows(conn, args.company)
        for row in rows:
            key = RecordKey(str(row[0]), str(row[1]), str(row[2]))
            try:
                fields_from_json(row[3])
                stored = status_from_row(row[4:])
            except StorageError as exc:
                problems.append(f"record {key}: {exc.args[0].split(';')[0]}")
                continue
            try:
                rebuilt = replay(key, store.journal(key))
            except SyncStateError as exc:
                problems.append(f"record {key}: its journal cannot be replayed: {exc}")
                continue
            if rebuilt != stored:
                problems.append(
                    f"record {key}: stored {stored.state.value} (generation {stored.generation}, "
                    f"revision {stored.revision}, remote id {stored.remote_id}) but its journal "
                    f"gives {rebuilt.state.value} (generation {rebuilt.generation}, revision "
                    f"{rebuilt.revision}, remote id {rebuilt.remote_id})"
                )
    finally:
        store.close()
    if args.json:
        emit_json({"ok": not problems, "records": len(rows), "problems": problems})
    else:
        for line in problems:
            print(line)
        print(f"{len(rows)} records checked: {len(problems) or 'no'} problem(s)")
    return 0 if not problems else 1
