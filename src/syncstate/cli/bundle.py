"""``syncstate bundle``: usage logs and payments bundled into invoices and sales receipts.

Sub-commands (every one takes ``--company`` and ``--json``)::

    import FILE.csv        load usage logs and payments (atomic; errors name the line)
    open                   open transactions per client
    historical --cutoff D  mark the backlog up to D as already accounted for
    make                   bundle open transactions (``--dry-run`` to preview)
    list                   bundles in stable order, paged (``--reconciled`` for exported)
    show ID                one bundle: lines, totals, members, remote document
    trace KIND ID          a usage log or payment to its bundle and document
    export [ID ...]        export bundles; a named reconciled bundle is overwritten
                           (progress on stderr without ``--json``: a bar on a terminal)
    unbundle ID ...        delete bundles locally (``--reverse`` also voids remotely)
    map KIND LOCAL REMOTE  map a client / resource / payment method
    mappings               list the mappings
    customers              create or match remote customers for the clients
    vendors --vendor ID=NAME   create or match remote vendors for suppliers
    items [--item ID=NAME]     create or match remote items for the resources (Parent:Child)
    pdf ID --out FILE      the remote document as a PDF
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from syncstate.cli._common import (
    add_db_argument,
    add_json_argument,
    emit_json,
    open_sqlite_store,
    print_table,
)
from syncstate.cli.backend_args import add_backend_arguments, open_cli_backend
from syncstate.cli.directory import ACTIONS as DIRECTORY_ACTIONS
from syncstate.cli.directory import add_actions as add_directory_actions
from syncstate.cli.directory import run_action as run_directory_action
from syncstate.domain.records import RecordKey
from syncstate.domain.state import ExportState
from syncstate.errors import InputError
from syncstate.periods import parse_date
from syncstate.services.bundling import BundleService

__all__ = ["register", "run"]

_CSV_COLUMNS = (
    "type", "id", "client", "date", "resource", "quantity", "unit_price", "amount",
    "currency", "tax_code", "description", "method", "reference",
)  # fmt: skip


def _add_backend(parser: argparse.ArgumentParser) -> None:
    # required where the action always talks to the back end; `unbundle` needs it
    # only with --reverse (checked when the back end is opened)
    add_backend_arguments(parser, required=False)


def register(sub: Any) -> None:
    """Add the ``bundle`` command and its sub-commands."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "bundle",
        help="bundle usage and payments into invoices / sales receipts and export them",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    def action(name: str, text: str) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = actions.add_parser(name, help=text, description=text)
        add_db_argument(p)
        p.add_argument("--company", required=True, help="the company (tenant)")
        add_json_argument(p)
        p.set_defaults(func=run)
        return p

    p = action("import", "load usage logs and payments from a CSV file (all or nothing)")
    p.add_argument("file", type=Path, help=f"CSV with columns {', '.join(_CSV_COLUMNS)}")
    for name, text in (("open", "open transactions per client"), ("make", "bundle them")):
        p = action(name, text)
        p.add_argument("--client", action="append", dest="clients", metavar="ID")
        p.add_argument("--through", metavar="DATE", help="only transactions up to this day")
        if name == "make":
            p.add_argument("--dry-run", action="store_true", help="show, store nothing")
    p = action("historical", "mark open transactions up to a cutoff as already accounted for")
    p.add_argument("--cutoff", required=True, metavar="DATE")
    p.add_argument("--client", action="append", dest="clients", metavar="ID")
    p.add_argument("--dry-run", action="store_true", help="count, change nothing")
    p = action("list", "bundles in stable order (client, date, kind, id)")
    p.add_argument("--client", action="append", dest="clients", metavar="ID")
    p.add_argument("--reconciled", action="store_true", help="only exported documents")
    p.add_argument("--page", type=int, default=1, help="page number (default: 1)")
    p.add_argument("--page-size", type=int, default=50, help="bundles per page (default: 50)")
    p = action("show", "one bundle with its lines, members and remote document")
    p.add_argument("bundle_id")
    p = action("trace", "a usage log or payment to its bundle and document")
    p.add_argument("kind", choices=["usage_log", "payment"])
    p.add_argument("source_id")
    p = action("export", "export bundles; named bundles already exported are overwritten")
    p.add_argument("bundle_ids", nargs="*", metavar="ID")
    p.add_argument("--client", action="append", dest="clients", metavar="ID")
    p.add_argument("--page", type=int, default=None, help="export only this page")
    p.add_argument("--page-size", type=int, default=50)
    p.add_argument("--overwrite", action="store_true", help="update reconciled documents too")
    p.add_argument("--concurrency", type=int, default=4)
    _add_backend(p)
    p = action("unbundle", "delete bundles locally; their transactions are open again")
    p.add_argument("bundle_ids", nargs="+", metavar="ID")
    p.add_argument("--cascade", action="store_true", help="also payments applied to invoices")
    p.add_argument("--reverse", action="store_true", help="also delete/void remote documents")
    _add_backend(p)
    p = action("map", "map a client, bookable resource or payment method")
    p.add_argument("kind", choices=["customer", "item", "deposit_account", "vendor"])
    p.add_argument("local")
    p.add_argument("remote", help="the back end's id ('' deletes the mapping)")
    action("mappings", "list the mappings")
    p = action("customers", "create or match remote customers for the clients")
    p.add_argument("--dry-run", action="store_true")
    _add_backend(p)
    add_directory_actions(action, _add_backend)
    p = action("pdf", "write a reconciled bundle's remote document as a PDF")
    p.add_argument("bundle_id")
    p.add_argument("--out", type=Path, required=True)
    _add_backend(p)


def _read_csv(path: Path, company: str) -> list[Any]:
    """The file's records, all checked (errors name the file and line) before any is stored."""
    from syncstate.services.transaction_csv import read_transactions_csv

    return list(read_transactions_csv(path, company))


def _open_backend(args: argparse.Namespace, service: BundleService) -> Any:
    return open_cli_backend(args, service.store)


def _views(rows: list[Any], as_json: bool) -> None:
    if as_json:
        emit_json([v.to_dict() for v in rows])
        return
    print_table(
        ["bundle", "kind", "client", "date", "total", "currency", "state", "remote id"],
        [
            [v.bundle.bundle_id, v.bundle.kind.value, v.bundle.client, v.bundle.date,
             v.bundle.total, v.bundle.currency, v.state.value, v.remote_id or ""]
            for v in rows
        ],
    )  # fmt: skip


def run(args: argparse.Namespace) -> int:
    """Run one ``bundle`` action."""
    from syncstate.adapters.storage.sqlite.bundles import SQLiteBundleStore

    store = open_sqlite_store(args, must_exist=args.action != "import")
    bundles = SQLiteBundleStore.beside(store)
    service = BundleService(store, bundles, actor="cli")
    try:
        return _dispatch(service, args)
    finally:
        bundles.close()
        store.close()


def _dispatch(service: BundleService, args: argparse.Namespace) -> int:
    co, as_json = args.company, args.json
    if args.action == "import":
        from syncstate.ports import SystemClock

        records = _read_csv(args.file, co)  # all checked before anything is stored
        report = service.store.ingest(co, records, at=SystemClock().now(), actor="cli")
        out = {"added": report.added, "changed": report.changed, "unchanged": report.unchanged}
        emit_json(out) if as_json else print_table(list(out), [list(out.values())])
        return 0
    if args.action in ("open", "make"):
        through = None if args.through is None else parse_date(args.through, what="--through")
        if args.action == "open":
            found = service.open_records(co, clients=args.clients, through=through)
            per: dict[str, list[int]] = {}
            for s in found:
                counts = per.setdefault(s.record.subject, [0, 0])
                counts[0 if s.key.kind == "usage_log" else 1] += 1
            rows = [[c, u, p] for c, (u, p) in sorted(per.items())]
            if as_json:
                emit_json([{"client": c, "usage_logs": u, "payments": p} for c, u, p in rows])
            else:
                print_table(["client", "usage logs", "payments"], rows)
            return 0
        made = service.bundle(co, clients=args.clients, through=through, dry_run=args.dry_run)
        if as_json:
            emit_json({"applied": made.applied, "counts": made.counts(),
                       "bundles": [b.bundle_id for b in made.bundles]})  # fmt: skip
        else:
            verb = "made" if made.applied else "would make"
            print(f"{verb} {len(made.bundles)} bundle(s): {made.counts()}")
        return 0
    if args.action == "historical":
        cutoff = parse_date(args.cutoff, what="--cutoff")
        hist = service.mark_historical(
            co, cutoff=cutoff, clients=args.clients, dry_run=args.dry_run
        )
        if as_json:
            emit_json(
                {"cutoff": cutoff, "dry_run": args.dry_run, "per_client": dict(hist.per_client)}
            )
        else:
            print_table(["client", "transactions"], hist.per_client)
            print(f"{'would mark' if args.dry_run else 'marked'} {hist.total} as historical")
        return 0
    if args.action == "list":
        if args.page < 1 or args.page_size < 1:
            raise InputError("--page and --page-size must be at least 1")
        states = [ExportState.EXPORTED, ExportState.OUTDATED] if args.reconciled else None
        listed = service.list_bundles(
            co, clients=args.clients, states=states,
            offset=(args.page - 1) * args.page_size, limit=args.page_size,
        )  # fmt: skip
        _views(listed, as_json)
        return 0
    if args.action == "show":
        view = service.get(co, args.bundle_id)
        if as_json:
            emit_json(view.to_dict())
        else:
            _views([view], False)
            print()
            print_table(["resource", "quantity", "unit price", "amount", "tax"],
                        [[ln.resource, ln.quantity, ln.unit_price, ln.amount, ln.tax_code]
                         for ln in view.bundle.lines])  # fmt: skip
            print("members: " + ", ".join(f"{k.kind}:{k.source_id}" for k in view.bundle.members))
        return 0
    if args.action == "trace":
        trace = service.trace(co, RecordKey(co, args.kind, args.source_id))
        data = {
            "record": str(trace.record),
            "state": trace.state.value,
            "bundle": None if trace.bundle is None else trace.bundle.to_dict(),
        }
        if as_json:
            emit_json(data)
        elif trace.bundle is None:
            print(f"{trace.record} ({trace.state.value}) is in no bundle")
        else:
            b = trace.bundle
            print(f"{trace.record} is in {b.bundle.kind.value} {b.bundle.bundle_id} "
                  f"({b.state.value}, remote id {b.remote_id or '-'})")  # fmt: skip
        return 0
    if args.action in ("map", "mappings"):
        if args.action == "map":
            service.set_mapping(co, args.kind, args.local, args.remote)
        rows = [[k.value, lo, r] for k, lo, r in service.mappings(co).as_rows()]
        if as_json:
            emit_json([{"kind": k, "local": lo, "remote": r} for k, lo, r in rows])
        else:
            print_table(["kind", "local", "remote"], rows)
        return 0
    return _remote(service, args)


def _remote(service: BundleService, args: argparse.Namespace) -> int:
    from syncstate.cli.progress import TerminalProgress
    from syncstate.services.bundle_export import (
        export_bundles,
        fetch_bundle_pdf,
        unbundle_and_reverse,
    )
    from syncstate.services.customer_sync import sync_customers
    from syncstate.services.export import ExportOptions

    co, as_json = args.company, args.json
    needs_backend = args.action != "unbundle" or args.reverse
    backend: Any = _open_backend(args, service) if needs_backend else None
    try:
        if args.action == "export":
            page = args.page
            if page is not None and (page < 1 or args.page_size < 1):
                raise InputError("--page and --page-size must be at least 1")
            report = export_bundles(
                service, backend, co,
                bundle_ids=args.bundle_ids or None, clients=args.clients,
                offset=0 if page is None else (page - 1) * args.page_size,
                limit=None if page is None else args.page_size,
                overwrite=args.overwrite or bool(args.bundle_ids),
                options=ExportOptions(concurrency=max(1, args.concurrency)),
                progress=None if as_json else TerminalProgress(sys.stderr),
            )  # fmt: skip
            if as_json:
                emit_json({"summary": report.summary(),
                           "bundles": [o.to_dict() for o in report.outcomes]})  # fmt: skip
            else:
                print_table(["bundle", "kind", "client", "outcome", "remote id", "message"],
                            [[o.bundle.source_id, o.kind, o.client, o.outcome, o.remote_id or "",
                              o.message] for o in report.outcomes])  # fmt: skip
            done_ok = ("exported", "updated", "unchanged")
            return 0 if all(o.outcome in done_ok for o in report.outcomes) else 1
        if args.action == "unbundle":
            done = unbundle_and_reverse(
                service, co, args.bundle_ids, backend=backend, reverse=args.reverse,
                cascade=args.cascade,
            )  # fmt: skip
            if as_json:
                emit_json({"removed": [k.source_id for k in done.removed],
                           "reopened": [str(k) for k in done.reopened],
                           "reversed": [k.source_id for k in done.reversed],
                           "warning": done.warning})  # fmt: skip
            else:
                print(f"un-bundled {len(done.removed)} bundle(s); "
                      f"{len(done.reopened)} transaction(s) are open again")  # fmt: skip
                if done.warning:
                    print(f"WARNING: {done.warning}", file=sys.stderr)
            return 0
        if args.action == "customers":
            results = sync_customers(service, backend, co, dry_run=args.dry_run)
            rows = [[r.client, r.display_name, r.action, r.remote_id] for r in results]
            if as_json:
                emit_json([dict(zip(("client", "name", "action", "remote_id"), r, strict=True))
                           for r in rows])  # fmt: skip
            else:
                print_table(["client", "name", "action", "remote id"], rows)
            return 0
        if args.action in DIRECTORY_ACTIONS:
            return run_directory_action(service, backend, args)
        pdf = fetch_bundle_pdf(service, backend, co, args.bundle_id)
        args.out.write_bytes(pdf)
        if as_json:
            emit_json({"bundle_id": args.bundle_id, "file": args.out, "bytes": len(pdf)})
        else:
            print(f"wrote {len(pdf)} bytes to {args.out}")
        return 0
    finally:
        close = getattr(backend, "close", None)
        if callable(close):
            close()
