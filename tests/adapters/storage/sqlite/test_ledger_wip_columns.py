"""A ledger written before WIP moved to columns upgrades with its entries intact."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest

from syncstate.adapters.storage.sqlite.ledger import SQLiteLedgerStore
from syncstate.adapters.storage.sqlite.ledger_schema import REPOST_MIGRATIONS
from syncstate.errors import StorageError
from syncstate.services.repost_io import wip_from_json
from syncstate.testing.ledger_samples import MESSY_WIP


def _version_one(path: Path) -> None:
    """A file as syncstate wrote it with schema step 1: WIP as JSON text."""
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE schema_migrations (component TEXT PRIMARY KEY, version INTEGER)")
    for statement in REPOST_MIGRATIONS[0].split(";"):
        conn.execute(statement)
    conn.execute("INSERT INTO schema_migrations VALUES ('repost', 1)")
    for item in MESSY_WIP["entries"]:
        conn.execute(
            "INSERT INTO wip_entries VALUES ('acme', ?, ?, ?)",
            (item["id"], item["client"], json.dumps(item, sort_keys=True)),
        )
    for inv in MESSY_WIP["invoices"]:
        conn.execute("INSERT INTO wip_invoices VALUES ('acme', ?, ?)", (inv["id"], inv["date"]))
    conn.execute("INSERT INTO repost_settings VALUES ('acme', 'wip_period_start', '2024-03-01')")
    conn.commit()
    conn.close()


def test_json_wip_entries_become_columns_equal_to_the_interchange(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    _version_one(path)
    with pytest.raises(StorageError, match="upgrades it"):
        SQLiteLedgerStore(path, readonly=True)  # a dry run never migrates
    with SQLiteLedgerStore(path) as store:
        _, entries, _ = wip_from_json(MESSY_WIP)
        stored = store.wip_by_client("acme", store.wip_clients("acme"))
        assert stored == sorted(entries, key=lambda e: e.id)
        w2 = next(e for e in stored if e.id == "W2")
        assert (w2.write_updown, w2.clear_date) == (Decimal("50.00"), dt.date(2024, 2, 20))
        assert store.period_start("acme", "wip") == dt.date(2024, 3, 1)
    with sqlite3.connect(path) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    assert "wip_entries" not in tables and "wip_items" in tables
