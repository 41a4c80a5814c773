"""``syncstate demo``: a guided tour of syncstate on a store and a back end of your choice.

It generates a small construction company (employees, three weeks of time
records), starts a local server of the back end on 127.0.0.1 (slow, dropping a
connection and failing once after committing), exports two weeks with retries,
shows what is exported and hidden, overwrites a changed record, unlinks a
problem record, resets part of the export (printing the warning), reverse-exports
one employee's week, exports again, and prints a summary. Seconds, no network.

Stores: ``--store sqlite`` (default, a file in ``--dir`` or a temporary folder) or
``--store postgres --dsn DSN`` (or ``$SYNCSTATE_DSN``: every store in the demo's own
schema, ``syncstate_demo`` or ``--schema``, dropped and made again on every run).
Back ends: ``quickbooks`` (default), ``intacct``, ``xero`` (local servers), ``sie``
(SIE 4I files, checked as ``syncstate sie check`` does) and ``beancount`` (a ledger).
A step the back end cannot do is skipped with one line naming what it lacks.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import random
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any, TextIO

from syncstate.cli._common import add_json_argument, emit_json
from syncstate.cli.demo_beancount import beancount_tour
from syncstate.cli.demo_books import BACKENDS, DemoBooks, Tokens, open_books
from syncstate.cli.demo_bundling import bundling_tour
from syncstate.cli.demo_mirror import mirror_tour
from syncstate.cli.demo_sie import sie_check
from syncstate.cli.demo_stores import DEMO_SCHEMA, DSN_ENV, DemoStores, open_demo_stores
from syncstate.cli.demo_text import Say, and_more, plain, printer, table
from syncstate.domain.records import RecordKey, TimeEntry
from syncstate.domain.state import HIDDEN, ExportState
from syncstate.periods import DateRange
from syncstate.ports import Capability, StateStore, SystemClock
from syncstate.services.export import ExportOptions, ExportReport, export_records, unexport
from syncstate.services.reset import apply_reset, plan_reset
from syncstate.services.results import sync_results, unlink

__all__ = ["register", "run"]

COMPANY = "acme-builders"
EMPLOYEES = ("ann", "bo", "chen", "dara", "eli", "zoe")  # zoe is not mapped in the back end
JOBS = {"J-100": "Harbor Office", "J-200": "Elm Street School", "J-300": "Mill Bridge"}
COST_CODES = ("framing", "electrical", "concrete")
FIRST_MONDAY = dt.date(2026, 3, 2)


class _Lines:
    """Progress as plain lines: start, every retry note, and the end."""

    def __init__(self, say: Say, company: str) -> None:
        self.say, self.done, self.total, self.label = say, 0, 0, ""
        self.company = company

    def start(self, total: int, label: str) -> None:
        self.total, self.done, self.label = total, 0, label
        self.say(f"  {label}: {total} records")

    def advance(self, n: int = 1, *, outcome: str = "") -> None:
        self.done += n
        if self.total and (self.done == self.total or self.done % 10 == 0):
            bar = "#" * (20 * self.done // self.total)
            self.say(f"  [{bar:<20}] {self.done}/{self.total}")

    def note(self, message: str) -> None:
        self.say(f"  ! {plain(message, company=self.company)}")

    def finish(self) -> None:
        return None


def register(sub: Any) -> None:
    """Add the ``demo`` command."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "demo",
        help="run the guided demo (SQLite or PostgreSQL; a local QuickBooks, Intacct or Xero "
        "server, SIE files or a Beancount ledger)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--dir",
        type=Path,
        default=None,
        help="folder for the demo's files: the SQLite database, SIE files, the ledger "
        "(default: a temporary folder)",
    )
    parser.add_argument("--seed", type=int, default=7, help="random seed of the generated data")
    parser.add_argument(
        "--backend",
        choices=[*BACKENDS, "beancount"],
        default="quickbooks",
        help="quickbooks (default), intacct, xero: a local server of that back end; sie: SIE 4I "
        "files, beancount: a ledger file, both left in --dir (or a temporary folder that stays)",
    )
    parser.add_argument(
        "--store",
        choices=["sqlite", "postgres"],
        default="sqlite",
        help="sqlite (default): a database file in --dir; postgres: a schema of --dsn",
    )
    parser.add_argument(
        "--dsn",
        default=None,
        help=f"PostgreSQL connection string or URL of --store postgres (default: ${DSN_ENV})",
    )
    parser.add_argument(
        "--schema",
        default=None,
        help=f"the demo's own PostgreSQL schema, dropped and made again on every run "
        f"(default: {DEMO_SCHEMA}); a schema the demo did not make is refused",
    )
    add_json_argument(parser)
    parser.set_defaults(func=run)


def generate_time_entries(seed: int) -> list[TimeEntry]:
    """Three weeks of weekday time entries for every employee, deterministic per seed."""
    rng = random.Random(seed)
    entries = []
    for week in range(3):
        for weekday in range(5):
            day = FIRST_MONDAY + dt.timedelta(days=7 * week + weekday)
            for employee in EMPLOYEES:
                job = rng.choice(sorted(JOBS))
                entries.append(
                    TimeEntry(
                        source_id=f"{employee}-{day.isoformat()}",
                        employee=employee,
                        date=day,
                        hours=rng.choice(["6", "7.5", "8", "8.5", "9"]),
                        job=job,
                        cost_code=rng.choice(COST_CODES),
                        notes=f"{JOBS[job]}, day {weekday + 1}",
                    )
                )
    return entries


def _exportable(store: StateStore, span: DateRange) -> tuple[int, int]:
    found = store.find(COMPANY, date_range=span)
    hidden = sum(1 for s in found if s.state in HIDDEN)
    return len(found) - hidden, hidden


def _report_line(report: ExportReport) -> str:
    return (
        f"  exported {report.exported}, updated {report.updated}, "
        f"failed {len(report.failed)}, retries {report.retries}, "
        f"{report.duration:.2f} s"
    )


def _failures(report: ExportReport, say: Say) -> None:
    """The failed records, grouped by reason: one line per reason, a few ids each."""
    reasons: dict[str, list[str]] = {}
    for key, message in sorted(report.failed, key=lambda f: f[0].source_id):
        reasons.setdefault(plain(message, company=COMPANY), []).append(key.source_id)
    for reason, ids in reasons.items():
        shown = ", ".join(ids[:3])
        more = and_more(min(len(ids), 3), len(ids))
        say(f"  {len(ids)} failed: {reason}")
        say(f"    {shown} {more}".rstrip())


def _names() -> dict[str, dict[str, str]]:
    """The demo company as the back end knows it: employees (not zoe), jobs, cost codes."""
    return {
        "employees": {e: e.title() for e in EMPLOYEES if e != "zoe"},
        "jobs": dict(JOBS),
        "cost_codes": {c: c.title() for c in COST_CODES},
    }


def run(args: argparse.Namespace) -> int:
    """Run the demo; print the tour (or, with ``--json``, only the summary)."""
    out: TextIO = io.StringIO() if args.json else sys.stdout  # --json: only the summary
    say = printer(out)
    # the SIE files and the Beancount ledger are the point of those tours: they stay
    leaves_files = args.backend in ("sie", "beancount")
    with tempfile.TemporaryDirectory(prefix="syncstate-demo-") as tmp:
        if args.dir is not None:
            folder, kept = args.dir, True
        elif leaves_files:
            folder, kept = Path(tempfile.mkdtemp(prefix="syncstate-demo-")), True
        else:
            folder, kept = Path(tmp), False
        folder.mkdir(parents=True, exist_ok=True)
        with open_demo_stores(args, folder, kept=kept, company=COMPANY) as stores:
            entries = generate_time_entries(args.seed)
            if args.backend == "beancount":
                if args.store != "sqlite":
                    say(stores.where)
                summary = beancount_tour(folder, COMPANY, entries, FIRST_MONDAY, say,
                                         stores.state)  # fmt: skip
                status = 0
            else:
                with open_books(args.backend, COMPANY, folder, _names()) as books:
                    summary, status = _tour(stores, books, folder, entries, say)
            summary = {**summary, **stores.summary}
    if args.json:
        emit_json(summary)
    return status


def _tour(
    stores: DemoStores, books: DemoBooks, folder: Path, entries: list[TimeEntry], say: Say
) -> tuple[dict[str, Any], int]:
    store, backend, clock = stores.state, books.backend, SystemClock()
    progress = _Lines(say, COMPANY)
    options = ExportOptions(concurrency=4, use_batch=books.key == "sie", renderers=books.renderers)
    say(stores.where)
    say(f"{books.where}\n")

    report = store.ingest(
        COMPANY, [e.to_record(COMPANY) for e in entries], at=clock.now(), actor="demo"
    )
    say(
        f"1. Ingested {report.added} time records of {len(EMPLOYEES)} employees "
        f"({FIRST_MONDAY} .. {entries[-1].date}) for company {COMPANY}."
    )

    weeks_1_2 = DateRange(FIRST_MONDAY, FIRST_MONDAY + dt.timedelta(days=11))
    target = "SIE files" if books.key == "sie" else books.title
    say(f"\n2. Export {weeks_1_2} to {target}. {books.faults()}")
    first = export_records(
        store, backend, COMPANY, date_range=weeks_1_2, progress=progress, options=options,
        clock=clock,
    )  # fmt: skip
    say(_report_line(first))
    say(f"  {books.holds(books.count())} for {first.exported} exported records: none twice.")
    _failures(first, say)

    can, hidden = _exportable(store, weeks_1_2)
    say(
        f"\n3. The same range again: {hidden} records are exported and hidden, "
        f"{can} are still exportable (the failed ones, kept for retry)."
    )
    failed = sync_results(store, COMPANY, filter="failed", limit=3)
    say("  The sync results view, filtered to the failed records:")
    table(
        say,
        ["source_id", "state", "message"],
        [[r.key.source_id, r.state.value, plain(r.message or "", company=COMPANY)]
         for r in failed.items],
        total=len(store.find(COMPANY, states=[ExportState.FAILED])),
        limit=3,
    )  # fmt: skip

    _correction(store, books, entries, options, say)

    zoe = [s.key for s in store.find(COMPANY, subjects=["zoe"], states=[ExportState.FAILED])]
    unlink(store, COMPANY, zoe, reason="zoe is a subcontractor, not on payroll", actor="demo")
    say(
        f"\n5. Unlinked zoe's {len(zoe)} failed records: skipped by every future "
        "export, kept with their history."
    )

    week_1 = DateRange(FIRST_MONDAY, FIRST_MONDAY + dt.timedelta(days=4))
    plan = plan_reset(store, COMPANY, week_1, ["chen", "dara"])
    say(f"\n6. Reset week 1 ({week_1}) for chen and dara:")
    table(say, ["employee", "records"], plan.per_employee)
    say(f"  WARNING: {plan.warning}")
    result = apply_reset(store, plan, acknowledge=True, actor="demo")
    say(
        f"  {result.reset} records are 'not exported' again, in a new export "
        "generation; nothing stays selected."
    )

    bo_week_1 = [s.key for s in store.find(COMPANY, subjects=["bo"], date_range=week_1)]
    if books.lacks(Capability.DELETE) and books.lacks(Capability.VOID):
        say(
            f"\n7. Reverse export of bo's week 1: skipped: the {books.title} back end can "
            "neither delete nor void a document (it lacks the 'delete' and 'void' capabilities)."
        )
    else:
        reverse = unexport(store, backend, COMPANY, bo_week_1, actor="demo", clock=clock,
                           renderers=dict(books.renderers))  # fmt: skip
        say(
            f"\n7. Reverse export of bo's week 1: {len(reverse.unexported)} {books.reversal} "
            "(a reset leaves them there), and the records are exportable again."
        )

    say(
        "\n8. Export everything exportable (week 3, the records reset in step 6 and the "
        "ones reverse-exported in step 7):"
    )
    final = export_records(store, backend, COMPANY, progress=progress, options=options,
                           clock=clock)  # fmt: skip
    say(_report_line(final))

    counts = store.counts(COMPANY)
    per_employee: dict[str, Counter[str]] = {e: Counter() for e in EMPLOYEES}
    for stored in store.find(COMPANY):
        per_employee[stored.record.subject][stored.state.value] += 1
    states = ["exported", "failed", "unlinked", "not_exported", "outdated"]
    say("\nSummary: records per employee and export state")
    table(
        say,
        ["employee", *states],
        [[e, *(per_employee[e][s] for s in states)] for e in EMPLOYEES],
        limit=len(EMPLOYEES),
    )
    documents, live = books.count(), counts[ExportState.EXPORTED]
    say(
        f"\n{books.holds(documents)}: one for each of the "
        f"{live} exported records, plus {documents - live} from before the reset of "
        "chen's and dara's week 1, which a reset does not remove (the warning said so;"
        " bo's week 1 was reverse-exported instead, so it has no leftovers)."
    )
    gap = books.bundling_gap()
    if gap:
        say(
            "\n9. Bundling usage logs and payments of a second company into sales receipts, "
            f"invoices and payments: skipped: {gap}."
        )
        bundling: dict[str, Any] = {"skipped": gap}
    else:
        assert books.client is not None  # a back end on a local server has a client
        bundling = bundling_tour(store, stores.bundles, books.server, books.client, Tokens(),
                                 say, clock.now())  # fmt: skip
    mirror = mirror_tour(stores.mirror, folder, say)
    summary: dict[str, Any] = {
        "backend": books.key,
        "bundling": bundling,
        "mirror": mirror,
        "company": COMPANY,
        "states": {s.value: n for s, n in counts.items()},
        "per_employee": {e: dict(c) for e, c in per_employee.items()},
        "documents": documents,
        "first_export": first.summary(),
        "final_export": final.summary(),
    }
    if books.key == "quickbooks":
        summary["quickbooks_documents"] = documents
    status = 0
    if books.folder is not None:
        summary["sie"], status = sie_check(books.folder, say)
    say(f"\n{stores.ending}")
    return summary, status


def _correction(
    store: StateStore,
    books: DemoBooks,
    entries: list[TimeEntry],
    options: ExportOptions,
    say: Say,
) -> None:
    """Step 4: ann corrects a record; the export overwrites (or reverses and re-exports) it."""
    clock = SystemClock()
    changed = next(e for e in entries if e.employee == "ann")
    edited = TimeEntry(
        source_id=changed.source_id, employee="ann", date=changed.date, hours="10",
        job=changed.job, cost_code=changed.cost_code, notes=changed.notes + " (corrected)",
    )  # fmt: skip
    store.ingest(COMPANY, [edited.to_record(COMPANY)], at=clock.now(), actor="demo")
    before = books.count()
    key = RecordKey(COMPANY, TimeEntry.KIND, changed.source_id)
    state = store.get(key).state.value
    if books.lacks(Capability.UPDATE):
        say(
            f"\n4. Ann corrects {changed.source_id} to 10 h: the record is {state}. No "
            f"overwrite: the {books.title} back end cannot change an exported document (it "
            "lacks the 'update' capability), so the document is reversed and exported again."
        )
        undone = unexport(store, books.backend, COMPANY, [key], actor="demo", clock=clock,
                          renderers=dict(books.renderers))  # fmt: skip
        again = export_records(
            store, books.backend, COMPANY, keys=[key], options=options, clock=clock
        )
        say(
            f"  reversed {len(undone.unexported)}, exported {again.exported} again; documents "
            f"before {before}, after {books.count()}"
        )
        return
    say(
        f"\n4. Ann corrects {changed.source_id} to 10 h: the record is "
        f"{state}; exporting overwrites the same document."
    )
    again = export_records(store, books.backend, COMPANY, keys=[key], options=options,
                           clock=clock)  # fmt: skip
    # QuickBooks counts versions (SyncToken); other back ends' version stamps say little
    version = store.get(key).status.remote_version if books.key == "quickbooks" else None
    say(
        f"  updated {again.updated}; documents before {before}, after {books.count()}"
        + (f"; version {version}" if version is not None else "")
    )
