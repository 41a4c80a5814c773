"""Reloading a big fiscal year into the PostgreSQL mirror while readers read the old one.

One company's fiscal year with N transactions (1,000,000; ``--quick``
100,000) in vouchers of four lines is loaded, then *reloaded* (staged beside
the live year with ``COPY``, swapped in, the old generation dropped) while a
reader thread keeps reading the old year (a count and sum over its
transactions, each in its own ``REPEATABLE READ`` snapshot) and a watcher
samples ``pg_stat_activity`` every 2 ms for the reader waiting on a lock.

Figures:

* ``load_vs_plain_copy``: seconds to stage the year (from domain objects:
  encoding, the ``COPY`` streams, the indexes) divided by seconds for a plain
  ``COPY`` of the same rows (the year's vouchers and transaction lines),
  already encoded, into bare tables with no index, in the same run; the best
  of three each (five with ``--quick``), alternating, with no reader running
  (target: within 2x);
* ``reader_blocked_seconds``: time the reader spent waiting on a lock during
  the reload (target: 0).

Load rates in rows/s and the reader's longest read are printed too.

Needs a PostgreSQL server: ``--dsn`` or ``SYNCSTATE_TEST_PG_DSN``.

    python benchmarks/mirror_postgres.py            # full size
    python benchmarks/mirror_postgres.py --quick    # under a minute
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import threading
import time
import uuid
from decimal import Decimal
from typing import Any

import psycopg

from syncstate.adapters.storage.postgres.mirror import PostgresMirrorStore
from syncstate.adapters.storage.sqlite.mirror_schema import objects_to_json
from syncstate.domain.mirror import MirrorTransaction, MirrorVoucher, MirrorYear
from syncstate.periods import FiscalYear

COMPANY = "acme"
YEAR = FiscalYear(dt.date(2025, 1, 1), dt.date(2025, 12, 31))
NOW = dt.datetime(2026, 1, 15, tzinfo=dt.UTC)
LINES = 4


def make_year(transactions: int, tag: str) -> MirrorYear:
    """A year of ``transactions`` lines in balanced vouchers of :data:`LINES` lines."""
    vouchers = []
    for i in range(transactions // LINES):
        amount = Decimal(100 + i % 9000) / 100
        day = YEAR.start + dt.timedelta(days=i % 365)
        vouchers.append(
            MirrorVoucher(
                series="A",
                number=str(i + 1),
                date=day,
                text=f"{tag} {i}",
                transactions=(
                    MirrorTransaction(account="1930", amount=amount),
                    MirrorTransaction(account="3001", amount=-amount, objects=(("1", "S1"),)),
                    MirrorTransaction(account="2611", amount=amount / 4),
                    MirrorTransaction(account="3001", amount=-amount / 4, date=day),
                ),
            )
        )
    return MirrorYear(year=YEAR, vouchers=tuple(vouchers))


def plain_copy(dsn: str, schema: str, year: MirrorYear) -> tuple[float, int]:
    """Seconds for a plain COPY of the rows a load writes (the year's vouchers and
    transaction lines, encoded as text beforehand) into bare tables with no index;
    and how many rows that is."""
    vouchers = [(1, seq, v.series, v.number, v.date, v.text) for seq, v in enumerate(year.vouchers)]
    lines = [
        (1, seq, line, t.account, str(t.amount), objects_to_json(t.objects), t.date, t.text)
        for seq, v in enumerate(year.vouchers)
        for line, t in enumerate(v.transactions)
    ]
    with psycopg.connect(dsn) as conn:
        conn.execute(
            f'CREATE TABLE "{schema}".bare_vouchers (generation BIGINT, seq INTEGER,'
            " series TEXT, number TEXT, date DATE, text TEXT)"
        )
        conn.execute(
            f'CREATE TABLE "{schema}".bare_lines (generation BIGINT, voucher_seq INTEGER,'
            " line INTEGER, account TEXT, amount NUMERIC, objects TEXT, date DATE, text TEXT)"
        )
        conn.commit()
        start = time.perf_counter()
        with conn.cursor() as cur:
            with cur.copy(f'COPY "{schema}".bare_vouchers FROM STDIN') as copy:
                for row in vouchers:
                    copy.write_row(row)
            with cur.copy(f'COPY "{schema}".bare_lines FROM STDIN') as copy:
                for row in lines:
                    copy.write_row(row)
        conn.commit()
        seconds = time.perf_counter() - start
        conn.execute(f'DROP TABLE "{schema}".bare_vouchers, "{schema}".bare_lines')
        conn.commit()
    return seconds, len(vouchers) + len(lines)


def staging(store: PostgresMirrorStore, year: MirrorYear, runs: int) -> float:
    """Best seconds of ``runs`` stagings of ``year`` (each discarded afterwards)."""
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        generation = store.stage_year(COMPANY, year, source="bench", at=NOW)
        best = min(best, time.perf_counter() - start)
        store.discard(COMPANY, generation)
    return best


class Reader(threading.Thread):
    """Reads the live year's totals in a loop, each read one snapshot; records its pid."""

    def __init__(self, dsn: str, schema: str) -> None:
        super().__init__(daemon=True)
        self.dsn, self.schema = dsn, schema
        self.pid = 0
        self.reads = 0
        self.longest = 0.0
        self.stop = threading.Event()
        self.ready = threading.Event()

    def run(self) -> None:
        with psycopg.connect(self.dsn) as conn:
            self.pid = conn.info.backend_pid
            self.ready.set()
            while not self.stop.is_set():
                start = time.perf_counter()
                with conn.transaction():
                    conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                    conn.execute(
                        f'SELECT count(*), sum(t.amount) FROM "{self.schema}".mirror_transactions t'
                        f' JOIN "{self.schema}".mirror_years y ON y.generation = t.generation'
                        " WHERE y.company = %s",
                        (COMPANY,),
                    ).fetchone()
                self.longest = max(self.longest, time.perf_counter() - start)
                self.reads += 1


def watch_locks(dsn: str, reader: Reader, stop: threading.Event, out: list[float]) -> None:
    """Add 2 ms to ``out[0]`` for every sample that finds the reader waiting on a lock."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        while not stop.is_set():
            row = conn.execute(
                "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", (reader.pid,)
            ).fetchone()
            if row is not None and row[0] == "Lock":
                out[0] += 0.002
            time.sleep(0.002)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="100,000 transactions")
    parser.add_argument("--dsn", default=os.environ.get("SYNCSTATE_TEST_PG_DSN", ""))
    args = parser.parse_args(argv)
    if not args.dsn:
        print("needs --dsn or SYNCSTATE_TEST_PG_DSN", file=sys.stderr)
        return 2
    size = 100_000 if args.quick else 1_000_000
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    store = PostgresMirrorStore(args.dsn, schema=schema, max_size=4)
    try:
        old, new = make_year(size, "old"), make_year(size, "new")
        store.swap_in(
            COMPANY, {YEAR: store.stage_year(COMPANY, old, source="bench", at=NOW)}, [], at=NOW
        )
        # load rates alone, alternating, the best of each (the machine may be shared)
        baseline, rows, staged = float("inf"), 0, float("inf")
        for _ in range(5 if args.quick else 3):
            copied, rows = plain_copy(args.dsn, schema, new)
            baseline = min(baseline, copied)
            staged = min(staged, staging(store, new, 1))
        # the reload, with a reader of the old year and a lock watcher running
        reader = Reader(args.dsn, schema)
        reader.start()
        reader.ready.wait()
        stop, blocked = threading.Event(), [0.0]
        watcher = threading.Thread(target=watch_locks, args=(args.dsn, reader, stop, blocked))
        watcher.start()
        start = time.perf_counter()
        generation = store.stage_year(COMPANY, new, source="bench", at=NOW)
        store.swap_in(COMPANY, {YEAR: generation}, [], at=NOW)
        reload = time.perf_counter() - start
        time.sleep(0.2)
        stop.set()
        reader.stop.set()
        watcher.join()
        reader.join()
        [live] = store.loaded_years(COMPANY)
        assert live.generation == generation and live.transactions + live.vouchers == rows
    finally:
        store.close()
        with psycopg.connect(args.dsn, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    ratio = staged / baseline
    print(f"rows (vouchers + lines):      {rows:>12,}")
    print(f"plain COPY (encoded rows):    {rows / baseline:>12,.0f} rows/s  ({baseline:.2f} s)")
    print(f"mirror stage (COPY):          {rows / staged:>12,.0f} rows/s  ({staged:.2f} s)")
    print(f"reload incl. swap and drop:   {reload:>12.2f} s")
    print(f"load vs plain COPY:           {ratio:>12.2f}x  (target <= 2)")
    print(f"reader: {reader.reads} reads, longest {reader.longest:.3f} s")
    print(f"reader blocked on locks:      {blocked[0]:>12.3f} s  (target 0)")
    targets: dict[str, Any] = {
        "load_vs_plain_copy": {"value": round(ratio, 3), "target": 2.0, "better": "lower"},
        "reader_blocked_seconds": {
            "value": round(blocked[0], 3),
            "target": 0.0,
            "better": "lower",
        },
    }
    print(json.dumps({"benchmark": "mirror_postgres", "size": rows, "targets": targets}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
