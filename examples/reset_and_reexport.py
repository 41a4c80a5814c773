"""Reset part of an export and export it again, the safe way.

A payroll run used the wrong job code for Bo's first week. The fix in the
host application is made, then the week is *reset* so it can be exported
again. A reset never touches the back end: the old documents stay there, and
the plan says so. Here the old documents are removed first with a reverse
export (``unexport``), so the re-export leaves exactly one document per record.

Run it: ``python examples/reset_and_reexport.py`` (well under a second).
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

from syncstate import (
    AcknowledgementRequired,
    DateRange,
    MemoryBackend,
    SQLiteStore,
    TimeEntry,
    apply_reset,
    export_records,
    plan_reset,
    unexport,
)

COMPANY = "acme-builders"
MONDAY = dt.date(2026, 3, 2)
NOW = dt.datetime(2026, 3, 20, 9, 0, tzinfo=dt.UTC)


def entries(job_for_bo: str) -> list[TimeEntry]:
    """Ann's and Bo's first two weeks (weekdays only)."""
    days = [MONDAY + dt.timedelta(days=d) for d in range(12) if d % 7 < 5]
    return [
        TimeEntry(
            source_id=f"{who}-{day}",
            employee=who,
            date=day,
            hours="8",
            job=job_for_bo if who == "bo" else "J-100",
        )
        for who in ("ann", "bo")
        for day in days
    ]


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = SQLiteStore(Path(tmp) / "syncstate.db")
        backend = MemoryBackend()  # any back end works the same way
        records = [e.to_record(COMPANY) for e in entries(job_for_bo="J-999")]
        store.ingest(COMPANY, records, at=NOW, actor="example")
        first = export_records(store, backend, COMPANY)
        print(
            f"first export: {first.exported} records, {len(backend.documents(COMPANY))} documents"
        )

        week_1 = DateRange(MONDAY, MONDAY + dt.timedelta(days=4))
        plan = plan_reset(store, COMPANY, week_1, ["bo"])
        print(f"reset plan: {dict(plan.per_employee)} in {week_1}")
        print(f"warning: {plan.warning}")
        try:
            apply_reset(store, plan)
        except AcknowledgementRequired:
            print("not applied without acknowledge=True")

        # Remove Bo's week-1 documents from the back end first (reverse export) ...
        reverse = unexport(store, backend, COMPANY, plan.keys, actor="example")
        print(f"reverse export removed {len(reverse.unexported)} remote documents")

        # ... or, when the back end copies were removed by hand, acknowledge a reset:
        week_2 = DateRange(MONDAY + dt.timedelta(days=7), MONDAY + dt.timedelta(days=11))
        result = apply_reset(
            store, plan_reset(store, COMPANY, week_2, ["bo"]), acknowledge=True, actor="example"
        )
        print(f"reset {result.reset} records of week 2 (their old documents stay remote)")

        fixed = [e.to_record(COMPANY) for e in entries(job_for_bo="J-200") if e.employee == "bo"]
        store.ingest(COMPANY, fixed, at=NOW, actor="example")
        again = export_records(store, backend, COMPANY)
        live = backend.documents(COMPANY, include_voided=False)
        print(
            f"re-export: {again.exported} records; the back end holds {len(live)} live documents "
            f"({len(records)} records + {result.reset} week-2 leftovers a reset does not remove)"
        )
        store.close()


if __name__ == "__main__":
    main()
