"""``syncstate repost`` for the stored staff and project ledgers.

* ``repost load FILE --company C [--fiscal-start-month M] [--periods monthly|4-4-5]``
  stores a staff file's members and rate tables (and the fiscal calendar) or a
  projects file's projects; a staff file's ``entries`` are not loaded (staff
  reposts read the stored WIP entries);
* ``repost --company C --calculator staff [--staff S | --project P] [--apply]``
  and ``--calculator projects [--project P] [--apply]`` plan (dry run by
  default) and write the scoped repost, printing the ``STAFF-BALANCE`` /
  ``PROJECT-BUDGET`` findings with stored and recomputed values.
"""

from __future__ import annotations

import argparse
from typing import Any

from syncstate.cli._common import db_path, emit_json

__all__ = ["load_work", "run_work"]


def load_work(args: argparse.Namespace, data: Any, source: str) -> int:
    """Load a staff or projects interchange file into the ledger database."""
    from syncstate.cli.repost import _open
    from syncstate.errors import InputError
    from syncstate.periods import FiscalCalendar
    from syncstate.services import repost_work as work
    from syncstate.services.repost_io import projects_from_json, staff_from_json

    calendar = None
    if "staff" in data:
        members, _entries = staff_from_json(data, source=source)
        if args.fiscal_start_month is not None or args.periods is not None:
            calendar = FiscalCalendar.parse(args.fiscal_start_month or 1, args.periods or "monthly")
        kind, what = "staff", "staff members"
    else:
        if args.fiscal_start_month is not None or args.periods is not None:
            raise InputError("--fiscal-start-month and --periods apply to staff files only")
        projects = projects_from_json(data, source=source)
        kind, what = "projects", "projects"
    with _open(args) as store:
        if kind == "staff":
            count = work.import_staff(store, args.company, members, calendar=calendar)
        else:
            count = work.import_projects(store, args.company, projects)
    if getattr(args, "json", False):
        emit_json(
            {
                "company": args.company,
                "calculator": kind,
                "loaded": count,
                "file": str(args.file),
                "db": str(db_path(args)),
            }
        )
    else:
        print(f"loaded {count} {what} for {args.company}")
    return 0


def run_work(args: argparse.Namespace, store: Any) -> int:
    """Plan (and with ``--apply`` write) a staff or projects repost."""
    from syncstate.services import repost_work as work

    if args.calculator == "staff":
        plan = work.plan_staff_repost(store, args.company, staff=args.staff, project=args.project)
    else:
        plan = work.plan_projects_repost(store, args.company, project=args.project)
    written = work.apply_work_plan(store, plan, actor="cli") if args.apply else 0
    findings = [f.to_dict() for f in plan.findings]
    if args.json:
        emit_json(
            {
                "company": args.company,
                "calculator": plan.calculator,
                "scope": plan.scope,
                "applied": bool(args.apply),
                "written": written,
                "findings": findings,
            }
        )
        return 0
    from syncstate.cli.repost import _print_findings

    _print_findings(findings)
    if args.apply:
        print(f"applied ({plan.scope}): {written} row(s) written")
    else:
        print(f"dry run ({plan.scope}): rerun with --apply to write")
    return 0
