"""The schema of the SQLite mirror, and how its values are stored.

One migration namespace (``mirror``) in ``schema_migrations``: the mirror
tables, each fiscal year's rows tagged with their **generation** (a load), the
company locks, the record of runs (``mirror_attempts``, step 2), and the
``host_*`` tables the host owns beside the mirror (:data:`HOST_TABLES`: nothing
in the mirror deletes from them). Dimension
objects are stored as JSON arrays of pairs, amounts as decimal text, dates as
ISO text. Used by :class:`~syncstate.adapters.storage.sqlite.mirror.SQLiteMirrorStore`.
"""

from __future__ import annotations

import json

from syncstate.errors import InputError

__all__ = [
    "GENERATION_TABLES",
    "HOST_TABLES",
    "MIRROR_MIGRATIONS",
    "checked_company",
    "objects_from_json",
    "objects_to_json",
]

#: tables the host owns beside the mirror; clearing the mirror never touches them
HOST_TABLES = ("host_documents", "host_budget_versions", "host_report_templates")

#: the mirror's schema versions, in order (namespace ``mirror``)
MIRROR_MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE mirror_accounts (
        company TEXT NOT NULL, number TEXT NOT NULL, name TEXT NOT NULL, type TEXT NOT NULL,
        PRIMARY KEY (company, number)
    );
    CREATE TABLE mirror_generations (
        id INTEGER PRIMARY KEY AUTOINCREMENT, company TEXT NOT NULL,
        year_start TEXT NOT NULL, year_end TEXT NOT NULL,
        status TEXT NOT NULL, source TEXT NOT NULL, created_at TEXT NOT NULL
    );
    CREATE TABLE mirror_years (
        company TEXT NOT NULL, year_start TEXT NOT NULL, year_end TEXT NOT NULL,
        generation INTEGER NOT NULL, loaded_at TEXT NOT NULL, source TEXT NOT NULL,
        PRIMARY KEY (company, year_start)
    );
    CREATE TABLE mirror_vouchers (
        generation INTEGER NOT NULL, seq INTEGER NOT NULL, series TEXT NOT NULL,
        number TEXT NOT NULL, date TEXT NOT NULL, text TEXT NOT NULL,
        PRIMARY KEY (generation, seq)
    );
    CREATE TABLE mirror_transactions (
        generation INTEGER NOT NULL, voucher_seq INTEGER NOT NULL, line INTEGER NOT NULL,
        account TEXT NOT NULL, amount TEXT NOT NULL, objects TEXT NOT NULL,
        date TEXT, text TEXT NOT NULL,
        PRIMARY KEY (generation, voucher_seq, line)
    );
    CREATE TABLE mirror_balances (
        generation INTEGER NOT NULL, kind TEXT NOT NULL, account TEXT NOT NULL,
        objects TEXT NOT NULL, amount TEXT NOT NULL
    );
    CREATE INDEX mirror_balances_by_generation ON mirror_balances (generation);
    CREATE TABLE mirror_period_balances (
        generation INTEGER NOT NULL, period TEXT NOT NULL, account TEXT NOT NULL,
        objects TEXT NOT NULL, amount TEXT NOT NULL, budget INTEGER NOT NULL
    );
    CREATE INDEX mirror_period_balances_by_generation ON mirror_period_balances (generation);
    CREATE TABLE mirror_locks (
        company TEXT PRIMARY KEY, holder TEXT NOT NULL, acquired_at TEXT NOT NULL
    );
    CREATE TABLE host_documents (
        company TEXT NOT NULL, id TEXT NOT NULL, title TEXT NOT NULL, PRIMARY KEY (company, id)
    );
    CREATE TABLE host_budget_versions (
        company TEXT NOT NULL, id TEXT NOT NULL, title TEXT NOT NULL, PRIMARY KEY (company, id)
    );
    CREATE TABLE host_report_templates (
        company TEXT NOT NULL, id TEXT NOT NULL, title TEXT NOT NULL, PRIMARY KEY (company, id)
    )
    """,
    # 2: the record of runs (mirror_attempts): one row per fiscal year of a run (year NULL:
    # every year of the source), its outcome and reason; the newest 20 per company and
    # year are kept. Databases at step 1 gain the empty table on their next write
    """
    CREATE TABLE mirror_attempts (
        id INTEGER PRIMARY KEY AUTOINCREMENT, attempt INTEGER NOT NULL,
        company TEXT NOT NULL, year_start TEXT, year_end TEXT,
        operation TEXT NOT NULL, holder TEXT NOT NULL,
        started_at TEXT NOT NULL, ended_at TEXT,
        outcome TEXT NOT NULL, reason TEXT NOT NULL
    );
    CREATE INDEX mirror_attempts_by_company ON mirror_attempts (company, year_start, id)
    """,
)

#: the tables holding one generation's rows, keyed by ``generation``
GENERATION_TABLES = (
    "mirror_transactions",
    "mirror_vouchers",
    "mirror_balances",
    "mirror_period_balances",
)


def objects_to_json(objects: tuple[tuple[str, str], ...]) -> str:
    """Dimension objects (``(dimension, object)`` pairs) as stored: a JSON array of pairs."""
    return json.dumps([list(pair) for pair in objects]) if objects else "[]"


def objects_from_json(text: str) -> tuple[tuple[str, str], ...]:
    """Inverse of :func:`objects_to_json`."""
    return tuple((str(a), str(b)) for a, b in json.loads(text)) if text != "[]" else ()


def checked_company(company: str) -> str:
    """``company``, refused unless it is a non-empty string."""
    if not isinstance(company, str) or not company.strip():
        raise InputError(f"company must be a non-empty string, got {company!r}")
    return company
