"""``syncstate export``: send the exportable records of one company to a back end.

Each record is sent exactly once: records a killed run left in flight are
looked up by their idempotency key before anything is sent again, so running
the command again after a crash or Ctrl-C is always safe. A progress bar shows
on a terminal (plain lines otherwise, e.g. in CI); ``--json`` prints the
report for scripts.

``--backend`` is required: there is no default back end, because a throwaway one
would mark real records exported. ``--backend memory`` (an in-memory back end that
forgets everything) is refused on a database that already holds records exported
elsewhere, unless ``--allow-memory`` says it is meant. Back-end options are typed by
the plug-in (``--backend-option KEY=VALUE``; ``--realm``, ``--mapping``, ``--token-env``,
``--token-file`` and ``--token-command`` are shorthands for the QuickBooks ones).
Everything is checked before a record is claimed.

Exit status: 0 when every selected record was exported; 1 when some failed, are
pending or were released, or the back end was unreachable (the run stops early and
releases what it held); 2 for bad input or configuration.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from typing import Any

from syncstate.cli._common import (
    add_db_argument,
    add_json_argument,
    emit_json,
    open_sqlite_store,
    print_table,
)
from syncstate.cli.backend_args import add_backend_arguments, close_backend, open_cli_backend
from syncstate.errors import BackendUnavailable, InputError
from syncstate.periods import DateRange
from syncstate.services.export import ExportOptions, ExportReport, export_records
from syncstate.services.retry import RetryPolicy

__all__ = ["register", "run"]


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
    add_backend_arguments(parser)
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

    date_range = _date_range(args)
    options = _options(args)
    # every check happens before a record is claimed
    store = open_sqlite_store(args)
    try:
        if not any(store.counts(args.company).values()):
            raise InputError(f"company {args.company!r} has no records in {store.path}")
        backend = open_cli_backend(args, store)
        try:
            report = _export(args, store, backend, date_range, options, TerminalProgress)
        finally:
            close_backend(backend)
    finally:
        store.close()
    if report is None:
        return 1
    if args.json:
        emit_json({"summary": report.summary(), "records": report.to_records()})
    else:
        _print(report)
    return 0 if report.ok else 1


def _export(
    args: argparse.Namespace,
    store: Any,
    backend: Any,
    date_range: DateRange | None,
    options: ExportOptions,
    progress: Any,
) -> ExportReport | None:
    try:
        return export_records(
            store,
            backend,
            args.company,
            kinds=args.kinds,
            date_range=date_range,
            subjects=args.employees,
            actor=args.actor,
            progress=None if args.json else progress(sys.stderr),
            options=options,
        )
    except BackendUnavailable as exc:
        report = exc.report
        if args.json:
            summary = report.summary() if report is not None else None
            error = {"error": exc.message, "type": "BackendUnavailable", "exit": 1}
            print(json.dumps({**error, "summary": summary}), file=sys.stderr)
        else:
            print(f"syncstate: error: {exc.message}", file=sys.stderr)
        return None
