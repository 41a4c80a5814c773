"""``syncstate demo``: a guided tour on the embedded SQLite store.

It generates a small construction company (employees, three weeks of time
records), starts a local QuickBooks-like server on 127.0.0.1 (slow, throttling,
and failing once after committing), exports two weeks with progress and retries,
shows what is exported and hidden, overwrites a changed record, unlinks a
problem record, resets part of the export (printing the warning), reverse-exports
one employee's week, exports again, and prints a summary. Seconds, no network.
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

import httpx

from syncstate.adapters.backends.quickbooks.client import QuickBooksBackend, QuickBooksConfig
from syncstate.adapters.backends.quickbooks.payloads import QboMapping
from syncstate.adapters.storage.sqlite.state import SQLiteStore
from syncstate.cli._common import add_json_argument, emit_json
from syncstate.cli.demo_beancount import beancount_tour
from syncstate.cli.demo_bundling import bundling_tour
from syncstate.cli.demo_mirror import mirror_tour
from syncstate.cli.demo_text import Say, and_more, plain, printer, table
from syncstate.domain.records import RecordKey, TimeEntry
from syncstate.domain.state import HIDDEN, ExportState
from syncstate.periods import DateRange
from syncstate.ports import StateStore, SystemClock
from syncstate.services.export import ExportOptions, ExportReport, export_records, unexport
from syncstate.services.reset import apply_reset, plan_reset
from syncstate.services.results import sync_results, unlink
from syncstate.testing.qbo_server import QboServer

__all__ = ["register", "run"]

COMPANY = "acme-builders"
EMPLOYEES = ("ann", "bo", "chen", "dara", "eli", "zoe")  # zoe is not mapped in QuickBooks
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


class _Tokens:
    """The host's OAuth tokens; the demo's local server accepts any."""

    def access_token(self, company: str) -> str:
        return "demo-access-token"

    def refresh(self, company: str) -> str:
        return "demo-access-token"


def register(sub: Any) -> None:
    """Add the ``demo`` command."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "demo",
        help="run the guided demo (SQLite, local QuickBooks-like server)",
        description=__doc__,
    )
    parser.add_argument(
        "--dir",
        type=Path,
        default=None,
        help="folder for the demo database (default: a temporary folder)",
    )
    parser.add_argument("--seed", type=int, default=7, help="random seed of the generated data")
    parser.add_argument(
        "--backend",
        choices=["quickbooks", "beancount"],
        default="quickbooks",
        help="quickbooks: a local QuickBooks-like server (default); beancount: a ledger file "
        "left in --dir for Beancount's tools",
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


def _ending(db: Path, kept: bool) -> str:
    if kept:
        return (
            f"Done. The database stays in {db.parent}; look around with\n"
            f"  syncstate status --db {db} --company {COMPANY}\n"
            f"  syncstate results --db {db} --company {COMPANY} --filter unlinked"
        )
    return (
        "Done. The temporary folder is removed now; run `syncstate demo --dir DIR` to keep "
        "the database and look around with `syncstate status` and `syncstate results`."
    )


def _where(db: Path, kept: bool) -> str:
    if kept:
        return f"syncstate demo: SQLite database {db} (kept after the demo)"
    return (
        f"syncstate demo: SQLite database {db}\n"
        "(in a temporary folder, removed at the end; `syncstate demo --dir DIR` keeps it)"
    )


def run(args: argparse.Namespace) -> int:
    """Run the demo; print the tour (or, with ``--json``, only the summary)."""
    out: TextIO = io.StringIO() if args.json else sys.stdout  # --json: only the summary
    if args.backend == "beancount":
        folder = args.dir or Path(tempfile.mkdtemp(prefix="syncstate-demo-"))
        folder.mkdir(parents=True, exist_ok=True)
        summary = beancount_tour(
            folder, COMPANY, generate_time_entries(args.seed), FIRST_MONDAY, printer(out),
        )  # fmt: skip
    elif args.dir is None:
        with tempfile.TemporaryDirectory(prefix="syncstate-demo-") as tmp:
            summary = _tour(Path(tmp), args.seed, out, kept=False)
    else:
        args.dir.mkdir(parents=True, exist_ok=True)
        summary = _tour(args.dir, args.seed, out, kept=True)
    if args.json:
        emit_json(summary)
    return 0


def _tour(folder: Path, seed: int, out: Any, *, kept: bool) -> dict[str, Any]:
    say = printer(out)

    db = folder / "syncstate.db"
    if db.exists():
        db.unlink()
    clock = SystemClock()
    with QboServer() as server, httpx.Client(timeout=10.0) as client:
        realm = "9130355377"
        mapping = QboMapping(
            employees={
                e: server.add(realm, "Employee", {"DisplayName": e.title()})
                for e in EMPLOYEES
                if e != "zoe"
            },
            customers={
                j: server.add(realm, "Customer", {"DisplayName": n}) for j, n in JOBS.items()
            },
            items={c: server.add(realm, "Item", {"Name": c.title()}) for c in COST_CODES},
        )
        backend = QuickBooksBackend(
            tokens=_Tokens(),
            mapping=mapping,
            client=client,
            config=QuickBooksConfig(base_url=server.base_url, realms={COMPANY: realm}),
        )
        store = SQLiteStore(db)
        progress = _Lines(say, COMPANY)
        options = ExportOptions(concurrency=4, use_batch=False)
        try:
            say(_where(db, kept))
            say(f"local QuickBooks-like server at {server.base_url} (realm {realm})\n")

            entries = generate_time_entries(seed)
            report = store.ingest(
                COMPANY, [e.to_record(COMPANY) for e in entries], at=clock.now(), actor="demo"
            )
            say(
                f"1. Ingested {report.added} time records of {len(EMPLOYEES)} employees "
                f"({FIRST_MONDAY} .. {entries[-1].date}) for company {COMPANY}."
            )

            weeks_1_2 = DateRange(FIRST_MONDAY, FIRST_MONDAY + dt.timedelta(days=11))
            say(
                f"\n2. Export {weeks_1_2} to QuickBooks. The server is slow (20 ms), "
                "throttles once (429), drops one connection, and fails once AFTER committing."
            )
            server.faults.latency = 0.02
            server.fail_next("ThrottleExceeded", "Too many requests", status=429)
            server.reset_next(1)
            server.commit_then_fail(1)
            first = export_records(
                store,
                backend,
                COMPANY,
                date_range=weeks_1_2,
                progress=progress,
                options=options,
                clock=clock,
            )
            say(_report_line(first))
            say(
                f"  QuickBooks now holds {server.count(realm, 'TimeActivity')} TimeActivity "
                f"documents for {first.exported} exported records: none twice."
            )
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
                [
                    [r.key.source_id, r.state.value, plain(r.message or "", company=COMPANY)]
                    for r in failed.items
                ],
                total=len(store.find(COMPANY, states=[ExportState.FAILED])),
                limit=3,
            )

            changed = next(e for e in entries if e.employee == "ann")
            edited = TimeEntry(
                source_id=changed.source_id,
                employee="ann",
                date=changed.date,
                hours="10",
                job=changed.job,
                cost_code=changed.cost_code,
                notes=changed.notes + " (corrected)",
            )
            store.ingest(COMPANY, [edited.to_record(COMPANY)], at=clock.now(), actor="demo")
            before = server.count(realm, "TimeActivity")
            key = RecordKey(COMPANY, TimeEntry.KIND, changed.source_id)
            say(
                f"\n4. Ann corrects {changed.source_id} to 10 h: the record is "
                f"{store.get(key).state.value}; exporting overwrites the same document."
            )
            again = export_records(
                store, backend, COMPANY, keys=[key], options=options, clock=clock
            )
            say(
                f"  updated {again.updated}; documents before {before}, after "
                f"{server.count(realm, 'TimeActivity')}; version "
                f"{store.get(key).status.remote_version}"
            )

            zoe = [
                s.key for s in store.find(COMPANY, subjects=["zoe"], states=[ExportState.FAILED])
            ]
            unlink(
                store, COMPANY, zoe, reason="zoe is a subcontractor, not on payroll", actor="demo"
            )
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
            reverse = unexport(store, backend, COMPANY, bo_week_1, actor="demo", clock=clock)
            say(
                f"\n7. Reverse export of bo's week 1: {len(reverse.unexported)} QuickBooks "
                "documents removed (a reset leaves them there), and the records are "
                "exportable again."
            )

            say(
                "\n8. Export everything exportable (week 3, the records reset in step 6 and the "
                "ones reverse-exported in step 7):"
            )
            final = export_records(
                store, backend, COMPANY, progress=progress, options=options, clock=clock
            )
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
            documents = server.count(realm, "TimeActivity")
            live = counts[ExportState.EXPORTED]
            say(
                f"\nQuickBooks holds {documents} TimeActivity documents: one for each of the "
                f"{live} exported records, plus {documents - live} from before the reset of "
                "chen's and dara's week 1, which a reset does not remove (the warning said so;"
                " bo's week 1 was reverse-exported instead, so it has no leftovers)."
            )
            bundling = bundling_tour(store, server, client, _Tokens(), say, clock.now())
            mirror = mirror_tour(db, folder, say)
            say(f"\n{_ending(db, kept)}")
            return {
                "bundling": bundling,
                "mirror": mirror,
                "company": COMPANY,
                "database": str(db),
                "states": {s.value: n for s, n in counts.items()},
                "per_employee": {e: dict(c) for e, c in per_employee.items()},
                "quickbooks_documents": documents,
                "first_export": first.summary(),
                "final_export": final.summary(),
            }
        finally:
            store.close()
