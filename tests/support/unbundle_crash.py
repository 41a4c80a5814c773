"""Kill -9 trials of un-bundling: membership and export state must always agree.

Used by ``tests/adapters/storage/test_unbundle_crash.py``. One trial:

1. :func:`prepare` bundles ``clients`` usage logs (one bundle per client) in a
   fresh database (an SQLite file, or a PostgreSQL schema);
2. this file, run as a script, opens the same stores (the bundle store
   *beside* the state store) and un-bundles the bundles one call at a time;
   the test kills it with SIGKILL at a random moment;
3. :func:`disagreements` lists the bundles whose membership and state disagree
   (still a member but unlinked, or no longer a member but not unlinked).
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
from collections.abc import Iterator
from contextlib import contextmanager

from syncstate.adapters.storage.sqlite.bundles import SQLiteBundleStore
from syncstate.adapters.storage.sqlite.state import SQLiteStore
from syncstate.domain.mapping import MappingKind
from syncstate.domain.records import RecordKey
from syncstate.domain.state import ExportState
from syncstate.domain.transactions import UsageLog
from syncstate.services.bundling import BundleService

CO = "crashco"
CLIENTS = 40
DAY = dt.date(2024, 3, 1)


@contextmanager
def open_service(
    engine: str, where: str, schema: str = "", *, apart: bool = False
) -> Iterator[BundleService]:
    """A bundle service on ``engine`` (``sqlite``: file ``where``; ``postgres``: DSN
    ``where`` and ``schema``), its bundle store opened beside its state store
    (``apart``: on a connection of its own, so un-bundling takes two transactions)."""
    if engine == "sqlite":
        state = SQLiteStore(where)
        bundles = SQLiteBundleStore(where) if apart else SQLiteBundleStore.beside(state)
        try:
            yield BundleService(state, bundles, actor="crash")
        finally:
            bundles.close()
            state.close()
        return
    from syncstate.adapters.storage.postgres.bundles import PostgresBundleStore
    from syncstate.adapters.storage.postgres.state import PostgresStore

    pg = PostgresStore(where, schema=schema, max_size=2)
    pg_bundles = PostgresBundleStore.beside(pg)
    try:
        yield BundleService(pg, pg_bundles, actor="crash")
    finally:
        pg_bundles.close()
        pg.close()


def prepare(service: BundleService, clients: int) -> list[RecordKey]:
    """Bundle one usage log per client; return the bundles' record keys."""
    logs = [
        UsageLog(
            source_id=f"u{i:04d}",
            client=f"client{i:04d}",
            date=DAY,
            resource="room",
            quantity="1",
            unit_price="10.00",
            currency="USD",
        )
        for i in range(clients)
    ]
    service.store.ingest(CO, [u.to_record(CO) for u in logs], at=dt.datetime.now(dt.UTC), actor="t")
    service.set_mapping(CO, MappingKind.ITEM, "room", "I-room")
    report = service.bundle(CO)
    return [b.key for b in report.bundles]


def disagreements(service: BundleService, keys: list[RecordKey]) -> list[str]:
    """Bundles whose membership and export state disagree, with what each says."""
    live = {e.bundle for e in service.bundles.entries(CO)}
    out = []
    for key in keys:
        unlinked = service.store.get(key).state is ExportState.UNLINKED
        if (key in live) == unlinked:
            out.append(f"{key}: member={key in live} unlinked={unlinked}")
    return out


def kill_at_random(args: list[str], rng: random.Random) -> bool:
    """Run this file as the un-bundler, kill -9 it a random moment after it is ready;
    True if it was still running then."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen(
        [sys.executable, __file__, *args], stdout=subprocess.PIPE, text=True, env=env
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    time.sleep(rng.uniform(0.0, 0.15))
    killed = proc.poll() is None
    if killed:
        proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    proc.stdout.close()
    return killed


def run_trial(engine: str, where: str, schema: str, seed: int, *, apart: bool = False) -> None:
    """One trial (see the module doc); fails when membership and state disagree."""
    with open_service(engine, where, schema) as service:
        keys = prepare(service, CLIENTS)
    assert len(keys) == CLIENTS
    args = [engine, where, "--schema", schema, *(["--apart"] if apart else [])]
    killed = kill_at_random(args, random.Random(seed))
    with open_service(engine, where, schema) as service:
        assert disagreements(service, keys) == [], f"seed {seed}, killed={killed}"
        left = [e.bundle.source_id for e in service.bundles.entries(CO)]
        if left:
            service.unbundle(CO, left)
        assert service.bundles.entries(CO) == []
        assert disagreements(service, keys) == []


def main(argv: list[str] | None = None) -> int:
    """Un-bundle every live bundle of the trial database, one call each."""
    parser = argparse.ArgumentParser()
    parser.add_argument("engine", choices=["sqlite", "postgres"])
    parser.add_argument("where")
    parser.add_argument("--schema", default="")
    parser.add_argument("--apart", action="store_true")
    args = parser.parse_args(argv)
    with open_service(args.engine, args.where, args.schema, apart=args.apart) as service:
        ids = [e.bundle.source_id for e in service.bundles.entries(CO)]
        print("ready", flush=True)
        for bid in ids:
            service.unbundle(CO, [bid])
    print("done", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
