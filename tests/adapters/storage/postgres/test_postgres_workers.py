"""Four worker processes export one company through PostgreSQL to the local QuickBooks server.

Each worker is a separate OS process running the export engine in a loop (as a
host's worker service would) against one shared :class:`PostgresStore`. One is
killed with SIGKILL while it holds claims; the others take its records over
once its lease expires. Every record ends up in QuickBooks exactly once.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

SUPPORT = Path(__file__).resolve().parents[3] / "support"
COMPANY = "acme"
TOTAL = 2000
LEASE = dt.timedelta(seconds=1.5)
EMPLOYEES = 4


class _Tokens:
    def access_token(self, company: str) -> str:
        return "worker-token"

    def refresh(self, company: str) -> str:
        return "worker-token"


def worker_main(dsn: str, schema: str, base_url: str, realm: str, mapping: str, name: str) -> int:
    """One worker process: export until every record of the company is exported."""
    import httpx

    from syncstate.adapters.backends.quickbooks.client import QuickBooksBackend, QuickBooksConfig
    from syncstate.adapters.backends.quickbooks.payloads import QboMapping
    from syncstate.adapters.storage.postgres.state import PostgresStore
    from syncstate.domain.state import ExportState
    from syncstate.services.export import ExportOptions, export_records

    store = PostgresStore(dsn, schema=schema, max_size=2)
    config = QuickBooksConfig(base_url=base_url, realms={COMPANY: realm}, max_batch=10)
    options = ExportOptions(
        lease=LEASE,
        worker=name,
        concurrency=1,
        claim_size=10,
        flush_size=10,
        flush_interval=0.1,
    )
    exported = 0
    deadline = time.monotonic() + 90
    with httpx.Client(timeout=10.0) as client:
        backend = QuickBooksBackend(
            tokens=_Tokens(),
            mapping=QboMapping.from_dict(json.loads(mapping)),
            config=config,
            client=client,
        )
        print("ready", flush=True)
        sys.stdin.readline()  # all workers start together
        while store.counts(COMPANY)[ExportState.EXPORTED] < TOTAL:
            if time.monotonic() > deadline:
                print(json.dumps({"worker": name, "error": "deadline"}), flush=True)
                return 1
            report = export_records(store, backend, COMPANY, actor=name, options=options)
            exported += report.exported
            time.sleep(0.1)
    print(json.dumps({"worker": name, "exported": exported}), flush=True)
    store.close()
    return 0


if __name__ == "__main__":
    sys.exit(worker_main(*sys.argv[1:]))


from postgres_server import pg_dsn, pg_schema, require_postgres_driver  # noqa: E402, F401

require_postgres_driver()

import psycopg  # noqa: E402

from syncstate.adapters.storage.postgres.state import PostgresStore  # noqa: E402
from syncstate.domain.state import ExportState  # noqa: E402
from syncstate.testing.qbo_server import QboServer  # noqa: E402
from syncstate.testing.store_contract import make_time_records  # noqa: E402

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def _snapshot(conn: psycopg.Connection[Any], schema: str) -> tuple[int, int]:
    """(records in flight under w0, records exported), read without any cache."""
    [(held, done)] = conn.execute(
        f"SELECT count(*) FILTER (WHERE state = 'in_flight' AND worker = 'w0'), "
        f"count(*) FILTER (WHERE state = 'exported') FROM \"{schema}\".records"
    ).fetchall()
    return int(held), int(done)


def test_four_workers_export_each_record_once_and_finish_the_work_of_a_killed_one(
    pg_dsn: str,  # noqa: F811
    pg_schema: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    store = PostgresStore(pg_dsn, schema=pg_schema)
    records = make_time_records(COMPANY, TOTAL, employees=EMPLOYEES)
    store.ingest(COMPANY, records, at=dt.datetime.now(dt.UTC), actor="test")
    with QboServer() as server:
        realm = f"workers-{uuid.uuid4().hex[:8]}"
        mapping = {
            "employees": {
                f"emp{i}": server.add(realm, "Employee", {"DisplayName": f"Employee {i}"})
                for i in range(EMPLOYEES)
            },
            "customers": {"J-1": server.add(realm, "Customer", {"DisplayName": "Job One"})},
        }
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SUPPORT), *sys.path])}
        workers = {
            name: subprocess.Popen(
                [
                    sys.executable,
                    __file__,
                    pg_dsn,
                    pg_schema,
                    server.base_url,
                    realm,
                    json.dumps(mapping),
                    name,
                ],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=(tmp_path / f"{name}.log").open("w"),
                text=True,
                env=env,
            )
            for name in ("w0", "w1", "w2", "w3")
        }
        try:
            for proc in workers.values():  # wait until every worker is ready, then start them
                assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
            for proc in workers.values():
                assert proc.stdin is not None
                proc.stdin.write("go\n")
                proc.stdin.flush()
            victim = workers["w0"]
            deadline = time.monotonic() + 60
            with psycopg.connect(pg_dsn, autocommit=True) as watch:
                while _snapshot(watch, pg_schema)[0] == 0:  # wait until w0 holds claims
                    assert victim.poll() is None, (tmp_path / "w0.log").read_text()
                    assert time.monotonic() < deadline, "worker w0 never claimed anything"
                    time.sleep(0.005)
                victim.send_signal(signal.SIGKILL)
                victim.wait()
                orphaned, exported_at_kill = _snapshot(watch, pg_schema)
            results = {}
            for name, proc in workers.items():
                if proc is victim:
                    continue
                out, _ = proc.communicate(timeout=120)
                log = (tmp_path / f"{name}.log").read_text()[-3000:]
                assert proc.returncode == 0, f"{name} failed:\n{out}\n{log}"
                results[name] = json.loads(out.strip().splitlines()[-1])
        finally:
            for proc in workers.values():
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
        documents = server.documents(realm, "TimeActivity")

    assert victim.returncode == -signal.SIGKILL
    assert orphaned > 0, "w0 was killed while holding no claims: the test proved nothing"
    assert exported_at_kill < TOTAL // 2, "w0 was killed after most of the work was done"
    counts = store.counts(COMPANY)
    assert counts[ExportState.EXPORTED] == TOTAL
    stored = store.find(COMPANY)
    # each record exactly once remotely: one document per record, none twice
    assert len(documents) == TOTAL
    remote_ids = Counter(s.status.remote_id for s in stored)
    assert len(remote_ids) == TOTAL and {d["Id"] for d in documents} == set(remote_ids)
    # w0's orphaned records were finished by the others after its lease ran out
    takeovers = 0
    for s in stored:
        claims = [e for e in store.journal(s.key) if e.event.kind.value == "claim"]
        if len(claims) > 1 and claims[0].event.worker == "w0":
            takeovers += 1
            assert claims[-1].event.worker != "w0"
            assert claims[-1].at >= claims[0].event.lease_until
    assert takeovers >= orphaned
    assert sum(1 for r in results.values() if r["exported"]) >= 2  # the work was shared
    store.close()
