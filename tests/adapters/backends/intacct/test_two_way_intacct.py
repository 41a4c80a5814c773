"""Two-way with Intacct, as the Re-Leased seed: what changed remotely shows in Sync Results.

Exported records whose Intacct document is edited or deleted there are unlinked (out of
future syncs, kept with the reason); after the cause is fixed they are relinked.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from intacct_support import backend, seed

from syncstate.adapters.storage.sqlite.state import SQLiteStore
from syncstate.domain.records import RecordKey, TimeEntry
from syncstate.domain.state import ExportState
from syncstate.services.export import ExportOptions, export_records
from syncstate.services.remote_changes import apply_remote_changes
from syncstate.services.results import relink
from syncstate.testing.intacct_server import IntacctServer

CO = "acme"


@pytest.fixture
def server() -> Iterator[IntacctServer]:
    now = [dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)]
    with IntacctServer(clock=lambda: now[0]) as running:
        running.now = now  # type: ignore[attr-defined]
        yield running


def test_edits_and_deletes_in_intacct_unlink_their_records_and_relink_brings_them_back(
    server: IntacctServer, tmp_path: Path
) -> None:
    company = seed(server)
    with httpx.Client(timeout=5.0) as client, SQLiteStore(tmp_path / "s.db") as store:
        intacct = backend(server, client, {CO: company.company_id}, company.mapping)
        entries = [
            TimeEntry(source_id=f"t{i}", employee="emp-1", date=dt.date(2026, 2, 2),
                      hours="2", notes=f"n{i}").to_record(CO)
            for i in range(4)
        ]  # fmt: skip
        store.ingest(CO, entries, at=dt.datetime(2026, 3, 1, tzinfo=dt.UTC), actor="t")
        assert export_records(store, intacct, CO, options=ExportOptions()).exported == 4
        linked = {s.key.source_id: str(s.status.remote_id) for s in store.find(CO)}
        since = dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.UTC)
        server.now[0] = dt.datetime(2026, 3, 1, 10, 0, tzinfo=dt.UTC)  # type: ignore[attr-defined]
        server.edit(company.company_id, "TIMESHEET", linked["t1"], BEGINDATE="02/03/2026")
        server.remove(company.company_id, "TIMESHEET", linked["t2"])

        changes = intacct.changes_since(CO, "time_activity", since)
        changes += intacct.deleted(CO, "time_activity", list(linked.values()))
        report = apply_remote_changes(store, changes)

        marks = {o.key.source_id: o.mark for o in report.outcomes if o.key is not None}
        assert marks == {"t1": "remote_changed", "t2": "remote_deleted"}
        states = {s.key.source_id: s.state for s in store.find(CO)}
        assert states == {"t0": ExportState.EXPORTED, "t1": ExportState.UNLINKED,
                          "t2": ExportState.UNLINKED, "t3": ExportState.EXPORTED}  # fmt: skip
        # the next export leaves unlinked records alone
        assert export_records(store, intacct, CO, options=ExportOptions()).exported == 0
        assert server.count(company.company_id, "TIMESHEET") == 3
        # the user fixed t2 in the host: relink puts it back into future syncs
        relink(store, CO, [RecordKey(CO, "time_entry", "t2")], reason="fixed")
        assert store.get(RecordKey(CO, "time_entry", "t2")).state is not ExportState.UNLINKED
