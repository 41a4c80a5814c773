"""Benchmark: receivables and WIP reposts against SQLite doing the same aggregation.

Usage: ``python benchmarks/repost.py [--quick] [--size N] [--changes N] [--seed N]``

Generates a realistic receivables ledger of ``--size`` documents (default
1,000,000; ``--quick`` 100,000) and prints, in one run:

* the full repost time (the integer-cent kernel over rows already in memory);
* the same aggregation written as one SQL query in SQLite (in memory, indexed),
  on the same rows, and the ratio of the two (target <= 2x);
* an incremental repost after ``--changes`` (1,000) edits against a full
  repost of the edited ledger (target >= 100x), checked equal to it;
* a WIP repost of a WIP ledger of the same size against its SQL equivalent, with the
  object kernel (``repost_wip``) and the row kernel (``repost_wip_rows``, target <= 1.5x
  SQL), and an incremental WIP repost after ``--changes`` edits (target >= 100x: the
  median of 5 rounds of edits against the median of 3 full reposts), checked equal to a
  full one;
* a full receivables repost of the same ledger stored in a SQLite ledger file, streamed
  by client and applied in one transaction (``repost_receivables_streamed``), run in a
  fresh process whose peak resident memory is the figure (target <= 400 MB);
* the peak resident memory of this process after the in-memory receivables part and at
  the end (for reference: it holds the generated ledger, the index and SQLite's copy).

Loading rows (into SQLite, into the in-memory index) is not timed on either
side. The last line printed is the JSON summary.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import random
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

import attrs

from syncstate.domain.repost.ledger import MemoryLedger, RepostState, incremental_repost
from syncstate.domain.repost.receivables import AllocRow, DocRow, repost_rows
from syncstate.domain.repost.synthetic import make_ledger, random_changes
from syncstate.domain.repost.wip import WipEntry, repost_wip
from syncstate.domain.repost.wip_rows import WipIndex, repost_wip_rows, wip_row

_T = TypeVar("_T")

SQL = """
WITH rev AS (
    SELECT r.link AS id, MIN(r.day) AS day FROM docs r JOIN docs c ON c.id = r.link
    WHERE r.kind = 4 AND c.kind = 2 AND c.client IS r.client GROUP BY r.link
), alloc AS (
    SELECT a.src, a.dest, a.amount, a.day FROM allocs a
    JOIN docs s ON s.id = a.src JOIN docs t ON t.id = a.dest
    WHERE a.src NOT IN (SELECT id FROM rev) AND s.kind IN (2, 3) AND s.client IS NOT NULL
      AND t.kind IN (0, 1) AND t.client IS s.client
), to_sum AS (
    SELECT dest AS id, SUM(amount) AS s, MAX(day) AS d, COUNT(DISTINCT src) AS n
    FROM alloc GROUP BY dest
), from_sum AS (
    SELECT src AS id, SUM(amount) AS s, MAX(day) AS d FROM alloc GROUP BY src
), link_sum AS (
    SELECT l.link AS id, SUM(l.amount) AS s, MAX(l.day) AS d,
           SUM(CASE WHEN l.client IS NULL THEN l.amount ELSE 0 END) AS misc
    FROM docs l JOIN docs t ON t.id = l.link
    WHERE (l.kind = 2 AND t.kind = 6) OR (l.kind = 5 AND t.kind = 3) GROUP BY l.link
), bal AS (
    SELECT d.id, d.kind, d.client, d.day, d.amount, rev.day AS rev_day,
        CASE
            WHEN d.kind IN (0, 1) THEN d.amount - COALESCE(ts.s, 0)
            WHEN d.kind = 2 AND (d.client IS NULL OR rev.day IS NOT NULL) THEN 0
            WHEN d.kind = 2 THEN d.amount - COALESCE(fs.s, 0)
            WHEN d.kind = 3 THEN d.amount + COALESCE(fs.s, 0) + COALESCE(ls.s, 0)
            WHEN d.kind = 6 THEN d.amount - COALESCE(ls.s, 0)
            ELSE 0
        END AS outstanding,
        CASE
            WHEN d.kind IN (4, 5) OR (d.kind = 2 AND d.client IS NULL) THEN d.day
            WHEN d.kind = 2 AND rev.day IS NOT NULL THEN rev.day
            ELSE COALESCE(MAX(COALESCE(ts.d, fs.d, ls.d), COALESCE(fs.d, ts.d, ls.d),
                              COALESCE(ls.d, ts.d, fs.d)), d.day)
        END AS last_day,
        CASE WHEN d.kind IN (0, 1) THEN
            CASE COALESCE(ts.n, 0) WHEN 0 THEN 0 WHEN 1 THEN 1 ELSE 2 END
        ELSE -1 END AS ptype,
        CASE WHEN d.kind IN (2, 4, 6) THEN d.amount ELSE 0 END AS bank,
        CASE
            WHEN d.kind = 2 AND d.client IS NOT NULL THEN -d.amount
            WHEN d.kind = 4 AND d.client IS NOT NULL THEN -d.amount
            WHEN d.kind IN (2, 4) THEN 0
            WHEN d.kind = 6 THEN d.amount - COALESCE(ls.misc, 0)
            ELSE d.amount
        END AS receivables
    FROM docs d
    LEFT JOIN rev ON rev.id = d.id
    LEFT JOIN to_sum ts ON ts.id = d.id
    LEFT JOIN from_sum fs ON fs.id = d.id
    LEFT JOIN link_sum ls ON ls.id = d.id
)
SELECT id, outstanding,
    CASE WHEN outstanding = 0 THEN last_day END,
    outstanding = 0 AND last_day < :period_start,
    ptype, bank, receivables
FROM bal
"""

WIP_SQL = """
SELECT w.id,
    CASE WHEN w.status = 'billed' AND i.day IS NOT NULL THEN i.day < :period_start ELSE 0 END,
    CASE WHEN w.status = 'billed' THEN i.day END,
    CASE WHEN w.status = 'billed' AND i.day IS NOT NULL
         THEN COALESCE(w.billed, 0) - COALESCE(w.amount, 0) END,
    CASE WHEN w.status = 'billed' AND i.day IS NOT NULL THEN 'billed' ELSE 'unbilled' END
FROM wip w LEFT JOIN invoices i ON i.id = w.invoice
WHERE w.type IS NOT NULL AND w.type != ''
  AND NOT (w.type IN ('time', 'expense') AND w.work_code IS NULL AND w.client IS NULL
           AND COALESCE(w.amount, 0) = 0 AND COALESCE(w.quantity, 0) = 0)
"""


def timed(fn: Callable[..., _T], *args: Any, **kwargs: Any) -> tuple[float, _T]:
    """(seconds, result) of one call, after a full garbage collection.

    Collecting first means a call is not charged for a collection that the
    objects allocated before it (the generated ledgers) had made due.
    """
    gc.collect()
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - start, result


def sqlite_receivables(
    docs: list[DocRow], allocs: list[AllocRow], period_start: int
) -> tuple[float, list[Any]]:
    """(seconds, rows) for the SQL aggregation; loading and indexing are not timed."""
    conn = sqlite3.connect(":memory:")
    conn.execute(
        "CREATE TABLE docs (id TEXT PRIMARY KEY, kind INT, client TEXT, day INT, amount INT,"
        " link TEXT)"
    )
    conn.execute("CREATE TABLE allocs (src TEXT, dest TEXT, amount INT, day INT)")
    conn.executemany("INSERT INTO docs VALUES (?, ?, ?, ?, ?, ?)", docs)
    conn.executemany("INSERT INTO allocs VALUES (?, ?, ?, ?)", allocs)
    conn.execute("CREATE INDEX allocs_src ON allocs (src)")
    conn.execute("CREATE INDEX allocs_dest ON allocs (dest)")
    conn.execute("CREATE INDEX docs_link ON docs (link)")
    conn.execute("ANALYZE")
    seconds, rows = timed(lambda: conn.execute(SQL, {"period_start": period_start}).fetchall())
    conn.close()
    return seconds, rows


def wip_ledger(rng: random.Random, size: int) -> tuple[list[WipEntry], dict[str, dt.date]]:
    """A WIP ledger: time and expense entries, most billed, a few blank or orphaned."""
    base = dt.date(2023, 1, 1)
    invoices = {f"B{i}": base + dt.timedelta(days=i // 50) for i in range(size // 20)}
    names = list(invoices)
    entries = []
    for n in range(size):
        roll = rng.random()
        billed = roll < 0.7
        entries.append(
            WipEntry(
                id=f"W{n}",
                type="" if roll > 0.995 else ("time" if roll < 0.8 else "expense"),
                client=f"C{n % 5000}",
                date=base + dt.timedelta(days=n // 2000),
                work_code="WC",
                staff=f"S{n % 200}",
                quantity=Decimal(rng.randrange(1, 80)) / 10,
                amount=Decimal(rng.randrange(100, 50_000)) / 100,
                billed_amount=Decimal(rng.randrange(100, 50_000)) / 100 if billed else None,
                invoice=(rng.choice(names) if roll < 0.69 else "GONE") if billed else None,
                billing_status="billed" if billed else "unbilled",
            )
        )
    return entries, invoices


def sqlite_wip(
    entries: list[WipEntry], invoices: dict[str, dt.date], period_start: dt.date
) -> tuple[float, list[Any]]:
    """(seconds, rows) for the WIP SQL; loading is not timed."""
    conn = sqlite3.connect(":memory:")
    conn.execute(
        "CREATE TABLE wip (id TEXT PRIMARY KEY, type TEXT, client TEXT, work_code TEXT,"
        " quantity TEXT, amount TEXT, billed TEXT, invoice TEXT, status TEXT)"
    )
    conn.execute("CREATE TABLE invoices (id TEXT PRIMARY KEY, day TEXT)")
    conn.executemany(
        "INSERT INTO wip VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            (
                e.id,
                e.type,
                e.client,
                e.work_code,
                str(e.quantity),
                str(e.amount),
                None if e.billed_amount is None else str(e.billed_amount),
                e.invoice,
                e.billing_status,
            )
            for e in entries
        ),
    )
    conn.executemany(
        "INSERT INTO invoices VALUES (?, ?)", ((k, v.isoformat()) for k, v in invoices.items())
    )
    seconds, rows = timed(
        lambda: conn.execute(WIP_SQL, {"period_start": period_start.isoformat()}).fetchall()
    )
    conn.close()
    return seconds, rows


#: incremental WIP rounds (of ``--changes`` edits each) and full WIP reposts timed; medians
WIP_ROUNDS = 5
WIP_FULL_ROUNDS = 3

_STREAMED = """
import sys, time
from syncstate.adapters.storage.sqlite.ledger import SQLiteLedgerStore
from syncstate.services.repost import repost_receivables_streamed
start = time.perf_counter()
with SQLiteLedgerStore(sys.argv[1]) as store:
    written, _findings = repost_receivables_streamed(store, "acme")
seconds = time.perf_counter() - start
# VmHWM: this process's own peak (ru_maxrss may carry the parent's over exec)
with open("/proc/self/status") as status:
    hwm = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
print(seconds, written, hwm / 1024)
"""


def stored_repost(
    docs: list[DocRow], allocs: list[AllocRow], period_start: int
) -> tuple[float, int, float]:
    """(seconds, rows written, peak MB) of a streamed repost of the ledger stored in SQLite,
    in a fresh process; loading the file is not timed."""
    from syncstate.adapters.storage.sqlite.ledger import SQLiteLedgerStore

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "ledger.db")
        with SQLiteLedgerStore(path) as store:
            store.load_receivables(
                "acme", docs, allocs, period_start=dt.date.fromordinal(period_start)
            )
        done = subprocess.run(
            [sys.executable, "-c", _STREAMED, path], capture_output=True, text=True, check=True
        )
    seconds, written, peak = done.stdout.split()
    return float(seconds), int(written), float(peak)


def main() -> None:
    """Run the benchmark and print the figures; the last line is JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100,000 documents")
    parser.add_argument("--size", type=int, default=None)
    parser.add_argument("--changes", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=20240301)
    args = parser.parse_args()
    size = args.size or (100_000 if args.quick else 1_000_000)
    rng = random.Random(args.seed)

    gen_s, ledger = timed(make_ledger, rng, documents=size, clients=max(10, size // 50))
    docs, allocs = ledger.rows()
    print(
        f"ledger: {len(docs):,} documents, {len(allocs):,} allocations (generated in {gen_s:.1f} s)"
    )

    full_s, (rows, findings) = timed(repost_rows, docs, allocs, ledger.period_start)
    print(f"full repost (Python kernel):       {full_s:8.3f} s  ({len(findings)} findings)")
    sql_s, sql_rows = sqlite_receivables(docs, allocs, ledger.period_start)
    print(f"same aggregation in SQLite SQL:    {sql_s:8.3f} s")
    same = {r[0]: r for r in rows} == {
        r[0]: (r[0], r[1], r[2], bool(r[3]), r[4], r[5], r[6]) for r in sql_rows
    }
    ratio = full_s / sql_s
    print(
        f"ratio full / SQLite:               {ratio:8.2f}x  (target <= 2x; results equal: {same})"
    )

    index = MemoryLedger(docs, allocs)
    state = RepostState.of(rows, findings)
    upserts, deletes = random_changes(random.Random(args.seed + 1), ledger, args.changes)
    inc_s, affected = timed(
        incremental_repost,
        index,
        state,
        upserts=upserts,
        deletes=deletes,
        period_start=ledger.period_start,
    )
    full2_s, (rows2, findings2) = timed(
        repost_rows, list(index.all_documents()), list(index.all_allocations()), ledger.period_start
    )
    equal = state.balances == {r[0]: r for r in rows2} and state.all_findings() == findings2
    speedup = full2_s / inc_s
    print(
        f"incremental after {args.changes} changes:   {inc_s:8.4f} s  ({len(affected)} documents"
        f" reposted; full {full2_s:.3f} s; speed-up {speedup:,.0f}x, target >= 100x;"
        f" equal to full: {equal})"
    )
    stored_s, written, stored_mb = stored_repost(docs, allocs, ledger.period_start)
    print(
        f"stored repost (SQLite, streamed):  {stored_s:8.3f} s  ({written:,} rows written;"
        f" peak memory of its process {stored_mb:.0f} MB, target <= 400 MB)"
    )
    del index, state, rows, rows2, sql_rows, docs, allocs, ledger
    ar_peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory, in-memory receivables: {ar_peak_mb:7.0f} MB  (this process)")

    wip_size = size
    entries, invoices = wip_ledger(random.Random(args.seed + 2), wip_size)
    period_start = dt.date(2023, 6, 1)
    wip_s, wip_result = timed(repost_wip, entries, invoices, period_start=period_start)
    wip_sql_s, wip_rows = sqlite_wip(entries, invoices, period_start)
    print(
        f"WIP repost of {wip_size:,} entries:     {wip_s:8.3f} s  (SQLite {wip_sql_s:.3f} s,"
        f" ratio {wip_s / wip_sql_s:.2f}x; {len(wip_result.deletions)} deleted,"
        f" kept {len(wip_result.balances)} = SQL rows {len(wip_rows)})"
    )
    wip_rows = [wip_row(e) for e in entries]  # the columnar form a ledger holds: not timed
    days = {k: v.toordinal() for k, v in invoices.items()}
    rows_s, (kept, _deleted, _orphans) = timed(
        repost_wip_rows, wip_rows, days, period_start.toordinal()
    )
    wip_ratio = rows_s / wip_sql_s
    print(
        f"WIP row kernel:                    {rows_s:8.3f} s  (ratio to SQLite {wip_ratio:.2f}x,"
        f" target <= 1.5x; kept {len(kept)})"
    )
    wip_index = WipIndex(wip_rows)
    wip_state = {r[0]: r for r in kept}
    change_rng = random.Random(args.seed + 3)
    start_day = period_start.toordinal()

    def incremental_wip(upserts: list[Any], deletes: list[str]) -> int:
        redo = {r[0]: r for r in upserts}  # the rows to redo: the upserted ones, last wins
        wip_index.apply(upserts, deletes)
        redone, dropped, _ = repost_wip_rows(redo.values(), days, start_day)
        pop = wip_state.pop
        for doc_id in deletes:  # gone from the ledger
            pop(doc_id, None)
        for doc_id, _code in dropped:  # now deleted by the rules
            pop(doc_id, None)
        wip_state.update((r[0], r) for r in redone)
        return len(redo) + len(deletes)

    # several rounds of --changes edits each (and several full reposts): the medians are
    # compared, so one preemption of a ~10 ms call on a busy machine does not decide it
    inc_times, waffected = [], 0
    for round_no in range(WIP_ROUNDS):
        fresh, _ = wip_ledger(random.Random(args.seed + 4 + round_no), args.changes)
        wip_upserts = [
            wip_row(attrs.evolve(e, id=f"W{change_rng.randrange(wip_size)}")) for e in fresh
        ]
        wip_deletes = [f"W{change_rng.randrange(wip_size)}" for _ in range(args.changes // 10)]
        seconds, waffected = timed(incremental_wip, wip_upserts, wip_deletes)
        inc_times.append(seconds)
    winc_s = statistics.median(inc_times)
    full_times = []
    for _ in range(WIP_FULL_ROUNDS):
        seconds, (wfull, _, _) = timed(repost_wip_rows, wip_index.all_rows(), days, start_day)
        full_times.append(seconds)
    wfull_s = statistics.median(full_times)
    wip_equal = wip_state == {r[0]: r for r in wfull}
    wip_speedup = wfull_s / winc_s
    print(
        f"WIP incremental after {args.changes} changes: {winc_s:8.4f} s  (median of"
        f" {WIP_ROUNDS} rounds, {waffected} entries each; full {wfull_s:.3f} s, median of"
        f" {WIP_FULL_ROUNDS}; speed-up {wip_speedup:,.0f}x, target >= 100x;"
        f" equal to full: {wip_equal})"
    )
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory:              {peak_mb:8.0f} MB")
    summary = {
        "benchmark": "repost",
        "size": size,
        "targets": {
            "full_vs_sqlite": {"value": round(ratio, 2), "target": 2.0, "better": "lower"},
            "incremental_speedup": {
                "value": round(speedup, 1),
                "target": 100.0,
                "better": "higher",
            },
            "wip_rows_vs_sqlite": {"value": round(wip_ratio, 2), "target": 1.5, "better": "lower"},
            "wip_incremental_speedup": {
                "value": round(wip_speedup, 1),
                "target": 100.0,
                "better": "higher",
            },
            "stored_repost_peak_mb": {
                "value": round(stored_mb),
                "target": 400,
                "better": "lower",
            },
        },
        "full_seconds": round(full_s, 3),
        "sqlite_seconds": round(sql_s, 3),
        "incremental_seconds": round(inc_s, 4),
        "wip_vs_sqlite": round(wip_s / wip_sql_s, 2),
        "peak_rss_mb": round(peak_mb),
        "in_memory_receivables_peak_mb": round(ar_peak_mb),
        "stored_repost_seconds": round(stored_s, 2),
        "results_equal": same and equal and wip_equal,
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
