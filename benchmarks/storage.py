"""State stores side by side, and export throughput with many workers on PostgreSQL.

Part 1: ingest, claim and mark-exported of N records (100,000; ``--quick``
10,000) in the memory, SQLite and PostgreSQL stores, each step one call, one
transaction. SQLite, the embedded default, is the baseline: PostgreSQL's times
are printed as ratios against it (target: within 3x).

Part 2: export throughput of M records (4,000; ``--quick`` 1,000) of one
company by 1, 2 and 4 worker *processes* sharing one PostgreSQL store, each
running the export engine against a back end that answers every request (a
batch of 10 documents) after 100 ms, as a remote accounting service does: the
remote side, not the store, bounds one worker, so more workers should scale. One worker
is the baseline; the figure is the speed-up of 4 workers (target: at least 2x).
Every record must end up exported exactly once.

Needs a PostgreSQL server: ``--dsn`` or ``SYNCSTATE_TEST_PG_DSN``
(``eval "$(.ci/postgres.sh start)"`` starts a throw-away one).

    python benchmarks/storage.py            # full size
    python benchmarks/storage.py --quick    # under a minute
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing as mp
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from syncstate.adapters.backends.memory import MemoryBackend
from syncstate.adapters.storage.memory.state import MemoryStore
from syncstate.adapters.storage.sqlite.state import SQLiteStore
from syncstate.domain.state import Event, ExportState
from syncstate.ports import Document, RemoteRef, StateStore
from syncstate.testing.store_contract import make_time_records

T0 = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
COMPANY = "acme"
ROUND_TRIP = 0.1  # seconds the remote side takes per request
REMOTE_BATCH = 10  # documents per batch request


class RemoteLikeBackend(MemoryBackend):
    """The memory back end, answering each request after :data:`ROUND_TRIP` seconds."""

    def create(self, company: str, document: Document, *, idempotency_key: str) -> RemoteRef:
        time.sleep(ROUND_TRIP)
        return super().create(company, document, idempotency_key=idempotency_key)

    def create_batch(self, company: str, items: Sequence[tuple[Document, str]]) -> list[Any]:
        time.sleep(ROUND_TRIP)
        return super().create_batch(company, items)


def timed(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - start, result


def store_steps(store: StateStore, size: int) -> dict[str, float]:
    """Ingest, claim all, mark all exported; seconds per step."""
    records = make_time_records(COMPANY, size, employees=50)
    out: dict[str, float] = {}
    out["ingest"], report = timed(store.ingest, COMPANY, records, at=T0, actor="bench")
    assert report.added == size
    lease = T0 + dt.timedelta(minutes=10)
    out["claim"], claimed = timed(
        store.claim, COMPANY, worker="w", lease_until=lease, at=T0, actor="bench", limit=size
    )
    assert len(claimed) == size
    events = [(s.key, Event.succeed(f"R{s.key.source_id}", "0")) for s in claimed]
    out["mark_exported"], _ = timed(store.apply, COMPANY, events, at=T0, actor="bench")
    assert store.counts(COMPANY)[ExportState.EXPORTED] == size
    return out


def _worker(dsn: str, schema: str, total: int, name: str, ready: Any, go: Any) -> None:
    from syncstate.adapters.storage.postgres.state import PostgresStore
    from syncstate.services.export import ExportOptions, export_records

    store = PostgresStore(dsn, schema=schema, max_size=2)
    backend = RemoteLikeBackend(max_batch=REMOTE_BATCH)
    options = ExportOptions(
        worker=name, concurrency=2, claim_size=20, flush_size=40, lease=dt.timedelta(minutes=5)
    )
    ready.wait()
    go.wait()
    while store.counts(COMPANY)[ExportState.EXPORTED] < total:
        export_records(store, backend, COMPANY, actor=name, options=options)
        time.sleep(0.05)
    store.close()


def export_throughput(dsn: str, total: int, workers: int) -> float:
    """Records per second exported by ``workers`` processes sharing one store."""
    from syncstate.adapters.storage.postgres.state import PostgresStore

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    store = PostgresStore(dsn, schema=schema)
    store.ingest(COMPANY, make_time_records(COMPANY, total, employees=50), at=T0, actor="bench")
    ctx = mp.get_context("spawn")
    ready, go = ctx.Barrier(workers + 1), ctx.Event()
    procs = [
        ctx.Process(target=_worker, args=(dsn, schema, total, f"w{i}", ready, go))
        for i in range(workers)
    ]
    for p in procs:
        p.start()
    ready.wait()
    start = time.perf_counter()
    go.set()
    for p in procs:
        p.join()
        assert p.exitcode == 0, f"worker exited with {p.exitcode}"
    elapsed = time.perf_counter() - start
    assert store.counts(COMPANY)[ExportState.EXPORTED] == total
    assert _sends(dsn, schema) == total  # each record confirmed exactly once
    _drop(dsn, schema)
    store.close()
    return total / elapsed


def _sends(dsn: str, schema: str) -> int:
    """Confirmed exports in the journal."""
    import psycopg

    with psycopg.connect(dsn) as conn:
        [(n,)] = conn.execute(
            f'SELECT count(*) FROM "{schema}".journal WHERE to_state = %s AND from_state = %s',
            ("exported", "in_flight"),
        ).fetchall()
    return int(n)


def _drop(dsn: str, schema: str) -> None:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, under a minute")
    parser.add_argument("--size", type=int, default=None, help="records for part 1")
    parser.add_argument("--export-size", type=int, default=None, help="records for part 2")
    parser.add_argument("--dsn", default=os.environ.get("SYNCSTATE_TEST_PG_DSN", ""))
    args = parser.parse_args()
    if not args.dsn:
        sys.exit(
            "storage benchmark: no PostgreSQL server; pass --dsn or set SYNCSTATE_TEST_PG_DSN "
            '(eval "$(.ci/postgres.sh start)" starts one)'
        )
    from syncstate.adapters.storage.postgres.state import PostgresStore

    size = args.size or (10_000 if args.quick else 100_000)
    export_size = args.export_size or (1_000 if args.quick else 4_000)

    results: dict[str, dict[str, float]] = {}
    results["memory"] = store_steps(MemoryStore(), size)
    with tempfile.TemporaryDirectory() as tmp:
        sqlite = SQLiteStore(Path(tmp) / "bench.db")
        results["sqlite"] = store_steps(sqlite, size)
        sqlite.close()
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    postgres = PostgresStore(args.dsn, schema=schema)
    try:
        results["postgres"] = store_steps(postgres, size)
    finally:
        postgres.close()
        _drop(args.dsn, schema)

    print(f"{size:,} records, one call per step (seconds)")
    print(f"{'step':<15}{'memory':>10}{'sqlite':>10}{'postgres':>10}{'pg/sqlite':>11}")
    targets: dict[str, dict[str, Any]] = {}
    for step in ("ingest", "claim", "mark_exported"):
        m, s, p = (results[name][step] for name in ("memory", "sqlite", "postgres"))
        print(f"{step:<15}{m:>10.3f}{s:>10.3f}{p:>10.3f}{p / s:>11.2f}")
        targets[f"postgres_{step}_vs_sqlite"] = {
            "value": round(p / s, 2),
            "target": 3.0,
            "better": "lower",
        }

    print(
        f"\nexport of {export_size:,} records, batches of {REMOTE_BATCH}, "
        f"{ROUND_TRIP * 1000:.0f} ms per request"
    )
    print(f"{'workers':<10}{'records/s':>12}{'speed-up':>10}")
    rates = {}
    for workers in (1, 2, 4):
        rates[workers] = export_throughput(args.dsn, export_size, workers)
        print(f"{workers:<10}{rates[workers]:>12.0f}{rates[workers] / rates[1]:>10.2f}")
    for workers in (2, 4):
        targets[f"export_speedup_{workers}_workers"] = {
            "value": round(rates[workers] / rates[1], 2),
            "target": 1.5 if workers == 2 else 2.0,
            "better": "higher",
        }
    print(json.dumps({"benchmark": "storage", "size": size, "targets": targets}))


if __name__ == "__main__":
    main()
