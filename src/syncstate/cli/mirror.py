"""``syncstate mirror load|status|clear|reload|drift``: the inbound mirror from SIE files.

    syncstate mirror load   --db DB --company C FILE...
    syncstate mirror status --db DB --company C   (read-only; shows the last runs too)
    syncstate mirror clear  --db DB --company C --year 2011 --confirm C [--reload FILE...]
    syncstate mirror reload --db DB --company C --confirm C FILE...
    syncstate mirror drift  --db DB --company C FILE... [--apply]

``--year`` takes a start year (``2011``) or ``START..END`` (ISO dates). Clearing
needs the company id a second time (``--confirm``) or the token ``--plan`` prints.
Without ``--json``, load, clear, reload and ``drift --apply`` show their progress
on stderr: a bar on a terminal, plain lines otherwise.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from pathlib import Path
from typing import Any

from syncstate.cli._common import add_db_argument, add_json_argument, emit_json, print_table
from syncstate.errors import InputError, PeriodError
from syncstate.periods import FiscalYear, parse_date

__all__ = ["register", "run"]


def register(subparsers: Any) -> None:
    """Add ``mirror`` and its sub-commands."""
    parser = subparsers.add_parser("mirror", help="inbound mirror: load, clear, reload, drift")
    sub = parser.add_subparsers(dest="mirror_command", metavar="SUBCOMMAND", required=True)

    def common(name: str, text: str) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = sub.add_parser(name, help=text)
        add_db_argument(p)
        add_json_argument(p)
        p.add_argument("--company", required=True, help="the company (tenant) id")
        p.set_defaults(func=run)
        return p

    load = common("load", "load SIE files (one per fiscal year) into the mirror")
    load.add_argument("files", nargs="+", type=Path, metavar="FILE")
    load.add_argument("--org-number", help="refuse files for another organisation number")
    common("status", "fiscal years in the mirror and host-owned data")
    clear = common("clear", "clear mirrored amounts of fiscal years (optionally reload)")
    clear.add_argument("--year", action="append", default=[], help="2011 or START..END")
    clear.add_argument("--confirm", default=None, help="the company id again, or a plan token")
    clear.add_argument("--plan", action="store_true", help="only show what would be cleared")
    clear.add_argument("--reload", nargs="+", type=Path, default=None, metavar="FILE")
    reload = common("reload", "reload fiscal years from SIE files, swapped in atomically")
    reload.add_argument("files", nargs="+", type=Path, metavar="FILE")
    reload.add_argument("--year", action="append", default=[], help="2011 or START..END")
    reload.add_argument("--confirm", required=True, help="the company id again")
    drift = common("drift", "compare the mirror with SIE files; --apply the differences")
    drift.add_argument("files", nargs="+", type=Path, metavar="FILE")
    drift.add_argument("--apply", action="store_true", help="apply only the differences")


def _db(args: argparse.Namespace) -> Path:
    return Path(args.db or os.environ.get("SYNCSTATE_DB") or "syncstate.db")


def parse_year(text: str, known: list[FiscalYear]) -> FiscalYear:
    """``2011`` (a loaded year starting in 2011) or ``START..END``."""
    if ".." in text:
        start, _, end = text.partition("..")
        return FiscalYear(parse_date(start, what="year start"), parse_date(end, what="year end"))
    if text.isdigit():
        matches = [y for y in known if y.start.year == int(text)]
        if len(matches) == 1:
            return matches[0]
        raise PeriodError(f"no single fiscal year starting in {text} is in the mirror")
    raise PeriodError(f"fiscal year {text!r}: give a year (2011) or START..END")


def run(args: argparse.Namespace) -> int:
    """Run a ``mirror`` sub-command."""
    from syncstate.adapters.backends.sie.source import SieSource
    from syncstate.adapters.storage.sqlite.files import foreign_tables
    from syncstate.adapters.storage.sqlite.mirror import SQLiteMirrorStore
    from syncstate.services.mirror import MirrorService

    path = _db(args)
    if path.is_dir():
        raise InputError(f"database {path} is a folder, not a file")
    if args.mirror_command == "status":  # reads only: never creates, migrates or writes
        store = SQLiteMirrorStore(path, readonly=True)
    else:
        others = foreign_tables(path)
        if others:
            raise InputError(
                f"{path} is not a syncstate database (it holds other tables: "
                f"{', '.join(others[:5])}); syncstate does not add its tables to it"
            )
        store = SQLiteMirrorStore(path)
    service = MirrorService(store)
    company: str = args.company
    progress = None
    if not args.json:
        from syncstate.cli.progress import TerminalProgress

        progress = TerminalProgress(sys.stderr)
    try:
        known = [y.year for y in store.loaded_years(company)]
        command = args.mirror_command
        if command == "load":
            report = service.load(
                company, SieSource(args.files, org_number=args.org_number), progress=progress
            )
            out: dict[str, Any] = {
                "company": company,
                "years": [str(y) for y in report.years],
                "vouchers": report.vouchers,
                "transactions": report.transactions,
                "source": report.source,
            }
            _show(args, out)
            return 0
        if command == "status":
            _status(args, store, service, company)
            return 0
        if command in ("clear", "reload"):
            years = [parse_year(t, known) for t in args.year] or known
            source = None
            if command == "reload":
                source = SieSource(args.files)
                if not args.year:
                    # the years the files hold; files that cannot be read fail the reload
                    # itself below (exit 1, the old data kept, the attempt recorded)
                    with contextlib.suppress(InputError):
                        years = [y.year for y in source.snapshot(company).years]
            elif args.reload:
                source = SieSource(args.reload)
            plan = service.plan_clear(company, years)
            if command == "clear" and args.plan:
                _show(
                    args,
                    {
                        "company": company,
                        "years": [str(y) for y in plan.years],
                        "vouchers": plan.vouchers,
                        "transactions": plan.transactions,
                        "token": plan.token,
                    },
                )
                return 0
            result = service.clear(
                company,
                plan.years,
                confirm=args.confirm or "",
                reload_from=source,
                progress=progress,
            )
            _show(
                args,
                {
                    "company": company,
                    "years": [str(y) for y in result.years],
                    "cleared": result.cleared,
                    "reloaded": result.reloaded,
                    "removed": result.removed,
                    "ok": result.ok,
                    "error": result.error,
                },
            )
            return 0 if result.ok else 1
        # drift
        source = SieSource(args.files)
        drifts = service.drift(company, source)
        applied = (
            service.apply_drift(company, drifts, source=source, progress=progress)
            if args.apply
            else 0
        )
        summary = {
            "company": company,
            "in_step": all(d.is_empty for d in drifts),
            "years": [d.summary() for d in drifts],
            "applied_years": applied,
        }
        if args.json:
            emit_json(summary)
        else:
            for d in drifts:
                s = d.summary()
                state = "in step" if d.is_empty else "DRIFTED"
                print(
                    f"{s['year']}: {state}; added {len(s['vouchers_added'])},"  # type: ignore[arg-type]
                    f" deleted {len(s['vouchers_deleted'])},"  # type: ignore[arg-type]
                    f" changed {len(s['vouchers_changed'])} vouchers;"  # type: ignore[arg-type]
                    f" {len(d.account_differences)} account/period differences"
                )
            if args.apply:
                print(f"applied the differences to {applied} fiscal year(s)")
        return 0
    finally:
        store.close()


def _status(args: argparse.Namespace, store: Any, service: Any, company: str) -> None:
    loaded = store.loaded_years(company)
    attempts = service.attempts(company)
    if args.json:
        emit_json(
            {
                "company": company,
                "years": [
                    {
                        "year": str(y.year),
                        "vouchers": y.vouchers,
                        "transactions": y.transactions,
                        "loaded_at": y.loaded_at,
                        "source": y.source,
                    }
                    for y in loaded
                ],
                "host_owned": store.host_counts(company),
                "attempts": [a.to_record() for a in attempts],
            }
        )
        return
    print_table(
        ["fiscal year", "vouchers", "transactions", "loaded at", "source"],
        [(str(y.year), y.vouchers, y.transactions, y.loaded_at, y.source) for y in loaded],
    )
    if attempts:
        print()
        print("last runs (newest first):")
        print_table(
            ["fiscal year", "run", "outcome", "started at", "ended at", "reason"],
            [
                (
                    r["year"],
                    f"{r['operation']} #{r['attempt']}",
                    r["outcome"],
                    r["started_at"],
                    r["ended_at"] or "",
                    r["reason"],
                )
                for r in (a.to_record() for a in attempts)
            ],
        )


def _show(args: argparse.Namespace, out: dict[str, Any]) -> None:
    if args.json:
        emit_json(out)
    else:
        for key, value in out.items():
            print(f"{key}: {value}")
