"""PostgresStore against a real server: bulk paths, concurrent claims, locks, connections."""

from __future__ import annotations

import datetime as dt
import logging
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from postgres_server import pg_dsn, pg_schema, require_postgres_driver  # noqa: F401
from syncstate.adapters.storage.sqlite.state import SQLiteStore
from syncstate.domain.records import SourceRecord
from syncstate.domain.state import Event, EventKind, ExportState, replay
from syncstate.errors import CompanyBusy, SchemaVersionError, StorageError
from syncstate.ports import StateStore
from syncstate.testing.store_contract import make_time_records

require_postgres_driver()

import psycopg  # noqa: E402

from syncstate.adapters.storage.postgres.connections import company_lock_key  # noqa: E402
from syncstate.adapters.storage.postgres.migrations import STATE_MIGRATIONS_POSTGRES  # noqa: E402
from syncstate.adapters.storage.postgres.state import PostgresStore  # noqa: E402

pytestmark = pytest.mark.postgres

T0 = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def store(pg_dsn: str, pg_schema: str) -> Iterator[PostgresStore]:  # noqa: F811
    s = PostgresStore(pg_dsn, schema=pg_schema, max_size=4)
    yield s
    s.close()


def _dead_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def _life(store: StateStore, records: list[SourceRecord]) -> None:
    """A bulk life cycle: ingest, claim all, export most, fail some, change half, reset."""
    store.ingest("acme", records, at=T0, actor="t")
    lease = T0 + dt.timedelta(minutes=5)
    claimed = store.claim("acme", worker="w", lease_until=lease, at=T0, actor="t", limit=10_000)
    events = [
        (s.key, Event.fail("no customer") if i % 7 == 0 else Event.succeed(f"R{i}", "0"))
        for i, s in enumerate(claimed)
    ]
    store.apply("acme", events, at=T0, actor="t")
    changed = [
        SourceRecord(key=r.key, on=r.on, subject=r.subject, fields={**r.data, "hours": "9"})
        if i % 2
        else r
        for i, r in enumerate(records)
    ]
    report = store.ingest("acme", changed, at=T0 + dt.timedelta(hours=1), actor="t")
    assert report.changed == len(records) // 2 and report.outdated
    outdated = store.find("acme", states=[ExportState.OUTDATED])
    store.apply(
        "acme", [(s.key, Event.of(EventKind.RESET, "again")) for s in outdated], at=T0, actor="t"
    )


def test_bulk_writes_leave_the_same_statuses_and_journals_as_sqlite(
    store: PostgresStore, tmp_path: Path
) -> None:
    records = make_time_records("acme", 300, employees=4)
    reference = SQLiteStore(tmp_path / "ref.db")
    _life(reference, records)
    _life(store, records)
    ours, theirs = store.find("acme"), reference.find("acme")
    assert [(s.record, s.status) for s in ours] == [(s.record, s.status) for s in theirs]
    assert store.counts("acme") == reference.counts("acme")
    for s in ours[::37]:
        assert store.journal(s.key) == reference.journal(s.key)
        assert replay(s.key, store.journal(s.key)) == s.status
    reference.close()


def test_concurrent_claims_from_many_stores_never_share_a_record(
    pg_dsn: str,  # noqa: F811
    pg_schema: str,  # noqa: F811
) -> None:
    stores = [PostgresStore(pg_dsn, schema=pg_schema, max_size=1) for _ in range(4)]
    stores[0].ingest("acme", make_time_records("acme", 600), at=T0, actor="t")
    lease = T0 + dt.timedelta(minutes=5)
    got: dict[int, list[Any]] = {i: [] for i in range(4)}
    start = threading.Barrier(4)

    def work(i: int) -> None:
        start.wait()
        while batch := stores[i].claim(
            "acme", worker=f"w{i}", lease_until=lease, at=T0, actor="t", limit=7
        ):
            got[i] += [s.key for s in batch]

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    every = [key for keys in got.values() for key in keys]
    assert len(every) == len(set(every)) == 600
    assert sum(1 for keys in got.values() if keys) > 1  # the work really was shared
    for s in stores:
        s.close()


def test_claims_take_over_expired_leases_only(store: PostgresStore) -> None:
    store.ingest("acme", make_time_records("acme", 10), at=T0, actor="t")
    short = T0 + dt.timedelta(seconds=30)
    dead = store.claim("acme", worker="dead", lease_until=short, at=T0, actor="t", limit=4)
    live = store.claim(
        "acme", worker="live", lease_until=T0 + dt.timedelta(hours=1), at=T0, actor="t", limit=6
    )
    later = short + dt.timedelta(seconds=1)
    taken = store.claim(
        "acme", worker="heir", lease_until=later + dt.timedelta(minutes=1), at=later, actor="t"
    )
    assert {s.key for s in taken} == {s.key for s in dead}
    assert {s.key for s in live}.isdisjoint({s.key for s in taken})


def test_company_lock_refuses_a_second_holder_and_leaves_other_companies_free(
    store: PostgresStore,
    pg_dsn: str,  # noqa: F811
    pg_schema: str,  # noqa: F811
) -> None:
    other = PostgresStore(pg_dsn, schema=pg_schema, max_size=2)
    with store.company_lock("acme"):
        with pytest.raises(CompanyBusy) as busy, other.company_lock("acme"):
            pass
        assert "acme" in str(busy.value) and "PostgreSQL session" in busy.value.holder
        with other.company_lock("bolt"):
            other.ingest("bolt", make_time_records("bolt", 2), at=T0, actor="t")
    with other.company_lock("acme"):  # released when the block ended
        pass
    other.close()


def test_a_company_lock_whose_connection_dies_is_released_and_reported(
    store: PostgresStore,
    pg_dsn: str,  # noqa: F811
    pg_schema: str,  # noqa: F811
) -> None:
    other = PostgresStore(pg_dsn, schema=pg_schema, max_size=1)
    with pytest.raises(StorageError, match="lost while held"), store.company_lock("acme"):
        with psycopg.connect(pg_dsn, autocommit=True) as admin:
            key = company_lock_key("acme")
            held = (
                "FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1 "
                "AND classid = %s::bigint::oid AND objid = %s::bigint::oid"
            )
            parts = ((key >> 32) & 0xFFFFFFFF, key & 0xFFFFFFFF)
            admin.execute("SELECT pg_terminate_backend(pid) " + held, parts)
            # termination is a signal: wait until the backend is gone and its lock with it
            deadline = time.monotonic() + 10
            while admin.execute("SELECT count(*) " + held, parts).fetchone() != (0,):
                assert time.monotonic() < deadline, "the terminated session kept its lock"
                time.sleep(0.05)
        with other.company_lock("acme"):  # the server released it
            pass
    with store.company_lock("acme"):
        pass
    other.close()


def test_a_dropped_connection_is_replaced_and_the_operation_succeeds(
    pg_dsn: str,  # noqa: F811
    pg_schema: str,  # noqa: F811
) -> None:
    named = PostgresStore(
        psycopg.conninfo.make_conninfo(pg_dsn, application_name=pg_schema), schema=pg_schema
    )
    named.ingest("acme", make_time_records("acme", 3), at=T0, actor="t")
    with psycopg.connect(pg_dsn, autocommit=True) as admin:
        killed = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
            (pg_schema,),
        ).fetchall()
    assert killed
    assert named.counts("acme")[ExportState.NOT_EXPORTED] == 3
    named.close()


def test_a_connection_factory_that_fails_at_first_is_retried(
    pg_dsn: str,  # noqa: F811
    pg_schema: str,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls = {"n": 0}
    dead = f"postgresql://nobody:s3cret@127.0.0.1:{_dead_port()}/none"

    def connect() -> psycopg.Connection[Any]:
        calls["n"] += 1
        return psycopg.connect(dead if calls["n"] <= 2 else pg_dsn, connect_timeout=2)

    with caplog.at_level(logging.WARNING):
        store = PostgresStore(connect=connect, schema=pg_schema)
        store.ingest("acme", make_time_records("acme", 2), at=T0, actor="t")
    assert len(store.find("acme")) == 2
    assert calls["n"] >= 4  # two refused, then one connection per operation
    assert "retrying PostgreSQL migrate" in caplog.text
    store.close()


def test_the_password_never_shows_in_repr_errors_or_logs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    dsn = f"postgresql://syncstate:s3cret-pw@127.0.0.1:{_dead_port()}/nowhere"
    with caplog.at_level(logging.DEBUG), pytest.raises(StorageError) as failed:
        PostgresStore(dsn, connect_timeout=0.5, attempts=2)
    assert "s3cret" not in str(failed.value)
    assert "s3cret" not in caplog.text
    assert "cannot connect" in str(failed.value)


def test_repr_masks_the_password(pg_dsn: str, pg_schema: str) -> None:  # noqa: F811
    params = psycopg.conninfo.conninfo_to_dict(pg_dsn)
    with_password = psycopg.conninfo.make_conninfo(pg_dsn, password="s3cret-pw")
    store = PostgresStore(with_password, schema=pg_schema)  # trust auth ignores it
    assert "s3cret" not in repr(store) and "password=***" in repr(store)
    assert str(params["port"]) in repr(store)
    store.close()


def test_a_newer_schema_is_refused(pg_dsn: str, pg_schema: str) -> None:  # noqa: F811
    PostgresStore(pg_dsn, schema=pg_schema).close()
    with psycopg.connect(pg_dsn, autocommit=True) as admin:
        admin.execute(f'UPDATE "{pg_schema}".schema_migrations SET version = 99')
    with pytest.raises(SchemaVersionError, match="version 99"):
        PostgresStore(pg_dsn, schema=pg_schema)


def test_stores_starting_together_migrate_once(pg_dsn: str, pg_schema: str) -> None:  # noqa: F811
    errors: list[BaseException] = []

    def open_one() -> None:
        try:
            PostgresStore(pg_dsn, schema=pg_schema, max_size=1).close()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with psycopg.connect(pg_dsn) as conn:
        [(version,)] = conn.execute(
            f'SELECT version FROM "{pg_schema}".schema_migrations WHERE component = %s',
            ("state",),
        ).fetchall()
    assert version == len(STATE_MIGRATIONS_POSTGRES)
