"""``syncstate status``: records per export state, per company."""

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
from syncstate.domain.state import ExportState

__all__ = ["register", "run"]


def register(sub: Any) -> None:
    """Add the ``status`` command."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "status", help="count records per export state", description=__doc__
    )
    add_db_argument(parser)
    parser.add_argument("--company", help="only this company (default: every company)")
    add_json_argument(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the counts."""
    store = open_sqlite_store(args, readonly=True)
    try:
        companies = [args.company] if args.company else store.companies()
        counts = {c: {s.value: n for s, n in store.counts(c).items()} for c in companies}
    finally:
        store.close()
    if args.json:
        emit_json({"companies": counts})
        return 0
    states = [s.value for s in ExportState]
    print_table(["company", *states], [[c, *(counts[c][s] for s in states)] for c in companies])
    return 0
