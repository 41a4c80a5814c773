"""``syncstate export``: send the exportable records of one company to a back end.

Each record is sent exactly once: records a killed run left in flight are
looked up by their idempotency key before anything is sent again, so running
the command again after a crash or Ctrl-C is always safe. A progress bar shows
on a terminal (plain lines otherwise, e.g. in CI); ``--json`` prints the
report for scripts. Exit status 0 when everything was exported, 1 when some
records failed or are still pending, 2 for bad input.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from typing import Any

from syncstate.cli._common import (
    add_db_argument,
    add_json_argument,
    emit_json,
    open_sqlite_store,
    print_table,
)
from syncstate.errors import InputError
from syncstate.periods import DateRange
from syncstate.services.export import ExportOptions, ExportReport, export_records
from syncstate.services.retry import RetryPolicy

__all__ = ["register", "run"]


def _option(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return name.strip(), value


def register(sub: Any) -> None:
    """Add the ``export`` command."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "export",
        help="export records to the accounting back end, exactly once",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_db_argument(parser)
    parser.add_argument("--company", required=True, help="the company (tenant) to export")
    parser.add_argument("--from", dest="start", metavar="DATE", help="first day (YYYY-MM-DD)")
    parser.add_argument("--to", dest="end", metavar="DATE", help="last day (YYYY-MM-DD)")
    parser.add_argument(
        "--employee",
        action="append",
        dest="employees",
        metavar="ID",
        help="only this employee / client (repeat for several)",
    )
    parser.add_argument(
        "--kind", action="append", dest="kinds", metavar="KIND", help="only this record kind"
    )
    parser.add_argument(
        "--backend", default="memory", help="back-end plug-in name (default: memory)"
    )
    parser.add_argument(
        "--backend-option",
        action="append",
        type=_option,
        default=[],
        metavar="KEY=VALUE",
        help="option passed to the back-end plug-in (repeatable)",
    )
    parser.add_argument(
        "--concurrency", type=int, default=10, help="requests at once (default: 10)"
    )
    parser.add_argument(
        "--requests-per-minute",
        type=float,
        default=None,
        metavar="N",
        help="pace requests to the back end's limit (default: no pacing)",
    )
    parser.add_argument("--no-batch", action="store_true", help="send one request per document")
    parser.add_argument(
        "--attempts", type=int, default=6, help="tries per request, first included (default: 6)"
    )
    parser.add_argument(
        "--lease-minutes",
        type=float,
        default=10.0,
        help="how long claimed records stay reserved (default: 10)",
    )
    parser.add_argument("--actor", default="cli", help="name written to the journal")
    add_json_argument(parser)
    parser.set_defaults(func=run)


def _date_range(args: argparse.Namespace) -> DateRange | None:
    if args.start is None and args.end is None:
        return None
    if args.start is None or args.end is None:
        raise InputError("give both --from and --to, or neither")
    return DateRange.parse(args.start, args.end)


def _options(args: argparse.Namespace) -> ExportOptions:
    if args.concurrency < 1:
        raise InputError(f"--concurrency must be at least 1, got {args.concurrency}")
    if args.lease_minutes <= 0:
        raise InputError(f"--lease-minutes must be positive, got {args.lease_minutes}")
    return ExportOptions(
        concurrency=args.concurrency,
        use_batch=not args.no_batch,
        requests_per_minute=args.requests_per_minute,
        retry=RetryPolicy(attempts=args.attempts),
        lease=dt.timedelta(minutes=args.lease_minutes),
    )


def _print(report: ExportReport) -> None:
    problems = [
        (o.key.source_id, o.key.kind, o.outcome.value, o.message)
        for o in report.outcomes
        if o.outcome.value in ("failed", "pending", "skipped", "released")
    ]
    if problems:
        print_table(["record", "kind", "outcome", "message"], problems)
        print()
    summary = report.summary()
    print_table(
        ["selected", "exported", "updated", "failed", "pending", "skipped", "retries", "seconds"],
        [
            [
                summary["selected"],
                summary["exported"],
                summary["updated"],
                summary["failed"],
                summary["pending"],
                summary["skipped"],
                summary["retries"],
                f"{report.duration:.1f}",
            ]
        ],
    )


def run(args: argparse.Namespace) -> int:
    """Run the export and print the report."""
    from syncstate.cli.progress import TerminalProgress
    from syncstate.plugins import open_backend

    date_range = _date_range(args)
    options = _options(args)
    backend = open_backend(args.backend, **dict(args.backend_option))
    store = open_sqlite_store(args)
    try:
        report = export_records(
            store,
            backend,
            args.company,
            kinds=args.kinds,
            date_range=date_range,
            subjects=args.employees,
            actor=args.actor,
            progress=None if args.json else TerminalProgress(sys.stderr),
            options=options,
        )
    finally:
        store.close()
        close = getattr(backend, "close", None)
        if callable(close):
            close()
    if args.json:
        emit_json({"summary": report.summary(), "records": report.to_records()})
    else:
        _print(report)
    return 0 if not (report.failed or report.pending) else 1
