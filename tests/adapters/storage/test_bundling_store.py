"""The bundle-store kit against memory and SQLite, and what is SQLite's own."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from syncstate.adapters.storage.memory.bundles import MemoryBundleStore
from syncstate.adapters.storage.memory.state import MemoryStore
from syncstate.adapters.storage.sqlite.bundles import SQLiteBundleStore
from syncstate.adapters.storage.sqlite.state import SQLiteStore
from syncstate.domain.records import RecordKey
from syncstate.errors import SchemaVersionError
from syncstate.ports import BundleEntry
from syncstate.testing.bundle_contract import AtomicUnbundleContract, BundleStoreContract

CO = "acme"
DAY = dt.date(2024, 3, 1)


def key(kind: str, sid: str, company: str = CO) -> RecordKey:
    return RecordKey(company, kind, sid)


def entry(bid: str, client: str, *members: str, on: dt.date = DAY) -> BundleEntry:
    return BundleEntry(
        bundle=key("bundle.invoice", bid),
        client=client,
        on=on,
        members=tuple(sorted(key("usage_log", m) for m in members)),
    )


class TestMemoryBundleStore(BundleStoreContract):
    @pytest.fixture
    def bundles(self) -> Iterator[MemoryBundleStore]:
        yield MemoryBundleStore()


class TestMemoryBundleStoreBesideState(AtomicUnbundleContract):
    @pytest.fixture
    def pair(self) -> Iterator[tuple[MemoryStore, MemoryBundleStore]]:
        state = MemoryStore()
        yield state, MemoryBundleStore.beside(state)


class TestSQLiteBundleStore(BundleStoreContract):
    @pytest.fixture
    def bundles(self, tmp_path: Path) -> Iterator[SQLiteBundleStore]:
        store = SQLiteBundleStore(tmp_path / "b.db")
        yield store
        store.close()


class TestSQLiteBundleStoreBesideState(BundleStoreContract, AtomicUnbundleContract):
    @pytest.fixture
    def pair(self, tmp_path: Path) -> Iterator[tuple[SQLiteStore, SQLiteBundleStore]]:
        state = SQLiteStore(tmp_path / "s.db")
        bundles = SQLiteBundleStore.beside(state)
        yield state, bundles
        bundles.close()
        state.close()

    @pytest.fixture
    def bundles(self, pair: tuple[SQLiteStore, SQLiteBundleStore]) -> Iterator[SQLiteBundleStore]:
        yield pair[1]


def test_the_sqlite_bundle_store_shares_the_state_database(tmp_path: Path) -> None:
    state = SQLiteStore(tmp_path / "s.db")
    first = SQLiteBundleStore.beside(state)
    first.add(CO, [entry("A", "ann", "u1")])
    first.close()
    again = SQLiteBundleStore.beside(state)
    assert [e.bundle.source_id for e in again.entries(CO)] == ["A"]
    again.close()
    versions = dict(state.connection.execute("SELECT component, version FROM schema_migrations"))
    assert versions["bundles"] == 1 and "state" in versions
    state.close()
    memory = SQLiteStore(":memory:")
    shared = SQLiteBundleStore.beside(memory)
    shared.add(CO, [entry("A", "ann", "u1")])
    assert memory.connection.execute("SELECT count(*) FROM bundle_members").fetchone() == (1,)


def test_a_newer_bundles_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "b.db"
    SQLiteBundleStore(path).close()
    conn = sqlite3.connect(path)
    conn.execute("UPDATE schema_migrations SET version = 99 WHERE component = 'bundles'")
    conn.commit()
    conn.close()
    with pytest.raises(SchemaVersionError):
        SQLiteBundleStore(path)
