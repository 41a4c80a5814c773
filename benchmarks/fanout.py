"""Many companies on Celery workers, every company held to its back end's limits.

Real parts only: a Redis broker (``redis-server``), ``celery worker`` processes
(prefork) running :mod:`syncstate.integrations.celery`, a PostgreSQL store when
``SYNCSTATE_TEST_PG_DSN`` is set (else one SQLite file), and the local
QuickBooks-like server enforcing per-realm limits (answering 429 beyond them)
and counting every request (:class:`~syncstate.testing.qbo_meter.MeteredQboServer`).

The server's per-realm limits are scaled down so a run takes about a minute on
two cores: ``RATE`` requests per ``WINDOW`` seconds (25 per 5 s, batch requests
included) and ``CONCURRENT`` (2) in progress; batches of 10 documents; 30 ms latency.
A window of seconds, not a minute, keeps the run short; 5 s rather than 1 s keeps
the scheduling jitter of a loaded machine from weighing more than it would against
QuickBooks' minute.

Scenarios and figures:

* **many**: 200 companies x 100 records (quick: 32 x 100) on 8 worker
  processes, enqueued by the scheduler task. What the limits allow is the realm
  rate times the companies the workers can serve at once (8): the baseline.
  ``throughput_ratio`` = requests per second / that (target >= 0.9). It can
  exceed 1: the budget spaces a company's requests evenly, but the first request
  of a page whose company was idle needs no wait (a token bucket's one token);
  ``throttled`` = 429 answers (target 0; any are printed); ``fairness`` = the last
  company's finishing time / the median company's (target <= 1.5).
* **kills**: 40 companies x 100 (quick: 4 x 50), two pool processes SIGKILLed
  mid-page at random: ``duplicates`` and ``lost`` (target 0 each).
* **one**: 1 company, 8 workers on it at once (8 chains): ``one_ratio`` =
  requests per second / the realm's rate (target >= 0.9), ``one_throttled``
  (target 0). The same with each run pacing itself alone (the engine before shared
  budgets) is the comparison: its 429s and its peak concurrency are printed.

* **hot path**: what a slot costs, per store (memory, SQLite, PostgreSQL): four
  threads make 1 ms "requests" through one company's budget, rate and concurrency
  not binding. ``round_trips_per_slot`` (target 1.01: one take per slot, the
  slot going back inside the next take, plus one release at the end of the run), and
  the microseconds a request waits for its slot, on PostgreSQL also in units of a
  ``SELECT 1`` on the same pool, measured in the same run.

The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

LATENCY = 0.03
RATE = 25  # requests per WINDOW per realm (5 a second)
WINDOW = 5.0
CONCURRENT = 2
PER_MINUTE = RATE * 60 / WINDOW
WORKERS = 8


def _config(broker: str, url: str, workdir: Path, **overrides: Any) -> Any:
    from syncstate.testing.fanout import FanoutConfig

    dsn = os.environ.get("SYNCSTATE_TEST_PG_DSN", "")
    target: dict[str, Any] = (
        {"pg_dsn": dsn, "pg_schema": f"bench_{uuid.uuid4().hex[:10]}"}
        if dsn
        else {"sqlite": str(workdir / f"{uuid.uuid4().hex[:8]}.db")}
    )
    return FanoutConfig(
        broker=broker,
        qbo_url=url,
        per_minute=PER_MINUTE,
        batch_per_minute=PER_MINUTE,
        concurrent=CONCURRENT,
        headroom=0.95,
        page_size=50,
        max_batch=10,
        concurrency=CONCURRENT,
        lease_seconds=5.0,
        slot_lease=3.0,
        queue=f"bench-{uuid.uuid4().hex[:6]}",
        **target,
        **overrides,
    )


def _drop_schema(config: Any) -> None:
    if config.pg_dsn:
        import psycopg

        with psycopg.connect(config.pg_dsn, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{config.pg_schema}" CASCADE')


def _mid_page(budgets: Any, names: list[str], children: list[int]) -> int | None:
    """A pool process that holds a slot of some company right now (it is mid-page)."""
    from syncstate.ports.budget import BudgetScope

    for name in random.sample(names, len(names)):
        for holder in budgets.usage(BudgetScope("quickbooks", name)).holders:
            pid = int(holder.split(":")[1])
            if pid in children:
                return pid
    return None


def scenario(
    broker: str,
    workdir: Path,
    *,
    companies: int,
    records: int,
    kills: int = 0,
    chains: int = 0,
    shared: bool = True,
    timeout: float = 600.0,
) -> dict[str, Any]:
    """Run one scenario; return the figures counted at the server."""
    from celery import Celery

    from syncstate.domain.state import ExportState
    from syncstate.testing.fanout import CeleryWorkers, exactly_once, open_stores, seed
    from syncstate.testing.qbo_meter import MeteredQboServer

    names = [f"co{i:04d}" for i in range(companies)]
    with MeteredQboServer() as server:
        server.faults.latency = LATENCY
        server.faults.rate_limit = RATE
        server.faults.batch_rate_limit = RATE
        server.faults.rate_window = WINDOW
        server.faults.concurrency_limit = CONCURRENT
        config = _config(broker, server.base_url, workdir, shared=shared)
        store, budgets = open_stores(config)
        seed(server, store, names, records)
        client = Celery(broker=broker)
        total = companies * records
        try:
            with CeleryWorkers(config, concurrency=WORKERS) as workers:
                while len(workers.children()) < WORKERS:
                    time.sleep(0.1)
                # warm up: every pool process opens its stores on its first task
                for i in range(WORKERS * 2):
                    client.send_task(
                        "syncstate.export_page", args=(f"warm-{i}",), queue=config.queue
                    )
                time.sleep(1.5)
                if chains:
                    for _ in range(chains):
                        for name in names:
                            client.send_task(
                                "syncstate.export_page", args=(name,), queue=config.queue
                            )
                else:
                    client.send_task("syncstate.schedule", queue=config.queue)
                kill_at = sorted(random.uniform(0.2, 0.6) for _ in range(kills))
                started = time.monotonic()
                done = 0
                killed = 0
                while done < total and time.monotonic() - started < timeout:
                    time.sleep(0.25)
                    # progress from the server (in this process): polling the store for
                    # 200 companies would load the database the workers need
                    sent = sum(server.count(n, "TimeActivity") for n in names)
                    if sent >= total:
                        done = sum(store.counts(n).get(ExportState.EXPORTED, 0) for n in names)
                    if killed < len(kill_at) and sent >= kill_at[killed] * total:
                        victim = _mid_page(budgets, names, workers.children())
                        if victim:
                            workers.kill_one(victim)
                            killed += 1
                log = workers.log_text()
        finally:
            store.close()
            budgets.close()
            _drop_schema(config)
        figures = [server.report(n, window=WINDOW) for n in names]
        off = exactly_once(server, names, records)
    first = min(f.first for f in figures if f.requests)
    last = max(f.last for f in figures if f.requests)
    finish = sorted(f.last - first for f in figures if f.requests)
    served = sum(f.requests - f.throttled for f in figures)
    return {
        "seconds": last - first,
        "requests": served,
        "per_second": served / (last - first),
        "throttled": sum(f.throttled for f in figures),
        "peak_concurrent": max(f.peak_concurrent for f in figures),
        "most_in_window": max(f.most_in_window for f in figures),
        "fairness": finish[-1] / statistics.median(finish),
        "duplicates": sum(v for v in off.values() if v > 0),
        "lost": -sum(v for v in off.values() if v < 0) + (total - done),
        "killed": killed,
        "worker_errors": [line for line in log.splitlines() if "ERROR" in line][:5],
    }


def hot_path(slots: int) -> dict[str, dict[str, float]]:
    """Cost of one slot per store: round trips per slot, microseconds per slot.

    Four threads each make ``slots`` "requests" of 1 ms, rate and concurrency not
    binding, once through a shared budget and once bare; the difference per slot is
    the budget's cost. On PostgreSQL it is also shown in units of one ``SELECT 1``
    round trip on the same pool, measured in the same run.
    """
    import threading

    from syncstate.adapters.storage.memory.budgets import MemoryBudgetStore
    from syncstate.adapters.storage.sqlite.budgets import SQLiteBudgetStore
    from syncstate.ports.budget import BudgetLimits, BudgetScope
    from syncstate.services.budgets import SharedBudget

    def timed(budget: Any) -> float:
        def work() -> None:
            for _ in range(slots):
                if budget is None:
                    time.sleep(0.001)
                else:
                    with budget.slot():
                        time.sleep(0.001)

        threads = [threading.Thread(target=work) for _ in range(4)]
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if budget is not None:
            budget.flush()
        return time.perf_counter() - started

    bare = timed(None)
    stores: dict[str, Any] = {"memory": MemoryBudgetStore()}
    tmp = tempfile.mkdtemp()
    stores["sqlite"] = SQLiteBudgetStore(Path(tmp) / "budgets.db")
    dsn = os.environ.get("SYNCSTATE_TEST_PG_DSN", "")
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    if dsn:
        from syncstate.adapters.storage.postgres.budgets import PostgresBudgetStore

        stores["postgres"] = PostgresBudgetStore(dsn, schema=schema, max_size=4)
    out: dict[str, dict[str, float]] = {}
    for name, store in stores.items():
        budget = SharedBudget(
            store, BudgetScope("quickbooks", "hot"), BudgetLimits(concurrent=100), lease=30
        )
        seconds = timed(budget)
        total = 4 * slots
        out[name] = {
            "round_trips_per_slot": budget.stats["round_trips"] / total,
            "us_per_slot": max(seconds - bare, 0.0) / total * 4 * 1e6,  # per thread's slot
        }
        if name == "postgres":
            with store._pool.connection() as conn:
                conn.execute("SELECT 1")
                started = time.perf_counter()
                for _ in range(500):
                    conn.execute("SELECT 1")
                rtt = (time.perf_counter() - started) / 500 * 1e6
            out[name]["select_1_us"] = rtt
            out[name]["slot_in_round_trips"] = out[name]["us_per_slot"] / rtt
        store.close()
    if dsn:
        _drop_schema(attrs_like(dsn, schema))
    return out


def attrs_like(dsn: str, schema: str) -> Any:
    """A stand-in config for :func:`_drop_schema`."""
    return type("C", (), {"pg_dsn": dsn, "pg_schema": schema})()


def _show(name: str, result: dict[str, Any]) -> None:
    print(
        f"{name:>9}: {result['requests']} requests in {result['seconds']:.1f}s "
        f"({result['per_second']:.1f}/s), 429s {result['throttled']}, peak concurrent "
        f"{result['peak_concurrent']} (limit {CONCURRENT}), most in {WINDOW:g}s "
        f"{result['most_in_window']} (limit {RATE}), fairness {result['fairness']:.2f}, "
        f"duplicates {result['duplicates']}, lost {result['lost']}, killed {result['killed']}"
    )
    for line in result["worker_errors"]:
        print(f"           worker: {line}")


def main(argv: list[str] | None = None) -> int:
    """Run the scenarios and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (under a minute)")
    args = parser.parse_args(argv)
    try:
        import celery  # noqa: F401

        from syncstate.testing.fanout import RedisServer

        redis = RedisServer().start()
    except (ImportError, FileNotFoundError) as exc:
        print(f"skipped: {exc}; pip install 'syncstate[celery]' and apt-get install redis-server")
        print(json.dumps({"benchmark": "fanout", "size": 0, "skipped": str(exc), "targets": {}}))
        return 0
    quick = args.quick
    hot = hot_path(200 if quick else 1000)
    for name, figures in hot.items():
        print(f"hot path, {name:>8}: " + ", ".join(f"{k} {v:.2f}" for k, v in figures.items()))
    many_n, many_r = (32, 100) if quick else (200, 100)
    kill_n, kill_r = (4, 50) if quick else (40, 100)
    one_r = 150 if quick else 1000
    rate = PER_MINUTE / 60
    try:
        with tempfile.TemporaryDirectory() as tmp:
            workdir = Path(tmp)
            many = scenario(redis.url, workdir, companies=many_n, records=many_r)
            _show("many", many)
            kills = scenario(redis.url, workdir, companies=kill_n, records=kill_r, kills=2)
            _show("kills", kills)
            one = scenario(redis.url, workdir, companies=1, records=one_r, chains=WORKERS)
            _show("one", one)
            alone = scenario(
                redis.url, workdir, companies=1, records=one_r, chains=WORKERS, shared=False
            )
            _show("unshared", alone)
    finally:
        redis.stop()
    allowed = rate * min(WORKERS, many_n)
    ratio = many["per_second"] / allowed
    one_ratio = one["per_second"] / rate
    print(
        f"allowed (baseline): {allowed:.1f} requests/s for {min(WORKERS, many_n)} companies at "
        f"once, {rate:.1f}/s for one company; throughput ratio {ratio:.3f}, one company "
        f"{one_ratio:.3f}; each run pacing alone: {alone['throttled']} 429s, peak concurrent "
        f"{alone['peak_concurrent']}"
    )
    result = {
        "benchmark": "fanout",
        "size": {"companies": many_n, "records": many_r, "workers": WORKERS},
        "targets": {
            "throughput_ratio": {"value": round(ratio, 3), "target": 0.9, "better": "higher"},
            "throttled": {"value": many["throttled"], "target": 0, "better": "lower"},
            "fairness": {"value": round(many["fairness"], 3), "target": 1.5, "better": "lower"},
            "kill_duplicates": {"value": kills["duplicates"], "target": 0, "better": "lower"},
            "kill_lost": {"value": kills["lost"], "target": 0, "better": "lower"},
            "one_ratio": {"value": round(one_ratio, 3), "target": 0.9, "better": "higher"},
            "one_throttled": {"value": one["throttled"], "target": 0, "better": "lower"},
            # one take per slot, plus one release at the end of the run
            "round_trips_per_slot": {
                "value": round(max(f["round_trips_per_slot"] for f in hot.values()), 3),
                "target": 1.01,
                "better": "lower",
            },
        },
        "hot_path": {k: {m: round(v, 2) for m, v in f.items()} for k, f in hot.items()},
        "unshared_throttled": alone["throttled"],
        "unshared_peak_concurrent": alone["peak_concurrent"],
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
