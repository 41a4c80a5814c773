"""The schema of the PostgreSQL mirror (migration component ``mirror``).

The same tables as the SQLite mirror
(:mod:`~syncstate.adapters.storage.sqlite.mirror_schema`), with PostgreSQL
types: ``DATE``, ``TIMESTAMPTZ``, ``NUMERIC`` amounts (exact, any scale),
``BOOLEAN`` budgets, an identity column for generations, and an ``ord`` column
keeping the order balances were loaded in. A generation also records how many
vouchers and transactions it holds, so listing the loaded years never counts
a million rows. Dimension objects are stored as in SQLite (a JSON array of
pairs).

Transaction lines are found by a **BRIN** index on ``generation``, not a
b-tree: a load appends one generation's lines contiguously (one ``COPY``), so
a block-range index finds them while costing a fraction of a b-tree entry per
line to write (measured against a plain ``COPY`` of the lines alone into a
bare table, on a shared machine: 2.4-2.8x with a b-tree, 1.7-1.9x with BRIN;
``benchmarks/mirror_postgres.py``). The store summarises
new ranges right after each load (:data:`SUMMARIZE`), and ``autosummarize``
lets autovacuum catch up when that step is skipped; ranges that are not
summarised yet are simply always scanned, so results stay exact. A reader
sorts a year's lines by voucher and line itself.

There are no ``host_*`` tables: host-owned data lives in the host's own
tables, which the mirror never names.

Company locks are not a table here: they are session-level advisory locks
(:func:`~syncstate.adapters.storage.postgres.connections.company_lock_key`).
"""

from __future__ import annotations

__all__ = ["GENERATION_TABLES", "MIRROR_MIGRATIONS_POSTGRES", "SUMMARIZE"]

#: summarise the block ranges a load added (run in a short transaction of its own)
SUMMARIZE = "SELECT brin_summarize_new_values('mirror_transactions_by_generation'::regclass)"

#: the mirror's schema versions (PostgreSQL dialect); append, never edit a released step
MIRROR_MIGRATIONS_POSTGRES: tuple[str, ...] = (
    """
    CREATE TABLE mirror_accounts (
        company TEXT COLLATE "C" NOT NULL, number TEXT COLLATE "C" NOT NULL,
        name TEXT NOT NULL, type TEXT NOT NULL,
        PRIMARY KEY (company, number)
    );
    CREATE TABLE mirror_generations (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        company TEXT COLLATE "C" NOT NULL,
        year_start DATE NOT NULL, year_end DATE NOT NULL,
        status TEXT NOT NULL, source TEXT NOT NULL, created_at TIMESTAMPTZ NOT NULL,
        vouchers INTEGER NOT NULL DEFAULT 0, transactions BIGINT NOT NULL DEFAULT 0
    );
    CREATE INDEX mirror_generations_by_company ON mirror_generations (company, status);
    CREATE TABLE mirror_years (
        company TEXT COLLATE "C" NOT NULL, year_start DATE NOT NULL, year_end DATE NOT NULL,
        generation BIGINT NOT NULL, loaded_at TIMESTAMPTZ NOT NULL, source TEXT NOT NULL,
        PRIMARY KEY (company, year_start)
    );
    CREATE TABLE mirror_vouchers (
        generation BIGINT NOT NULL, seq INTEGER NOT NULL, series TEXT NOT NULL,
        number TEXT NOT NULL, date DATE NOT NULL, text TEXT NOT NULL,
        PRIMARY KEY (generation, seq)
    );
    CREATE TABLE mirror_transactions (
        generation BIGINT NOT NULL, voucher_seq INTEGER NOT NULL, line INTEGER NOT NULL,
        account TEXT NOT NULL, amount NUMERIC NOT NULL, objects TEXT NOT NULL,
        date DATE, text TEXT NOT NULL
    );
    CREATE INDEX mirror_transactions_by_generation ON mirror_transactions
        USING brin (generation) WITH (pages_per_range = 16, autosummarize = on);
    CREATE TABLE mirror_balances (
        generation BIGINT NOT NULL, ord INTEGER NOT NULL, kind TEXT NOT NULL,
        account TEXT NOT NULL, objects TEXT NOT NULL, amount NUMERIC NOT NULL
    );
    CREATE INDEX mirror_balances_by_generation ON mirror_balances (generation, ord);
    CREATE TABLE mirror_period_balances (
        generation BIGINT NOT NULL, ord INTEGER NOT NULL, period TEXT NOT NULL,
        account TEXT NOT NULL, objects TEXT NOT NULL, amount NUMERIC NOT NULL,
        budget BOOLEAN NOT NULL
    );
    CREATE INDEX mirror_period_balances_by_generation
        ON mirror_period_balances (generation, ord);
    """,
    # 2 (as SQLite's step 2): the record of runs, one row per fiscal year of a run (no
    # year: every year of the source); the newest 20 per company and year are kept
    """
    CREATE TABLE mirror_attempts (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        attempt BIGINT NOT NULL,
        company TEXT COLLATE "C" NOT NULL, year_start DATE, year_end DATE,
        operation TEXT NOT NULL, holder TEXT NOT NULL,
        started_at TIMESTAMPTZ NOT NULL, ended_at TIMESTAMPTZ,
        outcome TEXT NOT NULL, reason TEXT NOT NULL
    );
    CREATE INDEX mirror_attempts_by_company ON mirror_attempts (company, year_start, id);
    """,
)

#: the tables holding one generation's rows, keyed by ``generation``
GENERATION_TABLES = (
    "mirror_transactions",
    "mirror_vouchers",
    "mirror_balances",
    "mirror_period_balances",
)
