"""``syncstate results``, ``unlink`` and ``relink``: the sync results view and its actions."""

from __future__ import annotations

import argparse
from typing import Any

from syncstate.cli._common import (
    add_db_argument,
    add_json_argument,
    emit_json,
    open_sqlite_store,
    print_table,
)
from syncstate.domain.records import RecordKey, TimeEntry
from syncstate.services.results import ResultFilter, relink, sync_results, unlink

__all__ = ["register"]


def register(sub: Any) -> None:
    """Add ``results``, ``unlink`` and ``relink``."""
    results = sub.add_parser("results", help="list sync results (linked, unlinked, failed)")
    add_db_argument(results)
    results.add_argument("--company", required=True)
    results.add_argument(
        "--filter", choices=[f.value for f in ResultFilter], default=ResultFilter.ALL.value
    )
    results.add_argument("--search", help="a source id, remote id or document number")
    results.add_argument("--limit", type=int, default=50)
    results.add_argument("--after", metavar="SOURCE_ID", help="page after this source id")
    results.add_argument("--kind", default=TimeEntry.KIND)
    add_json_argument(results)
    results.set_defaults(func=_results)
    for name, helptext in (
        ("unlink", "take records out of future syncs"),
        ("relink", "put unlinked records back into future syncs"),
    ):
        parser = sub.add_parser(name, help=helptext)
        add_db_argument(parser)
        parser.add_argument("--company", required=True)
        parser.add_argument("--kind", default=TimeEntry.KIND)
        parser.add_argument("source_ids", nargs="+", metavar="SOURCE_ID")
        parser.add_argument("--reason", required=name == "unlink", default="relinked")
        add_json_argument(parser)
        parser.set_defaults(func=_unlink if name == "unlink" else _relink)


def _results(args: argparse.Namespace) -> int:
    store = open_sqlite_store(args)
    try:
        after = RecordKey(args.company, args.kind, args.after) if args.after else None
        page = sync_results(
            store,
            args.company,
            filter=args.filter,
            search=args.search,
            kinds=[args.kind],
            after=after,
            limit=args.limit,
        )
    finally:
        store.close()
    rows = page.to_records()
    if args.json:
        emit_json(
            {"results": rows, "next_after": page.next_after.source_id if page.next_after else None}
        )
        return 0
    heads = ["source_id", "state", "subject", "date", "remote_id", "message", "unlink_reason"]
    print_table(heads, [[r[h] for h in heads] for r in rows])
    if page.next_after:
        print(f"more: --after {page.next_after.source_id}")
    return 0


def _change(args: argparse.Namespace, action: Any, **kwargs: Any) -> int:
    store = open_sqlite_store(args)
    try:
        keys = [RecordKey(args.company, args.kind, s) for s in args.source_ids]
        entries = action(store, args.company, keys, reason=args.reason, **kwargs)
    finally:
        store.close()
    if args.json:
        emit_json(
            {
                "changed": [
                    {"source_id": e.key.source_id, "state": e.to_state.value} for e in entries
                ]
            }
        )
    else:
        for entry in entries:
            print(f"{entry.key.source_id}: {entry.from_state.value} -> {entry.to_state.value}")
    return 0


def _unlink(args: argparse.Namespace) -> int:
    return _change(args, unlink)


def _relink(args: argparse.Namespace) -> int:
    return _change(args, relink)
