"""Export throughput to Xero (local server, Xero's limits) and to SIE 4I files.

Xero allows 60 calls a minute and 5 in progress per organisation. The local server
(``syncstate.testing.xero_server``) enforces both, with the minute compressed into one
second (60 calls per rolling second: a real minute would make the run take an hour and
measure nothing new) and 50 ms per request; so the most any client can get is
``min(60/s, 5 / 0.05 s = 100/s)`` = 60 requests per second: the baseline, computed in the
same run.

Figures:

* ``xero_throughput_ratio``: documents per second exported one request per document (the
  engine paced to Xero's limit, 5 workers) divided by the allowed maximum. Target >= 0.9.
* ``xero_batch_speedup``: documents per second with ``create_batch`` (50 a request,
  ``summarizeErrors=false``) divided by one per document. Target >= 10.
* ``sie_batch_speedup``: vouchers per second written as one file per batch divided by one
  file per document (each file written atomically: temporary file, fsync, rename).
  Target >= 10.

Every run writes through a real SQLite store and checks that each record was exported
exactly once. ``--quick`` uses 300 documents (1,200 otherwise). The last line printed is
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
from collections import Counter
from decimal import Decimal
from pathlib import Path

import httpx

from syncstate.adapters.backends.sie.export_backend import SieExportBackend
from syncstate.adapters.backends.sie.export_vouchers import SieExportMapping, key_in_text
from syncstate.adapters.backends.sie.parser import read_sie
from syncstate.adapters.backends.xero import XeroBackend, XeroConfig, XeroMapping
from syncstate.adapters.storage.sqlite.state import SQLiteStore
from syncstate.domain.records import TimeEntry
from syncstate.domain.state import ExportState
from syncstate.ports import AccountingBackend, Document, DocumentLine, StoredRecord
from syncstate.services.export import ExportOptions, export_records
from syncstate.services.retry import RetryPolicy
from syncstate.testing.xero_server import XeroServer

LATENCY = 0.05
CONCURRENT = 5  # Xero: calls in progress per organisation
PER_MINUTE = 60  # Xero: calls per minute per organisation
WINDOW = 1.0  # the local server's "minute", in seconds
CO = "bench"


class _Tokens:
    def access_token(self, company: str) -> str:
        return "bench-token"

    def refresh(self, company: str) -> str:
        return "bench-token"


def bill(stored: StoredRecord) -> Document:
    """A time entry as an invoice of two hours at 100."""
    entry = TimeEntry.from_record(stored.record)
    line = DocumentLine(
        item="work", quantity=Decimal(2), unit_price=Decimal(100), amount=Decimal(200)
    )
    return Document(
        kind="invoice",
        source=stored.key,
        date=entry.date,
        party="client",
        lines=(line,),
        memo=f"bench {entry.source_id}",
    )


def allowed_per_second() -> float:
    """The server's best sustained rate: the limit, or concurrency over latency."""
    return min(PER_MINUTE / WINDOW, CONCURRENT / LATENCY)


def export(backend: AccountingBackend, path: Path, n: int, options: ExportOptions) -> float:
    """Export ``n`` records through a fresh SQLite store; return the seconds it took."""
    with SQLiteStore(path) as store:
        store.ingest(
            CO,
            [
                TimeEntry(
                    source_id=f"t{i:06d}",
                    employee="e",
                    date=dt.date(2026, 1, 1) + dt.timedelta(days=i % 300),
                    hours="2",
                ).to_record(CO)
                for i in range(n)
            ],
            at=dt.datetime.now(dt.UTC),
            actor="bench",
        )
        started = time.perf_counter()
        report = export_records(store, backend, CO, options=options)
        seconds = time.perf_counter() - started
        exported = store.counts(CO)[ExportState.EXPORTED]
    if not report.exported == exported == n:
        raise SystemExit(f"not all exported: report {report.exported}, store {exported}, n {n}")
    return seconds


def run_xero(server: XeroServer, workdir: Path, n: int, *, batch: bool) -> float:
    """Documents per second to the local Xero server; checks each invoice exists once."""
    tenant = f"bench-{uuid.uuid4().hex[:8]}"
    server.forget_keys()
    contact = server.add(tenant, "Contacts", {"Name": "Bench Client"})
    server.add(tenant, "Items", {"Code": "WORK", "Name": "Work"})
    config = XeroConfig(base_url=server.base_url, tenants={CO: tenant})
    mapping = XeroMapping(contacts={"client": contact}, items={"work": "WORK"})
    limits = httpx.Limits(max_connections=CONCURRENT * 2, max_keepalive_connections=CONCURRENT * 2)
    with httpx.Client(timeout=30.0, limits=limits) as client:
        backend = XeroBackend(tokens=_Tokens(), mapping=mapping, config=config, client=client)
        options = ExportOptions(
            concurrency=backend.concurrency_limit,
            use_batch=batch,
            # the engine's pacing, at 97% of the limit (the server's minute is WINDOW seconds)
            requests_per_minute=0.97 * PER_MINUTE * 60.0 / WINDOW,
            retry=RetryPolicy(attempts=20, initial=0.05, maximum=1.0),
            renderers={"time_entry": bill},
        )
        seconds = export(backend, workdir / f"{tenant}.db", n, options)
    references = Counter(str(d["Reference"]) for d in server.documents(tenant, "Invoices"))
    if len(references) != n or set(references.values()) != {1}:
        raise SystemExit(f"not exactly once: {len(references)} keys for {n} records")
    return n / seconds


def run_sie(workdir: Path, n: int, *, batch: bool) -> float:
    """Vouchers per second written to SIE files; checks each voucher is written once."""
    folder = workdir / f"sie-{uuid.uuid4().hex[:8]}"
    backend = SieExportBackend(folder, mapping=SieExportMapping(accounts={"work": "3010"}))
    options = ExportOptions(
        use_batch=batch, concurrency=4, claim_size=500, renderers={"time_entry": bill}
    )
    seconds = export(backend, workdir / f"{folder.name}.db", n, options)
    keys = Counter(
        key_in_text(v.text)
        for path in (folder / CO).glob("*.si")
        for v in read_sie(path).document.vouchers
    )
    if len(keys) != n or set(keys.values()) != {1}:
        raise SystemExit(f"not exactly once: {len(keys)} voucher keys for {n} records")
    return n / seconds


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="300 documents instead of 1,200")
    parser.add_argument("--documents", type=int, default=None)
    args = parser.parse_args(argv)
    n = args.documents or (300 if args.quick else 1200)
    with XeroServer() as server, tempfile.TemporaryDirectory() as tmp:
        server.faults.latency = LATENCY
        server.faults.concurrent_limit = CONCURRENT
        server.faults.minute_limit = PER_MINUTE
        server.faults.minute_window = WINDOW
        server.faults.day_limit = None  # n documents would spend a real day's budget
        workdir = Path(tmp)
        allowed = allowed_per_second()
        single = run_xero(server, workdir, n, batch=False)
        throttled = {k: v for k, v in server.stats.items() if k.startswith("throttled_")}
        batched = run_xero(server, workdir, n, batch=True)
        print(f"Xero, one per document, paced: {single:7.1f} docs/s ({throttled} throttled)")
        print(f"Xero, batches of 50, paced:    {batched:7.1f} docs/s")
        sie_single = run_sie(workdir, n, batch=False)
        sie_batched = run_sie(workdir, n, batch=True)
        print(f"SIE, one file per document:    {sie_single:7.1f} vouchers/s")
        print(f"SIE, one file per batch:       {sie_batched:7.1f} vouchers/s")
    ratio = single / allowed
    print(f"allowed maximum (baseline): {allowed:.1f} requests/s; throughput ratio {ratio:.3f}")
    result = {
        "benchmark": "xero_sie_export",
        "size": n,
        "targets": {
            "xero_throughput_ratio": {"value": round(ratio, 3), "target": 0.9, "better": "higher"},
            "xero_batch_speedup": {
                "value": round(batched / single, 1),
                "target": 10.0,
                "better": "higher",
            },
            "sie_batch_speedup": {
                "value": round(sie_batched / sie_single, 1),
                "target": 10.0,
                "better": "higher",
            },
        },
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
