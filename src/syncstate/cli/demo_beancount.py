"""``syncstate demo --backend beancount``: the time-export tour into a Beancount ledger.

The same generated company exports its time records as labour-cost transactions
into ``<dir>/acme-builders.beancount``: exported records are hidden from the next
run, a corrected record overwrites its transaction in place, a reset re-exports
under a new key, and a reverse export removes transactions. Beancount's own
loader checks the ledger after every step; the file is left for ``bean-check``,
``bean-query`` or Fava.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

from syncstate.domain.records import TimeEntry
from syncstate.periods import DateRange
from syncstate.plugins import open_backend
from syncstate.ports import StateStore, SystemClock
from syncstate.services.export import export_records, unexport
from syncstate.services.reset import apply_reset, plan_reset

__all__ = ["beancount_tour"]

#: hourly cost of each employee (a labour expense against payroll)
COST_RATES = {"ann": "48.00", "bo": "42.00", "chen": "45.00", "dara": "40.00", "eli": "38.00",
              "zoe": "35.00"}  # fmt: skip


def beancount_tour(
    folder: Path,
    company: str,
    entries: list[TimeEntry],
    first_monday: dt.date,
    say: Callable[[str], object],
    store: StateStore,
) -> dict[str, Any]:
    """Run the Beancount tour in ``folder`` on ``store`` (the caller closes it)."""
    clock = SystemClock()
    backend: Any = open_backend(
        "beancount", path=folder, mappings={"derive": True, "cost_rates": COST_RATES}
    )
    ledger = backend.ledger_path(company)

    def checked() -> str:
        errors = backend.check(company)
        return "no errors" if not errors else f"{len(errors)} errors: {errors[0]}"

    store.ingest(company, [e.to_record(company) for e in entries], at=clock.now(), actor="demo")
    say(f"syncstate demo on Beancount: ledger {ledger}")
    say(f"1. Ingested {len(entries)} time records of company {company}.")
    weeks_1_2 = DateRange(first_monday, first_monday + dt.timedelta(days=11))
    first = export_records(store, backend, company, date_range=weeks_1_2, clock=clock)
    say(f"2. Exported {weeks_1_2}: {first.exported} transactions; Beancount: {checked()}")
    again = export_records(store, backend, company, date_range=weeks_1_2, clock=clock)
    say(f"3. The same range again: {again.exported} exported (all hidden now).")

    changed = entries[0]
    fixed = TimeEntry(
        source_id=changed.source_id,
        employee=changed.employee,
        date=changed.date,
        hours="10",
        job=changed.job,
        cost_code=changed.cost_code,
        notes=changed.notes + " (corrected)",
    )
    store.ingest(company, [fixed.to_record(company)], at=clock.now(), actor="demo")
    overwrite = export_records(store, backend, company, date_range=weeks_1_2, clock=clock)
    say(
        f"4. {changed.source_id} corrected to 10 h: {overwrite.updated} transaction "
        f"rewritten in place; Beancount: {checked()}"
    )

    week_1 = DateRange(first_monday, first_monday + dt.timedelta(days=4))
    bo = [s.key for s in store.find(company, subjects=["bo"], date_range=week_1)]
    removed = unexport(store, backend, company, bo, actor="demo", clock=clock)
    plan = plan_reset(store, company, week_1, ["chen"])
    apply_reset(store, plan, acknowledge=True, actor="demo")
    say(
        f"5. Reverse export of bo's week 1 ({len(removed.unexported)} transactions "
        f"removed) and reset of chen's week 1 ({plan.total} records)."
    )
    say(f"   WARNING: {plan.warning}")
    final = export_records(store, backend, company, clock=clock)
    say(f"6. Exported everything exportable: {final.exported}; Beancount: {checked()}")
    text = ledger.read_text(encoding="utf-8")
    say(f"\nOpen it with Beancount's tools: bean-check {ledger}")
    return {
        "ledger": str(ledger),
        "transactions": text.count(" * "),
        "exported": {s.value: n for s, n in store.counts(company).items()}["exported"],
        "beancount_errors": len(backend.check(company)),
    }
