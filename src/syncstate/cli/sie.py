"""``syncstate sie check FILE... [--json]``: validate and summarise SIE files.

Exit status 0 when every file is valid, 1 when any file has an error (each
problem is listed with file, line and what is wrong).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from syncstate.cli._common import add_json_argument, emit_json
from syncstate.errors import InputError

__all__ = ["register", "run"]


def register(subparsers: Any) -> None:
    """Add ``sie`` and its ``check`` sub-command."""
    parser = subparsers.add_parser("sie", help="SIE files: validate and summarise")
    sub = parser.add_subparsers(dest="sie_command", metavar="SUBCOMMAND", required=True)
    check = sub.add_parser("check", help="validate SIE files like the public SIE validator")
    check.add_argument("files", nargs="+", type=Path, metavar="FILE")
    add_json_argument(check)
    check.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Check every file; print a summary (or JSON); 1 if any file is invalid, 2 if missing."""
    from syncstate.adapters.backends.sie.check import check_sie

    for path in args.files:  # a wrong path is bad input (exit 2), not an invalid file
        if not path.is_file():
            what = "is a folder" if path.is_dir() else "does not exist"
            raise InputError(f"{path} {what}")
    checks = [check_sie(path) for path in args.files]
    if args.json:
        emit_json({"files": [c.to_dict() for c in checks]})
    else:
        out = sys.stdout
        for c in checks:
            out.write(f"{c.file}: {'valid' if c.valid else 'INVALID'}\n")
            if c.sie_type is not None:
                years = ", ".join(f"{i}: {s}..{e}" for i, s, e in c.fiscal_years) or "none"
                out.write(
                    f"  SIE {c.sie_type} from {c.program or '?'}; {c.company or '?'}"
                    f" ({c.org_number or 'no org number'})\n"
                    f"  fiscal years {years}\n"
                    f"  {c.accounts} accounts, {c.vouchers} vouchers, {c.transactions}"
                    f" transactions; #KSUMMA {c.ksumma}; encoding {c.encoding}\n"
                )
            for p in c.problems:
                out.write(f"  {c.file}:{p.line}: {p.severity}: {p.message}\n")
    return 0 if all(c.valid for c in checks) else 1
