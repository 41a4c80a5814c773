"""Export throughput against a slow, throttled QuickBooks-like server.

The local server (``syncstate.testing.qbo_server``) answers every request after
50 ms, allows 10 requests in progress per company and 6,000 requests per
minute, enforced over one-second windows (100 per second: a longer window
would let the whole run through in its first burst and measure nothing).
So the most any client can get is ``min(100/s, 10 / 0.05 s = 200/s)`` =
100 requests per second: that is the baseline, computed in the same run.

Figures:

* ``throughput_ratio``: documents per second exported one request per document
  (the engine's pacing on, 10 workers) divided by the allowed maximum. Target >= 0.9.
* ``batch_speedup``: documents per second with ``create_batch`` (30 a request)
  divided by one-per-document. Target >= 10.
* ``unpaced_ratio`` (shown, no target): one per document with pacing off, so
  the server's 429 + ``Retry-After`` and the engine's shared throttle gate do
  the work.
* ``faulty_batch_speedup``: the same two ways with one write request in five
  failing *after* it committed (a 500 once the documents exist): an ambiguous batch
  is resolved with one lookup query for all its keys, so batching must stay at least
  5x faster than one request per document (target >= 5), with 0 duplicates.
* ``server_overhead_ms`` (shown): what the local server itself adds to a request
  (no latency configured), so the figures measure the engine, not the test server.

Every run writes through a real SQLite store and checks that each record was
exported exactly once. ``--quick`` uses 600 documents. The last line printed is
one JSON object.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

from syncstate.adapters.backends.quickbooks.client import QuickBooksBackend, QuickBooksConfig
from syncstate.adapters.backends.quickbooks.payloads import QboMapping, find_tag
from syncstate.adapters.storage.sqlite.state import SQLiteStore
from syncstate.domain.records import TimeEntry
from syncstate.domain.state import ExportState
from syncstate.services.export import ExportOptions, export_records
from syncstate.services.retry import RetryPolicy
from syncstate.testing.qbo_faults import QboFaultAnswer
from syncstate.testing.qbo_server import FaultRule, QboServer

LATENCY = 0.05
CONCURRENT = 10
PER_MINUTE = 6000
WINDOW = 1.0  # seconds over which the per-minute limit is enforced
CO = "bench"


class _Tokens:
    def access_token(self, company: str) -> str:
        return "bench-token"

    def refresh(self, company: str) -> str:
        return "bench-token"


def allowed_per_second() -> float:
    """The server's best sustained rate: rate limit or concurrency / latency."""
    return min(PER_MINUTE / 60.0, CONCURRENT / LATENCY)


def server_overhead_ms(server: QboServer, requests: int = 200) -> float:
    """Milliseconds one request costs on the local server with no latency configured."""
    saved = server.faults.latency
    server.faults.latency = 0.0
    realm = f"overhead-{uuid.uuid4().hex[:8]}"
    ident = server.add(realm, "Employee", {"DisplayName": "Overhead"})
    url = f"{server.base_url}/v3/company/{realm}/employee/{ident}"
    with httpx.Client(headers={"Authorization": "Bearer bench-token"}) as client:
        client.get(url)
        started = time.perf_counter()
        for _ in range(requests):
            client.get(url)
        seconds = time.perf_counter() - started
    server.faults.latency = saved
    return seconds / requests * 1000


def run(
    server: QboServer,
    workdir: Path,
    n: int,
    *,
    batch: bool,
    paced: bool,
    faulty: bool = False,
) -> dict[str, float]:
    """Export ``n`` time entries; return documents per second and counters."""
    realm = f"bench-{uuid.uuid4().hex[:8]}"
    server.faults.rules.clear()
    if faulty:  # one write request in five commits, then answers 500
        fault = QboFaultAnswer("3100", "InternalServerError", status=500, fault_type="SERVICE")
        server.inject(
            FaultRule(operation="batch" if batch else "write", answer=fault, after_commit=True,
                      every=5)
        )  # fmt: skip
    employee = server.add(realm, "Employee", {"DisplayName": "Bench Worker"})
    mapping = QboMapping(employees={"emp": employee})
    config = QuickBooksConfig(base_url=server.base_url, realms={CO: realm})
    throttled_before = server.stats["throttled"]
    path = workdir / f"{realm}.db"
    limits = httpx.Limits(max_connections=CONCURRENT * 2, max_keepalive_connections=CONCURRENT * 2)
    with (
        SQLiteStore(path) as store,
        httpx.Client(timeout=30.0, limits=limits) as client,
    ):
        store.ingest(
            CO,
            [
                TimeEntry(
                    source_id=f"t{i:06d}",
                    employee="emp",
                    date=dt.date(2024, 1, 1) + dt.timedelta(days=i % 300),
                    hours="2",
                ).to_record(CO)
                for i in range(n)
            ],
            at=dt.datetime.now(dt.UTC),
            actor="bench",
        )
        backend = QuickBooksBackend(tokens=_Tokens(), mapping=mapping, config=config, client=client)
        options = ExportOptions(
            concurrency=CONCURRENT,
            use_batch=batch,
            requests_per_minute=PER_MINUTE if paced else None,
            retry=RetryPolicy(attempts=20, initial=0.05, maximum=1.0),
        )
        started = time.perf_counter()
        report = export_records(store, backend, CO, options=options)
        seconds = time.perf_counter() - started
        exported = store.counts(CO)[ExportState.EXPORTED]
    server.faults.rules.clear()
    remote = server.count(realm, "TimeActivity")
    keys = {
        find_tag(str(d.get("Description", ""))) for d in server.documents(realm, "TimeActivity")
    }
    if not (report.exported == exported == remote == len(keys) == n):
        raise SystemExit(
            f"not exactly once: report {report.exported}, store {exported}, server {remote}, "
            f"distinct keys {len(keys)}, n {n}"
        )
    return {
        "seconds": seconds,
        "per_second": n / seconds,
        "retries": report.retries,
        "throttled": server.stats["throttled"] - throttled_before,
    }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="600 documents instead of 5,000")
    parser.add_argument("--documents", type=int, default=None)
    args = parser.parse_args(argv)
    n = args.documents or (600 if args.quick else 5000)
    with QboServer() as server, tempfile.TemporaryDirectory() as tmp:
        server.faults.latency = LATENCY
        server.faults.concurrency_limit = CONCURRENT
        server.faults.rate_limit = int(PER_MINUTE / 60.0 * WINDOW)
        server.faults.rate_window = WINDOW
        workdir = Path(tmp)
        allowed = allowed_per_second()
        single = run(server, workdir, n, batch=False, paced=True)
        print(
            f"one per document, paced:   {single['per_second']:7.1f} docs/s "
            f"({single['seconds']:.1f}s, {single['throttled']} throttled)"
        )
        unpaced = run(server, workdir, n, batch=False, paced=False)
        print(
            f"one per document, unpaced: {unpaced['per_second']:7.1f} docs/s "
            f"({unpaced['seconds']:.1f}s, {unpaced['throttled']} throttled, "
            f"{unpaced['retries']} retries)"
        )
        batched = run(server, workdir, n, batch=True, paced=True)
        print(
            f"batches of 30, paced:      {batched['per_second']:7.1f} docs/s "
            f"({batched['seconds']:.1f}s)"
        )
        faulty_n = max(n // 2, 300)
        faulty_single = run(server, workdir, faulty_n, batch=False, paced=True, faulty=True)
        faulty_batch = run(server, workdir, faulty_n, batch=True, paced=True, faulty=True)
        print(
            f"1 in 5 writes fail after commit: one per document "
            f"{faulty_single['per_second']:7.1f} docs/s, batches {faulty_batch['per_second']:7.1f}"
            f" docs/s (0 duplicates)"
        )
        overhead = server_overhead_ms(server)
        print(f"local server overhead: {overhead:.2f} ms per request (no latency configured)")
    ratio = single["per_second"] / allowed
    speedup = batched["per_second"] / single["per_second"]
    faulty_speedup = faulty_batch["per_second"] / faulty_single["per_second"]
    print(f"allowed maximum (baseline): {allowed:.1f} requests/s")
    print(
        f"throughput ratio: {ratio:.3f}  unpaced ratio: {unpaced['per_second'] / allowed:.3f}  "
        f"batch speedup: {speedup:.1f}x"
    )
    result = {
        "benchmark": "export_throughput",
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
        "server_overhead_ms": round(overhead, 2),
        "unpaced_ratio": round(unpaced["per_second"] / allowed, 3),
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
