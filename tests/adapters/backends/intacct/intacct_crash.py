"""Crash trials against the local Intacct-like gateway: kill -9 the exporter, restart it.

Used by ``test_intacct_crash.py`` (CI: 20 trials). One trial: a fresh Intacct company
on the server (this process) and a fresh SQLite file of time entries; the exporter runs
in a subprocess (this file run as a script) and is killed with SIGKILL at a random
moment once or twice, then left to finish. Some trials make the gateway commit then
fail, drop connections, fail lookup queries or expire sessions; half use batches.
Checked: every record exported, exactly one timesheet per key, each record linked to
the timesheet that carries its key. Intacct refuses repeated control ids instead of
replaying them, so every resend after an ambiguous outcome must go through a lookup.
"""

from __future__ import annotations

import argparse
import contextlib
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
    kills: int
    starts: int
    batch: bool
    duplicates: int
    missing: int
    not_exported: int
    mislinked: int
    refused_control_ids: int
    seconds: float


def run_trial(server: Any, workdir: Path, *, seed: int, records: int = 30) -> TrialResult:
    """One trial against a started ``IntacctServer``."""
    from syncstate.adapters.storage.sqlite.state import SQLiteStore
    from syncstate.domain.records import TimeEntry
    from syncstate.domain.state import ExportState, idempotency_key

    rng = random.Random(seed)
    started = time.monotonic()
    company_id = f"CRASH-{seed}-{uuid.uuid4().hex[:6]}"
    server.add(company_id, "EMPLOYEE", {"EMPLOYEEID": "E1", "NAME": "Crash Tester"})
    db = workdir / f"trial-{seed}.db"
    with SQLiteStore(db) as store:
        entries = [
            TimeEntry(
                source_id=f"t{i:04d}",
                employee=EMPLOYEE,
                date=dt.date(2024, 1, 1) + dt.timedelta(days=i % 60),
                hours="1.25",
                notes=f"crash trial entry {i}",
            ).to_record(CO)
            for i in range(records)
        ]
        store.ingest(CO, entries, at=dt.datetime.now(dt.UTC), actor="crash-test")
    batch = rng.random() < 0.5
    kills_planned = rng.randint(1, 2)
    if rng.random() < 0.6:
        server.commit_then_fail(rng.randint(1, 3), mode=rng.choice(["500", "drop"]))
    if rng.random() < 0.3:
        server.reset_next(rng.randint(1, 2))
    if rng.random() < 0.4:
        server.fail_queries(rng.randint(1, 2), mode=rng.choice(["error", "500", "drop"]))
    if rng.random() < 0.2:
        server.expire_sessions()
    refused_before = server.stats["duplicate_control_ids"]
    command = [sys.executable, __file__, "--db", str(db), "--url", server.endpoint_url,
               "--company-id", company_id] + (["--batch"] if batch else [])  # fmt: skip
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    kills = starts = 0
    while True:
        starts += 1
        child = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )
        assert child.stdout is not None and child.stderr is not None
        if kills < kills_planned:
            if child.stdout.readline().strip() == "ready":
                time.sleep(rng.uniform(0.0, 0.25))
                if child.poll() is None:
                    os.kill(child.pid, signal.SIGKILL)
                    kills += 1
            child.wait()
            if child.returncode == 0:
                break
            if child.returncode != -signal.SIGKILL:
                raise RuntimeError(f"exporter failed (seed {seed}): {child.stderr.read()}")
            child.stdout.close()
            child.stderr.close()
            continue
        _out, err = child.communicate(timeout=120)
        if child.returncode != 0:
            raise RuntimeError(f"exporter failed (seed {seed}): {err}")
        break
    server.faults = type(server.faults)()
    sheets = server.records(company_id, "TIMESHEET")
    keys = Counter(str(s.get("DESCRIPTION", "")) for s in sheets)
    by_id = {str(s["RECORDNO"]): str(s.get("DESCRIPTION", "")) for s in sheets}
    with SQLiteStore(db) as store:
        stored = store.find(CO)
    sent_with = {
        s.key: idempotency_key(s.key, s.status.generation, s.status.revision - 1)
        for s in stored
        if s.status.revision > 0
    }
    return TrialResult(
        seed=seed,
        kills=kills,
        starts=starts,
        batch=batch,
        duplicates=sum(n - 1 for n in keys.values() if n > 1),
        missing=len(set(sent_with.values()) - set(keys)) + records - len(sent_with),
        not_exported=sum(1 for s in stored if s.state is not ExportState.EXPORTED),
        mislinked=sum(
            1
            for s in stored
            if s.status.remote_id is None or by_id.get(s.status.remote_id) != sent_with.get(s.key)
        ),
        refused_control_ids=server.stats["duplicate_control_ids"] - refused_before,
        seconds=time.monotonic() - started,
    )


def _child(argv: list[str]) -> int:
    """The exporter: export until every record is exported (waiting out dead leases)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--url", required=True)
    parser.add_argument("--company-id", required=True)
    parser.add_argument("--batch", action="store_true")
    args = parser.parse_args(argv)

    import httpx

    from syncstate.adapters.backends.intacct import (
        IntacctBackend,
        IntacctConfig,
        IntacctCredentials,
        IntacctMapping,
        StaticCredentials,
    )
    from syncstate.adapters.storage.sqlite.state import SQLiteStore
    from syncstate.domain.state import ExportState
    from syncstate.errors import BackendUnavailable
    from syncstate.services.export import ExportOptions, export_records
    from syncstate.services.retry import RetryPolicy

    creds = IntacctCredentials(
        sender_id="crash", sender_password="crash-pw", user_id="u", user_password="u-pw",
        company_id=args.company_id,
    )  # fmt: skip
    options = ExportOptions(
        concurrency=4,
        use_batch=args.batch,
        lease=dt.timedelta(seconds=0.25),
        claim_size=8,
        flush_size=5,
        flush_interval=0.02,
        retry=RetryPolicy(attempts=8, initial=0.01, maximum=0.1),
    )
    with httpx.Client(timeout=5.0) as client, SQLiteStore(args.db) as store:
        backend = IntacctBackend(
            credentials=StaticCredentials({CO: creds}),
            mapping=IntacctMapping(employees={EMPLOYEE: "E1"}),
            config=IntacctConfig(endpoint_url=args.url, max_batch=10),
            client=client,
        )
        print("ready", flush=True)
        for _ in range(100):
            with contextlib.suppress(BackendUnavailable):  # the breaker: try again later
                export_records(store, backend, CO, actor="crash-child", options=options)
            counts = store.counts(CO)
            if counts[ExportState.EXPORTED] == sum(counts.values()):
                return 0
            time.sleep(0.05)  # records a killed run left in flight wait out their lease
        print(f"not done: {counts}", file=sys.stderr)
    return 3


if __name__ == "__main__":
    sys.exit(_child(sys.argv[1:]))
