"""Export throughput against a slow, throttled Intacct-like gateway.

The local gateway (``syncstate.testing.intacct_server``) answers every request after
50 ms, allows 10 requests in progress and 6,000 requests per minute per company,
enforced over one-second windows (100 per second). So the most any client can get is
``min(100/s, 10 / 0.05 s)`` = 100 requests per second: the baseline, computed in the
same run. (Intacct's real limits depend on the company's performance tier and are not
published; see docs/intacct.md.)

Figures:

* ``throughput_ratio``: documents per second exported one request per document (the
  engine's pacing on, 10 workers) divided by the allowed maximum. Target >= 0.9.
* ``batch_speedup``: documents per second with ``create_batch`` (50 create functions
  a request) divided by one-per-document. Target >= 10.
* ``faulty_batch_speedup``: the same two ways with one write request in five failing
  *after* it committed (a 500 once the documents exist): Intacct refuses a repeated
  control id, so each ambiguous batch is resolved with one lookup query for all its
  keys; batching must stay at least 5x faster (target >= 5), with 0 duplicates.

Every run writes through a real SQLite store and checks that each record was exported
exactly once. ``--quick`` uses 600 documents. The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

import httpx

from syncstate.adapters.backends.intacct import (
    IntacctBackend,
    IntacctConfig,
    IntacctCredentials,
    IntacctMapping,
    StaticCredentials,
)
from syncstate.adapters.storage.sqlite.state import SQLiteStore
from syncstate.domain.records import TimeEntry
from syncstate.domain.state import ExportState
from syncstate.services.export import ExportOptions, export_records
from syncstate.services.retry import RetryPolicy
from syncstate.testing.intacct_server import IntacctServer

LATENCY = 0.05
CONCURRENT = 10
PER_MINUTE = 6000
WINDOW = 1.0
CO = "bench"


def allowed_per_second() -> float:
    """The gateway's best sustained rate: rate limit or concurrency / latency."""
    return min(PER_MINUTE / 60.0, CONCURRENT / LATENCY)


def run(
    server: IntacctServer, workdir: Path, n: int, *, batch: bool, faulty: bool = False
) -> dict[str, float]:
    """Export ``n`` time entries; return documents per second and counters."""
    company_id = f"BENCH-{uuid.uuid4().hex[:8]}"
    server.add(company_id, "EMPLOYEE", {"EMPLOYEEID": "E1", "NAME": "Bench Worker"})
    creds = IntacctCredentials(
        sender_id="bench", sender_password="bench-pw", user_id="u", user_password="u-pw",
        company_id=company_id,
    )  # fmt: skip
    entries = [
        TimeEntry(
            source_id=f"t{i:06d}",
            employee="emp",
            date=dt.date(2024, 1, 1) + dt.timedelta(days=i % 300),
            hours="2",
        ).to_record(CO)
        for i in range(n)
    ]
    limits = httpx.Limits(max_connections=CONCURRENT * 2, max_keepalive_connections=CONCURRENT * 2)
    queries_before = server.stats["queries"]
    server.faults.commit_then_fail_every = 5 if faulty else None
    with (
        SQLiteStore(workdir / f"{company_id}.db") as store,
        httpx.Client(timeout=30.0, limits=limits) as client,
    ):
        store.ingest(CO, entries, at=dt.datetime.now(dt.UTC), actor="bench")
        backend = IntacctBackend(
            credentials=StaticCredentials({CO: creds}),
            mapping=IntacctMapping(employees={"emp": "E1"}),
            config=IntacctConfig(endpoint_url=server.endpoint_url),
            client=client,
        )
        options = ExportOptions(
            concurrency=CONCURRENT,
            use_batch=batch,
            requests_per_minute=PER_MINUTE,
            retry=RetryPolicy(attempts=20, initial=0.05, maximum=1.0),
        )
        started = time.perf_counter()
        report = export_records(store, backend, CO, options=options)
        seconds = time.perf_counter() - started
        exported = store.counts(CO)[ExportState.EXPORTED]
    server.faults.commit_then_fail_every = None
    server.faults.commit_then_fail = 0
    keys = Counter(str(s.get("DESCRIPTION")) for s in server.records(company_id, "TIMESHEET"))
    if not (report.exported == exported == sum(keys.values()) == len(keys) == n):
        raise SystemExit(
            f"not exactly once: report {report.exported}, store {exported}, "
            f"server {sum(keys.values())}, distinct keys {len(keys)}, n {n}"
        )
    return {
        "seconds": seconds,
        "per_second": n / seconds,
        "queries": server.stats["queries"] - queries_before,
        "retries": report.retries,
    }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="600 documents instead of 3,000")
    parser.add_argument("--documents", type=int, default=None)
    args = parser.parse_args(argv)
    n = args.documents or (600 if args.quick else 3000)
    with IntacctServer() as server, tempfile.TemporaryDirectory() as tmp:
        server.faults.latency = LATENCY
        server.faults.concurrency_limit = CONCURRENT
        server.faults.rate_limit = int(PER_MINUTE / 60.0 * WINDOW)
        server.faults.rate_window = WINDOW
        workdir = Path(tmp)
        allowed = allowed_per_second()
        single = run(server, workdir, n, batch=False)
        print(f"one per document: {single['per_second']:7.1f} docs/s ({single['seconds']:.1f}s)")
        batched = run(server, workdir, n, batch=True)
        print(f"batches of 50:    {batched['per_second']:7.1f} docs/s ({batched['seconds']:.1f}s)")
        faulty_n = max(n // 2, 300)
        faulty_single = run(server, workdir, faulty_n, batch=False, faulty=True)
        faulty_batch = run(server, workdir, faulty_n, batch=True, faulty=True)
        print(
            f"1 in 5 writes fail after commit: one per document "
            f"{faulty_single['per_second']:7.1f} docs/s, batches "
            f"{faulty_batch['per_second']:7.1f} docs/s ({faulty_batch['queries']:.0f} lookup "
            "queries, 0 duplicates)"
        )
    ratio = single["per_second"] / allowed
    speedup = batched["per_second"] / single["per_second"]
    faulty_speedup = faulty_batch["per_second"] / faulty_single["per_second"]
    print(f"allowed maximum (baseline): {allowed:.1f} requests/s")
    print(f"throughput ratio: {ratio:.3f}  batch speedup: {speedup:.1f}x")
    result = {
        "benchmark": "intacct_export",
        "size": n,
        "targets": {
            "throughput_ratio": {"value": round(ratio, 3), "target": 0.9, "better": "higher"},
            "batch_speedup": {"value": round(speedup, 1), "target": 10.0, "better": "higher"},
            "faulty_batch_speedup": {
                "value": round(faulty_speedup, 1),
                "target": 5.0,
                "better": "higher",
            },
        },
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
