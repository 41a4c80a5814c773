"""The ``syncstate`` command line.

Each sub-command lives in its own module of this package with a
``register(subparsers)`` function; :data:`COMMANDS` lists them in help order.
User mistakes print one line to stderr and exit with status 2; failures of a
back end or store exit with 1; success exits with 0.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from syncstate.errors import InputError, SyncStateError

__all__ = ["COMMANDS", "EXIT_FAILURE", "EXIT_OK", "EXIT_USAGE", "build_parser", "main"]

#: sub-command modules, in the order ``--help`` lists them
COMMANDS: tuple[str, ...] = (
    "demo",
    "status",
    "export",
    "reset",
    "results",
    "bundle",
    "sie",
    "mirror",
    "repost",
    "diagnose",
)

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command registered."""
    parser = argparse.ArgumentParser(
        prog="syncstate",
        description="Keep records in step with an accounting or payroll back end.",
        epilog="Exit status: 0 success, 1 a back end or store failed, 2 bad input.",
    )
    from syncstate import __version__

    parser.add_argument("--version", action="version", version=f"syncstate {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        module = importlib.import_module(f"syncstate.cli.{name}")
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        status: int = args.func(args)
    except InputError as exc:
        print(f"syncstate: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except SyncStateError as exc:
        print(f"syncstate: error: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print("syncstate: interrupted", file=sys.stderr)
        return 130
    return status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
