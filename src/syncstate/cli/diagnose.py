"""``syncstate diagnose --company C [--db PATH] [--code CODE] [--json]``.

Compares the stored balances of a company's repost ledger (receivables and
WIP) with recomputed ones and lists every finding with its stable code,
scope, expected and actual values, the calculator that produced it and the
drill-down that repairs it.
Nothing is written: the database is opened read-only. Exit status 0 when the
ledger is consistent, 1 when there are findings, 2 for a missing database or
one that holds no repost ledger.
"""

from __future__ import annotations

import argparse
from typing import Any

from syncstate.cli._common import add_db_argument, add_json_argument, db_path, emit_json

__all__ = ["register", "run"]


def register(subparsers: Any) -> None:
    """Add ``diagnose``."""
    parser = subparsers.add_parser("diagnose", help="find inconsistent stored balances (no writes)")
    add_db_argument(parser)
    parser.add_argument("--company", required=True, help="the company to check")
    parser.add_argument("--code", action="append", help="only findings with this code")
    add_json_argument(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the findings; 1 if there are any."""
    from syncstate.adapters.storage.sqlite.ledger import SQLiteLedgerStore
    from syncstate.domain.repost.findings import Findings
    from syncstate.errors import InputError
    from syncstate.services.repost import diagnose_ledger

    path = db_path(args)
    if not path.exists():
        raise InputError(f"database {path} does not exist")
    with SQLiteLedgerStore(path, readonly=True) as store:
        findings = diagnose_ledger(store, args.company)
    if args.code:
        wanted = {c.upper() for c in args.code}
        findings = Findings(f for f in findings if f.code.value in wanted)
    if args.json:
        emit_json({"company": args.company, "findings": [f.to_dict() for f in findings]})
    elif not findings:
        print(f"{args.company}: no findings")
    else:
        for finding in findings:
            print(f"{finding}  -> {finding.calculator} drill-down: {finding.drill_down.value}")
        print(f"{len(findings)} finding(s)")
    return 1 if findings else 0
