"""``syncstate reset``: make exported records of some employees exportable again.

Without ``--acknowledge`` it only prints the plan and the warning. With it, the
reset is applied atomically. The accounting or payroll system is never changed.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from syncstate.cli._common import (
    add_db_argument,
    add_json_argument,
    emit_json,
    open_sqlite_store,
    print_table,
)
from syncstate.periods import DateRange
from syncstate.services.reset import apply_reset, plan_reset

__all__ = ["register", "run"]


def register(sub: Any) -> None:
    """Add the ``reset`` command."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "reset",
        help="reset exported records for re-export",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_db_argument(parser)
    parser.add_argument("--company", required=True)
    parser.add_argument("--from", dest="start", required=True, metavar="YYYY-MM-DD")
    parser.add_argument("--to", dest="end", required=True, metavar="YYYY-MM-DD")
    parser.add_argument(
        "--employee", action="append", default=[], required=True, help="repeat for several"
    )
    parser.add_argument(
        "--acknowledge",
        action="store_true",
        help="apply; confirms that records already in the back end are NOT removed there",
    )
    add_json_argument(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Plan, and with ``--acknowledge`` apply, the reset."""
    # a plan only reads; --acknowledge writes
    store = open_sqlite_store(args, readonly=not args.acknowledge)
    try:
        plan = plan_reset(store, args.company, DateRange.parse(args.start, args.end), args.employee)
        result = apply_reset(store, plan, acknowledge=True) if args.acknowledge else None
    finally:
        store.close()
    if args.json:
        emit_json(
            {
                "plan": plan.to_dict(),
                "applied": result is not None,
                "result": None if result is None else result.to_dict(),
            }
        )
        return 0
    print(f"Reset for {plan.company}, {plan.date_range}:")
    print_table(["employee", "records"], plan.per_employee)
    print(f"WARNING: {plan.warning}", file=sys.stderr)
    if result is None:
        print("Nothing changed. Re-run with --acknowledge to apply.")
    else:
        print(f"{result.reset} records are 'not exported' again; nothing stays selected.")
    return 0
