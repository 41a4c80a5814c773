"""Export one week of time entries to QuickBooks Online, exactly once.

What a host application does: put its time entries in the state store, map
its employees, jobs and cost codes to QuickBooks ids, and export. The
QuickBooks here is syncstate's local QuickBooks-like server on 127.0.0.1
(no network), told to throttle once and to fail once *after* committing, so
you can see the engine retry without creating a duplicate.

Run it: ``python examples/export_week_to_quickbooks.py`` (a few seconds).
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import httpx

from syncstate import (
    DateRange,
    ExportOptions,
    QboMapping,
    QuickBooksBackend,
    QuickBooksConfig,
    SQLiteStore,
    TimeEntry,
    export_records,
    sync_results,
)
from syncstate.testing.qbo_server import QboServer

COMPANY = "acme-builders"
REALM = "9130355377"  # the QuickBooks company id of acme-builders
MONDAY = dt.date(2026, 3, 2)


class HostTokens:
    """Your application keeps the OAuth tokens; syncstate only asks for them."""

    def access_token(self, company: str) -> str:
        return "token-from-your-secret-store"

    def refresh(self, company: str) -> str:
        return "token-from-your-secret-store"


def week_of_time() -> list[TimeEntry]:
    """Two employees, five days, one job each day."""
    return [
        TimeEntry(
            source_id=f"{employee}-{MONDAY + dt.timedelta(days=day)}",
            employee=employee,
            date=MONDAY + dt.timedelta(days=day),
            hours="7.5",
            job="J-100",
            cost_code="framing",
            notes="Harbor Office",
        )
        for employee in ("ann", "bo")
        for day in range(5)
    ]


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, QboServer() as qbo, httpx.Client() as http:
        # QuickBooks already knows these people, customers and items:
        mapping = QboMapping(
            employees={
                "ann": qbo.add(REALM, "Employee", {"DisplayName": "Ann"}),
                "bo": qbo.add(REALM, "Employee", {"DisplayName": "Bo"}),
            },
            customers={"J-100": qbo.add(REALM, "Customer", {"DisplayName": "Harbor Office"})},
            items={"framing": qbo.add(REALM, "Item", {"Name": "Framing"})},
        )
        backend = QuickBooksBackend(
            tokens=HostTokens(),
            mapping=mapping,
            client=http,
            config=QuickBooksConfig(base_url=qbo.base_url, realms={COMPANY: REALM}),
        )
        store = SQLiteStore(Path(tmp) / "syncstate.db")

        entries = week_of_time()
        store.ingest(
            COMPANY,
            [e.to_record(COMPANY) for e in entries],
            at=dt.datetime.now(dt.UTC),
            actor="example",
        )

        qbo.fail_next("ThrottleExceeded", "Too many requests", status=429)
        qbo.commit_then_fail(1)  # QuickBooks saves a document, then the answer is lost
        week = DateRange(MONDAY, MONDAY + dt.timedelta(days=4))
        report = export_records(
            store,
            backend,
            COMPANY,
            date_range=week,
            options=ExportOptions(concurrency=4, use_batch=False),
        )
        print(
            f"exported {report.exported} of {len(entries)} time entries "
            f"({report.retries} retries, {len(report.failed)} failed, "
            f"{len(report.pending)} pending)"
        )
        if not report.ok:  # failed, pending (looked up on the next run) or released
            for key, reason in (*report.failed, *report.pending):
                print(f"  needs attention: {key.source_id}: {reason}")
        print(f"QuickBooks holds {qbo.count(REALM, 'TimeActivity')} TimeActivity documents")

        again = export_records(store, backend, COMPANY, date_range=week)
        print(f"exporting the same week again sends {again.exported}: exported records are hidden")

        for row in sync_results(store, COMPANY, filter="linked", limit=3).items:
            print(f"  {row.key.source_id}: {row.state.value} as QuickBooks id {row.remote_id}")
        store.close()


if __name__ == "__main__":
    main()
