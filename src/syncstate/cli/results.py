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
from syncstate.domain.records import RecordKey
from syncstate.errors import InputError, InvalidTransition
from syncstate.services.relink import relink_checked
from syncstate.services.results import ResultFilter, sync_results, unlink

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
    results.add_argument(
        "--kind", action="append", dest="kinds", metavar="KIND", help="only this kind (repeat)"
    )
    add_json_argument(results)
    results.set_defaults(func=_results)
    for name, helptext in (
        ("unlink", "take records out of future syncs"),
        ("relink", "put unlinked records back into future syncs"),
    ):
        parser = sub.add_parser(name, help=helptext)
        add_db_argument(parser)
        parser.add_argument("--company", required=True)
        parser.add_argument(
            "--kind", default=None, help="the records' kind (needed only when ids are ambiguous)"
        )
        parser.add_argument("source_ids", nargs="+", metavar="SOURCE_ID")
        parser.add_argument("--reason", required=name == "unlink", default="relinked")
        add_json_argument(parser)
        parser.set_defaults(func=_unlink if name == "unlink" else _relink)


def _results(args: argparse.Namespace) -> int:
    store = open_sqlite_store(args, readonly=True)
    try:
        after = _after(store, args) if args.after else None
        page = sync_results(
            store,
            args.company,
            filter=args.filter,
            search=args.search,
            kinds=args.kinds,
            after=after,
            limit=args.limit,
        )
    finally:
        store.close()
    rows = page.to_records()
    following = page.next_after
    if args.json:
        emit_json(
            {
                "results": rows,
                "next_after": f"{following.kind}/{following.source_id}" if following else None,
            }
        )
        return 0
    heads = ["kind", "source_id", "state", "subject", "date", "remote_id", "doc_number", "message"]
    heads.append("unlink_reason")
    print_table(heads, [[r[h] for h in heads] for r in rows])
    if following:
        print(f"more: --after {following.kind}/{following.source_id}")
    return 0


def _after(store: Any, args: argparse.Namespace) -> RecordKey:
    """``--after KIND/SOURCE_ID`` (or a bare source id when one kind is chosen)."""
    kind, sep, source_id = str(args.after).partition("/")
    if sep:
        return RecordKey(args.company, kind, source_id)
    if args.kinds and len(args.kinds) == 1:
        return RecordKey(args.company, args.kinds[0], args.after)
    raise InputError("--after takes KIND/SOURCE_ID (as printed after 'more:')")


def _keys(store: Any, args: argparse.Namespace) -> list[RecordKey]:
    """The records named by source id; the kind is found when it is not given."""
    if args.kind:
        return [RecordKey(args.company, args.kind, s) for s in args.source_ids]
    found: dict[str, list[RecordKey]] = {}
    for stored in store.find(args.company, source_ids=list(args.source_ids)):
        found.setdefault(stored.key.source_id, []).append(stored.key)
    keys: list[RecordKey] = []
    for source_id in args.source_ids:
        matches = found.get(source_id, [])
        if not matches:
            raise InputError(f"company {args.company!r} has no record {source_id!r}")
        if len(matches) > 1:
            kinds = ", ".join(sorted(k.kind for k in matches))
            raise InputError(f"{source_id!r} is a record of several kinds ({kinds}): give --kind")
        keys.append(matches[0])
    return keys


def _change(args: argparse.Namespace, action: Any, **kwargs: Any) -> int:
    store = open_sqlite_store(args)
    try:
        keys = _keys(store, args)
        entries = action(store, args.company, keys, reason=args.reason, **kwargs)
    finally:
        store.close()
    if args.json:
        emit_json(
            {
                "changed": [
                    {"kind": e.key.kind, "source_id": e.key.source_id, "state": e.to_state.value}
                    for e in entries
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
    # the seed's advice: fix the cause first; what can be checked here is checked
    def checked(store: Any, company: str, keys: list[RecordKey], **kwargs: Any) -> Any:
        # a record that is not unlinked: the action does not apply (exit 1, as unlink's
        # refusals; docs/cli.md), nothing is changed
        for key in keys:
            state = store.get(key).status.state.value
            if state != "unlinked":
                raise InvalidTransition(
                    record=str(key), state=state, event="relink", detail="nothing relinked"
                )
        report = relink_checked(store, company, keys, **kwargs)
        if not args.json:
            print(f"checked: {', '.join(report.checks)}")
        return report.entries

    return _change(args, checked)
