"""Crash trials: an exporter killed with SIGKILL at random moments, restarted until done.

Used by ``tests/services/test_export_crash.py`` (CI: 20+ trials) and by
``benchmarks/export_soak.py`` (200+ trials). One trial:

1. a fresh realm on the local QuickBooks-like server (this process) and a
   fresh SQLite file with ``records`` time entries;
2. start the exporter in a subprocess (this file run as a script); once it
   says it is about to export, wait a random moment and ``kill -9`` it;
   repeat ``kills`` times, then let the last run finish;
3. check: every record is ``exported`` locally, the server holds exactly one
   TimeActivity per record, and each record links the document that carries
   its key.

Some trials also make the server commit-then-fail or drop connections, and half
of them use batches, so kills land in every phase: claim, send, retry, lookup,
confirm.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import attrs

CO = "crashco"
EMPLOYEE = "emp-1"


@attrs.frozen(kw_only=True)
class TrialResult:
    """What one trial saw."""

    seed: int
    records: int
    kills: int
    starts: int
    batch: bool
    duplicates: int
    missing: int
    not_exported: int
    mislinked: int
    seconds: float
    #: outcomes reported pending (with a reason) by the runs that finished
    pending: int = 0
    #: targeted faults injected (lookup failures, throttles, refusals, drops)
    faults: int = 0

    @property
    def ok(self) -> bool:
        return not (self.duplicates or self.missing or self.not_exported or self.mislinked)


def make_server() -> Any:
    """The local QBO-like server the trials export to (it drops half-sent requests)."""
    from syncstate.testing.qbo_server import QboServer

    return QboServer()


def _seed_store(path: Path, records: int) -> None:
    from syncstate.adapters.storage.sqlite.state import SQLiteStore
    from syncstate.domain.records import TimeEntry

    with SQLiteStore(path) as store:
        store.ingest(
            CO,
            [
                TimeEntry(
                    source_id=f"t{i:04d}",
                    employee=EMPLOYEE,
                    date=dt.date(2024, 1, 1) + dt.timedelta(days=i % 60),
                    hours="1.25",
                    notes=f"crash trial entry {i}",
                ).to_record(CO)
                for i in range(records)
            ],
            at=dt.datetime.now(dt.UTC),
            actor="crash-test",
        )


def run_trial(
    server: object, workdir: Path, *, seed: int, records: int = 30, kill: bool = True
) -> TrialResult:
    """Run one crash trial against a started ``QboServer``; return what it found.

    ``kill=False`` runs the same export once, undisturbed (the baseline).
    """
    from syncstate.adapters.backends.quickbooks.payloads import find_tag
    from syncstate.adapters.storage.sqlite.state import SQLiteStore
    from syncstate.domain.state import ExportState, idempotency_key

    rng = random.Random(seed)
    started = time.monotonic()
    realm = f"crash-{seed}-{uuid.uuid4().hex[:6]}"
    employee = server.add(realm, "Employee", {"DisplayName": "Crash Tester"})  # type: ignore[attr-defined]
    db = workdir / f"trial-{seed}.db"
    _seed_store(db, records)
    batch = rng.random() < 0.5
    kills_planned = rng.randint(1, 2) if kill else 0
    faults = server.faults  # type: ignore[attr-defined]
    if kill and rng.random() < 0.5:
        server.commit_then_fail(rng.randint(1, 3), mode=rng.choice(["500", "drop"]))  # type: ignore[attr-defined]
    if kill and rng.random() < 0.3:
        server.reset_next(rng.randint(1, 2))  # type: ignore[attr-defined]
    injected = _inject_fault_mix(server, rng) if kill and rng.random() < 0.5 else 0
    refuse_rate = rng.choice([0.0, 0.0, 0.05, 0.15]) if kill else 0.0
    command = [
        sys.executable,
        __file__,
        "--db",
        str(db),
        "--url",
        server.base_url,  # type: ignore[attr-defined]
        "--realm",
        realm,
        "--employee",
        employee,
        "--seed",
        str(seed),
        "--refuse-rate",
        str(refuse_rate),
    ]
    if batch:
        command.append("--batch")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    kills = starts = pending = 0
    while True:
        starts += 1
        child = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )
        assert child.stdout is not None
        if kills < kills_planned:
            line = child.stdout.readline()  # "ready": imports done, about to export
            if line.strip() == "ready":
                time.sleep(rng.uniform(0.0, 0.25))
                if child.poll() is None:
                    os.kill(child.pid, signal.SIGKILL)
                    kills += 1
            child.wait()
            if child.returncode == 0:
                break
            if child.returncode != -signal.SIGKILL:
                raise RuntimeError(f"exporter failed (seed {seed}): {child.stderr.read()}")  # type: ignore[union-attr]
            child.stdout.close()
            child.stderr.close()  # type: ignore[union-attr]
            continue
        out, err = child.communicate(timeout=120)
        if child.returncode != 0:
            raise RuntimeError(f"exporter failed (seed {seed}): {err}")
        pending += _pending_seen(out)
        break
    faults.commit_then_fail = 0
    faults.reset_next = 0
    faults.rules.clear()
    documents = server.documents(realm, "TimeActivity")  # type: ignore[attr-defined]
    tags = Counter(find_tag(str(d.get("Description", ""))) for d in documents)
    by_id = {str(d["Id"]): find_tag(str(d.get("Description", ""))) for d in documents}
    with SQLiteStore(db) as store:
        stored = store.find(CO)
    not_exported = sum(1 for s in stored if s.state is not ExportState.EXPORTED)
    # the key a record was exported with: its generation, the revision before the bump
    sent_with = {
        s.key: idempotency_key(s.key, s.status.generation, s.status.revision - 1)
        for s in stored
        if s.status.revision > 0
    }
    mislinked = sum(
        1
        for s in stored
        if s.status.remote_id is None or by_id.get(s.status.remote_id) != sent_with.get(s.key)
    )
    return TrialResult(
        seed=seed,
        records=records,
        kills=kills,
        starts=starts,
        batch=batch,
        duplicates=sum(n - 1 for n in tags.values() if n > 1),
        missing=len(set(sent_with.values()) - set(tags)) + records - len(sent_with),
        not_exported=not_exported,
        mislinked=mislinked,
        seconds=time.monotonic() - started,
        pending=pending,
        faults=injected,
    )


def _inject_fault_mix(server: Any, rng: random.Random) -> int:
    """One to three targeted faults: failing lookups, throttles, refusals, drops."""
    from syncstate.testing.qbo_faults import QboFaultAnswer
    from syncstate.testing.qbo_rules import FaultRule

    mix = [
        lambda: FaultRule(
            operation="query",
            answer=QboFaultAnswer("4000", "Error parsing query", "QueryParserError"),
            times=rng.randint(1, 3),
        ),
        lambda: FaultRule(
            operation="query",
            answer=QboFaultAnswer("3100", "InternalServerError", status=500, fault_type="SERVICE"),
            times=rng.randint(1, 3),
        ),
        lambda: FaultRule(
            answer=QboFaultAnswer("3001", "ThrottleExceeded", status=429, fault_type="SERVICE"),
            every=rng.randint(3, 7),
            times=rng.randint(1, 4),
        ),
        lambda: FaultRule(
            operation=rng.choice(["write", "batch"]),
            answer=QboFaultAnswer("2050", "Invalid string", "refused once"),
            times=1,
        ),
        lambda: FaultRule(
            operation=rng.choice(["write", "batch"]),
            drop=True,
            after_commit=True,
            every=rng.randint(2, 5),
            times=rng.randint(1, 3),
        ),
    ]
    chosen = [rng.choice(mix)() for _ in range(rng.randint(1, 3))]
    for rule in chosen:
        server.inject(rule)
    return len(chosen)


def _pending_seen(out: str) -> int:
    for line in out.splitlines():
        if line.startswith("pending "):
            return int(line.split()[1])
    return 0


def clean_run_seconds(server: object, workdir: Path, *, records: int = 30) -> float:
    """Seconds one undisturbed export (process start included) takes: the baseline."""
    return run_trial(server, workdir, seed=0, records=records, kill=False).seconds


def _child(argv: list[str]) -> int:
    """The exporter: export until every record is exported (waiting out dead leases)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--url", required=True)
    parser.add_argument("--realm", required=True)
    parser.add_argument("--employee", required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch", action="store_true")
    parser.add_argument("--refuse-rate", type=float, default=0.0)
    args = parser.parse_args(argv)

    import httpx

    from syncstate.adapters.backends.quickbooks.client import QuickBooksBackend, QuickBooksConfig
    from syncstate.adapters.backends.quickbooks.payloads import QboMapping
    from syncstate.adapters.storage.sqlite.state import SQLiteStore
    from syncstate.domain.state import ExportState
    from syncstate.errors import BackendUnavailable
    from syncstate.services.export import ExportOptions, export_records
    from syncstate.services.retry import RetryPolicy

    class Tokens:
        def access_token(self, company: str) -> str:
            return "crash-token"

        def refresh(self, company: str) -> str:
            return "crash-token"

    config = QuickBooksConfig(base_url=args.url, realms={CO: args.realm})
    mapping = QboMapping(employees={EMPLOYEE: args.employee})
    options = ExportOptions(
        concurrency=4,
        use_batch=args.batch,
        lease=dt.timedelta(seconds=0.25),
        claim_size=8,
        flush_size=5,
        flush_interval=0.02,
        retry=RetryPolicy(attempts=8, initial=0.01, maximum=0.1),
    )
    refusing = random.Random(args.seed)

    class Refusing(httpx.HTTPTransport):
        """The network edge: some connections are refused (never sent)."""

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            if refusing.random() < args.refuse_rate:
                raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
            return super().handle_request(request)

    pending = 0
    transport = Refusing()
    with httpx.Client(timeout=5.0, transport=transport) as client, SQLiteStore(args.db) as store:
        backend = QuickBooksBackend(tokens=Tokens(), mapping=mapping, config=config, client=client)
        print("ready", flush=True)
        report = None
        for _ in range(100):
            try:
                report = export_records(store, backend, CO, actor="crash-child", options=options)
            except BackendUnavailable as exc:  # the breaker: try again a moment later
                report = exc.report
            pending += len(report.pending) if report else 0
            if report and any(not reason for _key, reason in report.pending):
                print("a pending record without a reason", file=sys.stderr)
                return 4
            counts = store.counts(CO)
            if counts[ExportState.EXPORTED] == sum(counts.values()):
                print(f"pending {pending}", flush=True)
                return 0
            time.sleep(0.05)  # records a killed run left in flight wait out their lease
        print(f"not done: {counts}", file=sys.stderr)
        for row in report.to_records() if report else []:
            if row["outcome"] != "exported":
                print(row, file=sys.stderr)
    return 3


if __name__ == "__main__":
    sys.exit(_child(sys.argv[1:]))
