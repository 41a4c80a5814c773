"""The SQLite repost ledger's schema, limits and read-only opening.

Step 1 holds receivables (``ar_``) and WIP as JSON text; step 2 stores WIP as
columns (``wip_items``: dates as day ordinals, amounts and quantities as exact
decimal text, flags as 0/1), moving any stored entries across, so a WIP repost
reads plain columns and selects by client, invoice or id through indexes;
step 3 adds the staff and project ledgers (``staff_*``, ``project*``); step 4
the journal of applied staff and project reposts (``repost_journal``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from syncstate.domain.repost.receivables import from_cents
from syncstate.errors import EmptySelectionError, MoneyError, SchemaVersionError, StorageError

__all__ = ["REPOST_MIGRATIONS", "chunks", "fits", "open_readonly"]


def _day(expr: str) -> str:
    # an ISO date (as the interchange holds it) as a day ordinal: 0001-01-01 is 1
    return f"CAST(julianday(trim({expr})) - 1721424.5 AS INTEGER)"


def _text(field: str) -> str:
    return f"CAST(json_extract(data, '$.{field}') AS TEXT)"


_MOVE_WIP = f"""
    INSERT INTO wip_items SELECT company, id, {_text("type")}, client,
        {_day("json_extract(data, '$.date')")}, {_text("work_code")}, {_text("staff")},
        {_text("project")}, {_text("subproject")}, {_text("quantity")}, {_text("amount")},
        {_text("billed_amount")}, {_text("invoice")},
        coalesce({_text("billing_status")}, 'unbilled'),
        coalesce(json_extract(data, '$.hide'), 0), {_text("write_updown")},
        {_day("json_extract(data, '$.write_date')")},
        coalesce(json_extract(data, '$.clear_flag'), 0),
        {_day("json_extract(data, '$.clear_date')")}
    FROM wip_entries;
"""

#: the repost ledger schema; append, never edit a released step
REPOST_MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE ar_documents (
        company TEXT NOT NULL, id TEXT NOT NULL, kind INTEGER NOT NULL, client TEXT,
        day INTEGER NOT NULL, amount INTEGER NOT NULL, link TEXT,
        PRIMARY KEY (company, id)
    );
    CREATE INDEX ar_documents_by_client ON ar_documents (company, client);
    CREATE INDEX ar_documents_by_link ON ar_documents (company, link);
    CREATE TABLE ar_allocations (
        company TEXT NOT NULL, src TEXT NOT NULL, seq INTEGER NOT NULL, dest TEXT NOT NULL,
        amount INTEGER NOT NULL, day INTEGER NOT NULL,
        PRIMARY KEY (company, src, seq)
    );
    CREATE INDEX ar_allocations_by_dest ON ar_allocations (company, dest);
    CREATE TABLE ar_balances (
        company TEXT NOT NULL, id TEXT NOT NULL, outstanding INTEGER NOT NULL,
        clear_day INTEGER, clear_flag INTEGER NOT NULL, payment_type INTEGER NOT NULL,
        bank INTEGER NOT NULL, receivables INTEGER NOT NULL,
        PRIMARY KEY (company, id)
    );
    CREATE TABLE repost_settings (
        company TEXT NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL,
        PRIMARY KEY (company, name)
    );
    CREATE TABLE wip_entries (
        company TEXT NOT NULL, id TEXT NOT NULL, client TEXT, data TEXT NOT NULL,
        PRIMARY KEY (company, id)
    );
    CREATE TABLE wip_invoices (
        company TEXT NOT NULL, id TEXT NOT NULL, day TEXT NOT NULL,
        PRIMARY KEY (company, id)
    )
    """,
    """
    CREATE TABLE wip_items (
        company TEXT NOT NULL, id TEXT NOT NULL, type TEXT, client TEXT, day INTEGER NOT NULL,
        work_code TEXT, staff TEXT, project TEXT, subproject TEXT, quantity TEXT,
        amount TEXT, billed_amount TEXT, invoice TEXT, billing_status TEXT NOT NULL,
        hide INTEGER NOT NULL, write_updown TEXT, write_day INTEGER,
        clear_flag INTEGER NOT NULL, clear_day INTEGER,
        PRIMARY KEY (company, id)
    );
    CREATE INDEX wip_items_by_client ON wip_items (company, client);
    CREATE INDEX wip_items_by_invoice ON wip_items (company, invoice);
    """
    + _MOVE_WIP
    + """
    DROP TABLE wip_entries
    """,
    """
    CREATE TABLE staff_members (
        company TEXT NOT NULL, id TEXT NOT NULL, PRIMARY KEY (company, id)
    );
    CREATE TABLE staff_rates (
        company TEXT NOT NULL, staff TEXT NOT NULL, start_day INTEGER NOT NULL,
        standard_hours TEXT NOT NULL, overtime_rate TEXT NOT NULL, cost_rate TEXT NOT NULL,
        PRIMARY KEY (company, staff, start_day)
    );
    CREATE TABLE staff_periods (
        company TEXT NOT NULL, staff TEXT NOT NULL, year INTEGER NOT NULL,
        number INTEGER NOT NULL, start_day INTEGER NOT NULL, end_day INTEGER NOT NULL,
        standard_hours TEXT, overtime_rate TEXT, cost_rate TEXT, hours_worked TEXT NOT NULL,
        PRIMARY KEY (company, staff, year, number)
    );
    CREATE TABLE project_work (
        company TEXT NOT NULL, project TEXT NOT NULL, subproject TEXT NOT NULL,
        time_amount TEXT NOT NULL, expense_amount TEXT NOT NULL, hours TEXT NOT NULL,
        PRIMARY KEY (company, project, subproject)
    );
    CREATE TABLE projects (
        company TEXT NOT NULL, id TEXT NOT NULL, parent TEXT, option TEXT NOT NULL,
        budget_hours TEXT NOT NULL, budget_amount TEXT NOT NULL, PRIMARY KEY (company, id)
    );
    CREATE TABLE project_staff_budgets (
        company TEXT NOT NULL, project TEXT NOT NULL, seq INTEGER NOT NULL,
        staff TEXT NOT NULL, hours TEXT NOT NULL, amount TEXT NOT NULL,
        PRIMARY KEY (company, project, seq)
    )
    """,
    """
    CREATE TABLE repost_journal (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, company TEXT NOT NULL,
        calculator TEXT NOT NULL, scope TEXT NOT NULL, target TEXT NOT NULL,
        field TEXT NOT NULL, before TEXT, after TEXT, actor TEXT NOT NULL, at TEXT NOT NULL
    );
    CREATE INDEX repost_journal_company ON repost_journal (company, seq)
    """,
)

_CHUNK = 900
#: SQLite's INTEGER range: amounts are stored as cents within it
_INT_MIN, _INT_MAX = -(2**63), 2**63 - 1


def fits(value: int | None, what: str) -> None:
    if value is not None and not _INT_MIN <= value <= _INT_MAX:
        raise MoneyError(
            f"{what}: {from_cents(value):f} does not fit the ledger "
            f"(at most {from_cents(_INT_MAX):f} in absolute value); nothing was written"
        )


def open_readonly(path: str, timeout: float) -> sqlite3.Connection:
    """Open an existing ledger file read-only; refuse one without this ledger schema."""
    if not Path(path).is_file():
        raise EmptySelectionError(f"database {path} does not exist")
    uri = f"{Path(path).resolve().as_uri()}?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
    except sqlite3.Error as exc:
        raise StorageError(f"cannot open SQLite database {path}: {exc}") from exc
    try:
        conn.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        sql = "SELECT version FROM schema_migrations WHERE component = 'repost'"
        row = conn.execute(sql).fetchone() if "schema_migrations" in tables else None
    except sqlite3.Error as exc:
        conn.close()
        raise StorageError(f"cannot read SQLite database {path}: {exc}") from exc
    version, known = (0 if row is None else int(row[0])), len(REPOST_MIGRATIONS)
    if version == known:
        return conn
    conn.close()
    if version == 0:
        raise EmptySelectionError(f"database {path} holds no repost ledger (`repost load` one)")
    if version > known:
        raise SchemaVersionError(
            f"the 'repost' schema of {path} is at version {version}, newer than this "
            f"syncstate understands ({known}); upgrade syncstate"
        )
    raise StorageError(f"the 'repost' schema of {path} is old ({version}): `--apply` upgrades it")


def chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
