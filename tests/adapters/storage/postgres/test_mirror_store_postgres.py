"""The mirror-store kit against PostgreSQL (a real server), and what is its own:
the company lock dies with its session, and a crashed load leaves the live year."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator

import pytest

from postgres_server import pg_dsn, pg_schema, require_postgres_driver  # noqa: F401
from syncstate.testing.mirror_contract import MirrorStoreContract

require_postgres_driver()

from syncstate.adapters.storage.postgres.mirror import PostgresMirrorStore  # noqa: E402

pytestmark = pytest.mark.postgres


class TestPostgresMirrorStore(MirrorStoreContract):
    locks_expire_by_age = False

    @pytest.fixture
    def mirror(self, pg_dsn: str, pg_schema: str) -> Iterator[PostgresMirrorStore]:  # noqa: F811
        store = PostgresMirrorStore(pg_dsn, schema=pg_schema, max_size=4)
        yield store
        store.close()


_HOLDER = """
import sys, time
from syncstate.adapters.storage.postgres.mirror import PostgresMirrorStore
import datetime as dt
store = PostgresMirrorStore(sys.argv[1], schema=sys.argv[2], max_size=2)
ok = store.try_lock("acme", holder="child", at=dt.datetime.now(dt.UTC),
                    stale_after=dt.timedelta(seconds=1))
print("locked" if ok else "refused", flush=True)
time.sleep(60)
"""


def test_the_company_lock_is_released_when_its_holder_is_killed(
    pg_dsn: str,  # noqa: F811
    pg_schema: str,  # noqa: F811
) -> None:
    import datetime as dt
    import time

    import psycopg

    store = PostgresMirrorStore(pg_dsn, schema=pg_schema, max_size=3)
    child = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, pg_dsn, pg_schema],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "locked"
        later = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)  # age does not matter
        assert not store.try_lock("acme", holder="me", at=later, stale_after=dt.timedelta(0))
        assert (store.lock_holder("acme") or "").startswith("PostgreSQL session")
        elsewhere = PostgresMirrorStore(pg_dsn, schema=f"{pg_schema}_b", max_size=1)
        try:  # another schema in the same database is another deployment: not blocked
            assert elsewhere.try_lock("acme", holder="x", at=later, stale_after=dt.timedelta(0))
        finally:
            elsewhere.close()
            with psycopg.connect(pg_dsn, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{pg_schema}_b" CASCADE')
        assert store.try_lock("globex", holder="me", at=later, stale_after=dt.timedelta(0))
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
        deadline = time.monotonic() + 10
        while not store.try_lock("acme", holder="me", at=later, stale_after=dt.timedelta(0)):
            assert time.monotonic() < deadline, "the lock outlived its session"
            time.sleep(0.05)
        assert store.lock_holder("acme") == "me"
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        if child.stdout is not None:
            child.stdout.close()
        store.close()


def test_a_reload_neither_waits_for_nor_disturbs_a_reader_of_the_old_year(
    pg_dsn: str,  # noqa: F811
    pg_schema: str,  # noqa: F811
) -> None:
    import datetime as dt
    import threading

    import psycopg

    from syncstate.adapters.storage.postgres.mirror_read import live_generation, read_generation
    from syncstate.testing.mirror_contract import Y2024, make_year

    store = PostgresMirrorStore(pg_dsn, schema=pg_schema, max_size=4)
    now = dt.datetime.now(dt.UTC)
    old = make_year(Y2024, 40)
    store.swap_in("acme", {Y2024: store.stage_year("acme", old, source="s", at=now)}, [], at=now)
    with psycopg.connect(pg_dsn) as reader:
        reader.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        reader.execute(f'SET LOCAL search_path TO "{pg_schema}"')
        generation = live_generation(reader, "acme", Y2024)  # the reader's snapshot starts
        assert generation is not None
        new = make_year(Y2024, 60, tag="new")
        done = threading.Event()

        def reload() -> None:
            staged = store.stage_year("acme", new, source="s", at=now)
            store.swap_in("acme", {Y2024: staged}, [], at=now)  # also drops the old rows
            done.set()

        worker = threading.Thread(target=reload)
        worker.start()
        assert done.wait(timeout=20), "the reload waited for a reader"
        worker.join()
        assert read_generation(reader, Y2024, generation) == old  # still whole
    assert store.read_year("acme", Y2024) == new
    store.close()
