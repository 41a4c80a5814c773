"""The bundle stores (memory and SQLite) keep associations the same way."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from syncstate.adapters.storage.memory.bundles import MemoryBundleStore
from syncstate.adapters.storage.sqlite.bundles import SQLiteBundleStore
from syncstate.adapters.storage.sqlite.state import SQLiteStore
from syncstate.domain.records import RecordKey
from syncstate.errors import InputError, SchemaVersionError
from syncstate.ports import BundleEntry, BundleStore

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


@pytest.fixture(params=["memory", "sqlite"])
def bundles(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BundleStore]:
    if request.param == "memory":
        yield MemoryBundleStore()
    else:
        store = SQLiteBundleStore(tmp_path / "b.db")
        yield store
        store.close()


def test_a_transaction_is_in_at_most_one_bundle_and_a_conflict_adds_nothing(
    bundles: BundleStore,
) -> None:
    bundles.add(CO, [entry("A", "ann", "u1", "u2")])
    with pytest.raises(InputError, match=r"usage_log/u2 is already in bundle"):
        bundles.add(CO, [entry("B", "bob", "u3"), entry("C", "ann", "u2")])
    assert [e.bundle.source_id for e in bundles.entries(CO)] == ["A"]
    bundles.add(CO, [entry("A", "ann", "u1", "u2")])  # identical: a no-op
    assert bundles.bundle_of(CO, [key("usage_log", "u2"), key("usage_log", "u9")]) == {
        key("usage_log", "u2"): key("bundle.invoice", "A")
    }


def test_unbundle_removes_the_bundle_and_every_association_at_once(bundles: BundleStore) -> None:
    bundles.add(CO, [entry("A", "ann", "u1", "u2"), entry("B", "bob", "u3")])
    removed = bundles.remove(CO, [key("bundle.invoice", "A"), key("bundle.invoice", "nope")])
    assert [e.bundle.source_id for e in removed] == ["A"]
    assert removed[0].members == (key("usage_log", "u1"), key("usage_log", "u2"))
    assert bundles.bundle_of(CO, [key("usage_log", "u1")]) == {}
    bundles.add(CO, [entry("C", "ann", "u1")])  # free to bundle again
    assert [e.bundle.source_id for e in bundles.entries(CO)] == ["C", "B"]


def test_entries_are_paged_in_a_stable_order_and_scoped_to_one_company(
    bundles: BundleStore,
) -> None:
    bundles.add(
        CO,
        [
            entry("Z", "bob", "u1", on=DAY),
            entry("Y", "ann", "u2", on=DAY + dt.timedelta(days=1)),
            entry("X", "ann", "u3", on=DAY),
        ],
    )
    bundles.add(
        "other",
        [
            BundleEntry(
                bundle=key("bundle.invoice", "Q", "other"),
                client="ann",
                on=DAY,
                members=(key("usage_log", "u1", "other"),),
            )
        ],
    )
    order = [e.bundle.source_id for e in bundles.entries(CO)]
    assert order == ["X", "Y", "Z"]
    assert [e.bundle.source_id for e in bundles.entries(CO, offset=1, limit=1)] == ["Y"]
    assert [e.bundle.source_id for e in bundles.entries(CO, clients=["bob"])] == ["Z"]
    with pytest.raises(InputError, match="does not belong"):
        bundles.add(
            CO,
            [
                BundleEntry(
                    bundle=key("bundle.invoice", "W", "other"),
                    client="a",
                    on=DAY,
                    members=(key("usage_log", "u9", "other"),),
                )
            ],
        )


def test_mappings_are_added_replaced_and_deleted(bundles: BundleStore) -> None:
    bundles.set_mappings(CO, [("customer", "ann", "C1"), ("item", "room", "I1")])
    bundles.set_mappings(CO, [("customer", "ann", "C2"), ("item", "room", "")])
    assert bundles.mappings(CO) == [("customer", "ann", "C2")]
    assert bundles.mappings("other") == []


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
