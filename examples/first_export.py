"""Your first export: the smallest complete use of syncstate in a host application.

Records go into a state store, an export sends the ones not exported yet, and
the next export sends nothing again. Only the public API (``from syncstate
import ...``); the memory back end stands in for QuickBooks, Beancount or a
back end of your own.

Run it: ``python examples/first_export.py``.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

from syncstate import SQLiteStore, TimeEntry, export_records, open_backend, sync_results

COMPANY = "acme"  # every call names the company (tenant) it works on


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        store = SQLiteStore(Path(folder) / "syncstate.db")  # your app keeps this file
        backend = open_backend("memory")  # or "quickbooks", "beancount", a plug-in

        # 1. Hand syncstate your records (again whenever they change: it is idempotent).
        entries = [
            TimeEntry(source_id="t1", employee="ann", date=dt.date(2026, 3, 2), hours="7.5",
                      job="J-100"),
            TimeEntry(source_id="t2", employee="ann", date=dt.date(2026, 3, 3), hours="8",
                      job="J-100"),
            TimeEntry(source_id="t3", employee="bo", date=dt.date(2026, 3, 2), hours="6",
                      job="J-200"),
        ]  # fmt: skip
        added = store.ingest(
            COMPANY,
            [e.to_record(COMPANY) for e in entries],
            at=dt.datetime.now(dt.UTC),
            actor="my-app",
        )
        print(f"ingested {added.added} records")

        # 2. Export: each record is sent once, with an idempotency key.
        report = export_records(store, backend, COMPANY)
        print(f"first export: {report.exported} exported, {len(report.failed)} failed")
        if not report.ok:  # check ok, not only failed: records may be pending or released
            print(f"not done: {len(report.pending)} pending, {report.released} released")

        # 3. Exported records are hidden from the next export.
        again = export_records(store, backend, COMPANY)
        print(f"second export: {again.exported} exported")

        # 4. The sync results view: what is linked to which remote document.
        for row in sync_results(store, COMPANY).items:
            print(f"  {row.key.source_id} {row.state.value} remote id {row.remote_id}")
        store.close()


if __name__ == "__main__":
    main()
