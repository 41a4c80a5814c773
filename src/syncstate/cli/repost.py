"""``syncstate repost``: run the repost calculators on a JSON file, or over a ledger db.

* ``syncstate repost receivables|wip|staff|projects FILE [--json]`` reads an
  interchange document (see docs/repost.md) and prints the restored balances;
* ``syncstate repost load FILE --company C [--db PATH] [--json]`` loads a
  receivables or WIP document into the ledger database atomically;
* ``syncstate repost --company C [--db PATH] [--calculator receivables|wip]
  [--client X | --document D | --invoice I] [--dry-run | --apply] [--json]``
  plans a repost of the stored ledger and, only with ``--apply``, writes it.
  Dry run is the default. Every calculator honours every scope option it
  accepts and refuses the others (exit 2): receivables take ``--client`` or
  ``--document``; WIP takes ``--client``, ``--invoice`` (the entries billed on
  it) or ``--document`` (one entry). Without ``--json`` a whole-company repost
  shows its progress on stderr: a bar on a terminal, plain lines otherwise.

Bad input never half-does anything: a file is read and checked in full (see
:mod:`syncstate.services.json_input` and :mod:`syncstate.money` for the limits)
before a result is printed or the database is even opened; a dry run opens
the database read-only.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from syncstate.cli._common import (
    add_db_argument,
    add_json_argument,
    db_path,
    emit_json,
    print_table,
)

__all__ = ["register", "run"]

_CALCULATORS = ("receivables", "wip", "staff", "projects")


def register(subparsers: Any) -> None:
    """Add ``repost`` with its file sub-commands and the ledger options."""
    parser = subparsers.add_parser(
        "repost",
        help="restore derived balances (receivables, WIP, staff, projects)",
        description="Without a sub-command: plan (--dry-run, the default) or --apply a "
        "repost of the ledger stored in --db.",
    )
    add_db_argument(parser)
    parser.add_argument("--company", help="the company whose ledger to repost")
    parser.add_argument("--calculator", choices=_CALCULATORS, default="receivables")
    parser.add_argument("--client", help="repost only this client's documents or WIP entries")
    parser.add_argument(
        "--document", help="repost only this receivable document, or this one WIP entry"
    )
    parser.add_argument("--invoice", help="WIP only: repost the entries billed on this invoice")
    parser.add_argument("--staff", help="staff only: repost this staff member's periods")
    parser.add_argument(
        "--project", help="staff: this project's work totals; projects: it and its subprojects"
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--dry-run", action="store_true", help="show the plan only (default)")
    mode.add_argument("--apply", action="store_true", help="write the planned balances")
    add_json_argument(parser)
    parser.set_defaults(func=run)
    sub = parser.add_subparsers(dest="repost_command", metavar="SUBCOMMAND")
    for name in _CALCULATORS:
        calc = sub.add_parser(name, help=f"{name} repost of a JSON interchange file")
        calc.add_argument("file", type=Path, metavar="FILE")
        add_json_argument(calc)
        calc.set_defaults(func=run_file, calculator=name)
    load = sub.add_parser(
        "load", help="load a receivables, WIP, staff or projects JSON file into --db"
    )
    load.add_argument("file", type=Path, metavar="FILE")
    load.add_argument("--company", required=True, help="the company the ledger belongs to")
    load.add_argument(
        "--fiscal-start-month",
        type=int,
        help="staff files: the month (1-12) the fiscal year starts in (default 1)",
    )
    load.add_argument(
        "--periods",
        choices=("monthly", "4-4-5"),
        help="staff files: monthly periods (default) or 4-4-5 weeks",
    )
    add_db_argument(load)
    add_json_argument(load)
    load.set_defaults(func=run_load)


def _compute(name: str, data: object, source: str) -> dict[str, Any]:
    from syncstate.domain.repost.projects import repost_projects
    from syncstate.domain.repost.receivables import repost_receivables
    from syncstate.domain.repost.staff import repost_staff
    from syncstate.domain.repost.wip import repost_wip
    from syncstate.services import repost_io as io

    if name == "receivables":
        start, docs = io.receivables_from_json(data, source=source)
        return io.receivables_to_json(repost_receivables(docs, period_start=start))
    if name == "wip":
        start, entries, invoices = io.wip_from_json(data, source=source)
        return io.wip_to_json(repost_wip(entries, invoices, period_start=start))
    if name == "staff":
        members, entries = io.staff_from_json(data, source=source)
        return io.staff_to_json(repost_staff(members, entries))
    return io.projects_to_json(repost_projects(io.projects_from_json(data, source=source)))


def _refuse_ledger_options(args: argparse.Namespace, command: str) -> None:
    """A file sub-command takes none of the ledger options: refuse them (exit 2)."""
    from syncstate.errors import InputError

    names = ("client", "document", "invoice", "staff", "project", "apply", "dry_run")
    given = [f"--{n.replace('_', '-')}" for n in names if getattr(args, n, None)]
    if given:
        raise InputError(f"{' and '.join(given)} apply to a stored ledger, not to `{command}`")


def run_file(args: argparse.Namespace) -> int:
    """Repost one interchange file; print the result (JSON with ``--json``)."""
    from syncstate.money import exact_arithmetic
    from syncstate.services.repost_io import label, load_json

    _refuse_ledger_options(args, f"repost {args.calculator} FILE")
    data = load_json(args.file)
    with exact_arithmetic(f"{label(str(args.file), 200)}: a total"):
        result = _compute(args.calculator, data, str(args.file))
    if args.json:
        emit_json(result)
        return 0
    _print_result(args.calculator, result)
    return 0


def _print_result(name: str, result: dict[str, Any]) -> None:
    tables: dict[str, Callable[[], None]] = {
        "receivables": lambda: print_table(
            ("document", "outstanding", "clear date", "flag", "payment", "bank", "receivables"),
            (
                (
                    k,
                    v["outstanding"],
                    v["clear_date"],
                    v["clear_flag"],
                    v["payment_type"],
                    v["gl"]["bank"],
                    v["gl"]["receivables"],
                )
                for k, v in result["documents"].items()
            ),
        ),
        "wip": lambda: print_table(
            ("entry", "clear flag", "clear date", "write up/down", "status", "hide"),
            (
                (
                    k,
                    v["clear_flag"],
                    v["clear_date"],
                    v["write_updown"],
                    v["billing_status"],
                    v["hide"],
                )
                for k, v in result["entries"].items()
            ),
        ),
        "staff": lambda: print_table(
            ("staff", "period", "std hours", "overtime", "cost rate", "hours worked"),
            (
                (
                    p["staff"],
                    p["period"],
                    p["standard_hours"],
                    p["overtime_rate"],
                    p["cost_rate"],
                    p["hours_worked"],
                )
                for p in result["periods"]
            ),
        ),
        "projects": lambda: print_table(
            ("project", "budget hours", "budget amount", "changed"),
            (
                (k, v["budget_hours"], v["budget_amount"], v["changed"])
                for k, v in result["projects"].items()
            ),
        ),
    }
    tables[name]()
    for item in result.get("deleted", []):
        print(f"deleted {item['id']}: {item['code']} {item['reason']}")
    _print_findings(result["findings"])


def _print_findings(findings: list[dict[str, Any]]) -> None:
    if not findings:
        print("no findings")
        return
    print(f"{len(findings)} finding(s):")
    for f in findings:
        where = ", ".join(f"{k} {v}" for k, v in f["scope"].items())
        extra = ""
        if f["expected"] is not None or f["actual"] is not None:
            extra = f" (expected {f['expected']}, actual {f['actual']})"
        print(f"  {f['code']} [{where}] {f['message']}{extra}")


def _open(args: argparse.Namespace) -> Any:
    from syncstate.adapters.storage.sqlite.ledger import SQLiteLedgerStore
    from syncstate.errors import InputError

    path = db_path(args)
    if not path.exists() and str(path) != ":memory:" and args.func is not run_load:
        raise InputError(f"database {path} does not exist; load a ledger with `repost load`")
    # a dry run only reads: the file is opened read-only and never migrated
    readonly = args.func is run and not args.apply and str(path) != ":memory:"
    return SQLiteLedgerStore(path, readonly=readonly)


def run_load(args: argparse.Namespace) -> int:
    """Load a receivables or WIP interchange file into the ledger database.

    The whole file is read and checked before the database is opened; the load
    itself is one transaction, so a refused file leaves the database as it was.
    """
    from syncstate.domain.repost.receivables import to_rows
    from syncstate.errors import InputError, InterchangeError
    from syncstate.services import repost as service
    from syncstate.services.repost_io import (
        label,
        load_json,
        receivables_from_json,
        wip_from_json,
    )

    _refuse_ledger_options(args, "repost load")
    source = str(args.file)
    data = load_json(args.file)
    calendar_given = args.fiscal_start_month is not None or args.periods is not None
    if isinstance(data, dict) and ("staff" in data or "projects" in data):
        from syncstate.cli.repost_work import load_work

        return load_work(args, data, source)
    if calendar_given:
        raise InputError("--fiscal-start-month and --periods apply to staff files only")
    if isinstance(data, dict) and "documents" in data:
        start, docs = receivables_from_json(data, source=source)
        to_rows(docs)  # every amount in whole cents, before anything is opened
        kind, what = "receivables", "receivable documents"
    elif isinstance(data, dict) and "entries" in data:
        wip_from_json(data, source=source)
        kind, what = "wip", "WIP entries"
    else:
        raise InterchangeError(
            "not a receivables (documents), WIP (entries), staff or projects document",
            source=label(source, 200),
        )
    with _open(args) as store:
        if kind == "receivables":
            count = service.import_receivables(store, args.company, docs, period_start=start)
        else:
            count = service.import_wip(store, args.company, data, source=source)
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


#: the scope options each calculator honours; any other is refused (exit 2)
HONOURED: dict[str, tuple[str, ...]] = {
    "receivables": ("client", "document"),
    "wip": ("client", "invoice", "document"),
    "staff": ("staff", "project"),
    "projects": ("project",),
}
_HINTS = {
    ("receivables", "invoice"): "; for receivables use --document",
}


def _check_scope(args: argparse.Namespace) -> None:
    """Refuse options the calculator does not honour, and more than one scope."""
    from syncstate.errors import InputError

    names = ("client", "document", "invoice", "staff", "project")
    given = [name for name in names if getattr(args, name, None)]
    for name in given:
        if name not in HONOURED[args.calculator]:
            takes = ", ".join(f"--{n}" for n in HONOURED[args.calculator])
            raise InputError(
                f"--{name} is not honoured by the {args.calculator} calculator (it takes "
                f"{takes}){_HINTS.get((args.calculator, name), '')}"
            )
    if len(given) > 1:
        raise InputError(f"give one scope, not {' and '.join('--' + n for n in given)}")


def run(args: argparse.Namespace) -> int:
    """Plan (and with ``--apply`` write) a repost of the stored ledger."""
    from syncstate.errors import InputError
    from syncstate.services import repost as service

    if not args.company:
        raise InputError("--company is required to repost a ledger (or give a sub-command)")
    _check_scope(args)
    progress = None
    if not args.json:
        from syncstate.cli.progress import TerminalProgress

        progress = TerminalProgress(sys.stderr)
    with _open(args) as store:
        if args.calculator in ("staff", "projects"):
            from syncstate.cli.repost_work import run_work

            return run_work(args, store)
        if args.calculator == "wip":
            wip_plan = service.plan_wip_repost(
                store,
                args.company,
                client=args.client,
                invoice=args.invoice,
                document=args.document,
                progress=progress,
            )
            if args.apply and progress is not None:
                print(f"  applying the WIP repost of {wip_plan.scope}", file=sys.stderr)
            written = service.apply_wip_plan(store, wip_plan) if args.apply else 0
            findings = [f.to_dict() for f in wip_plan.findings]
            summary = {
                "company": args.company,
                "calculator": "wip",
                "scope": wip_plan.scope,
                "applied": bool(args.apply),
                "deleted": [d.id for d in wip_plan.result.deletions],
                "rewritten": [e.id for e in wip_plan.updates],
                "written": written,
                "findings": findings,
            }
            if args.json:
                emit_json(summary)
            else:
                _print_findings(findings)
                verb = "applied" if args.apply else "dry run"
                print(
                    f"{verb} ({wip_plan.scope}): {len(summary['deleted'])} deletion(s), "
                    f"{len(summary['rewritten'])} entries to rewrite; {written} entries written"
                )
            return 0
        plan = service.plan_receivables_repost(
            store, args.company, client=args.client, document=args.document, progress=progress
        )
        if args.apply and progress is not None:  # after the bar's totals: a plain line
            print(f"  writing {len(plan.rows)} balance row(s) in one transaction", file=sys.stderr)
        written = service.apply_plan(store, plan) if args.apply else 0
        out: dict[str, Any] = {
            "company": plan.company,
            "calculator": plan.calculator,
            "scope": plan.scope,
            "applied": bool(args.apply),
            "written": written,
            "changes": [
                {
                    "document": c.document,
                    "client": c.client,
                    "field": c.field,
                    "before": c.before,
                    "after": c.after,
                }
                for c in plan.changes
            ],
            "findings": [f.to_dict() for f in plan.findings],
        }
    if args.json:
        emit_json(out)
        return 0
    print_table(
        ("document", "client", "field", "stored", "restored"),
        ((c["document"], c["client"], c["field"], c["before"], c["after"]) for c in out["changes"]),
    )
    _print_findings(out["findings"])
    if args.apply:
        print(f"applied: {written} balance row(s) written for {plan.scope}")
    else:
        print(f"dry run: {len(plan.rows)} balance row(s) would change; rerun with --apply")
    return 0
