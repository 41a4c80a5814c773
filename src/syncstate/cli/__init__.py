"""The ``syncstate`` command line.

Each sub-command lives in its own module of this package with a
``register(subparsers)`` function; :data:`COMMANDS` lists them in help order.
User mistakes (bad options, bad input files, bad configuration) print one line to
stderr and exit with status 2; failures of a back end or store exit with 1; success
exits with 0. With ``--json`` an error is one JSON object on one line of stderr instead
(``{"error": ..., "type": ..., "exit": ...}``); stdout then stays empty.
A mistyped option prints the usage of the sub-command it was given to. Interrupted
(Ctrl-C): 130; the reader of stdout went away (``| head``): 141, quietly.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from syncstate.errors import ConfigurationError, InputError, RecordNotFound, SyncStateError

__all__ = ["COMMANDS", "EXIT_FAILURE", "EXIT_OK", "EXIT_USAGE", "build_parser", "main"]

#: sub-command modules, in the order ``--help`` lists them
COMMANDS: tuple[str, ...] = (
    "demo",
    "status",
    "check",
    "export",
    "reset",
    "results",
    "bundle",
    "sie",
    "mirror",
    "repost",
    "diagnose",
    "serve",
)

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2


def _wants_json(argv: Sequence[str]) -> bool:
    return "--json" in argv


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors honour ``--json`` and exit with status 2."""

    #: the raw arguments of this run (set by :func:`main`)
    argv: Sequence[str] = ()

    def error(self, message: str) -> NoReturn:
        """Print the usage of this (sub-)command and one error line; exit 2."""
        # an argument may hold control characters (a stray \r): show them escaped
        message = "".join(c if c.isprintable() else repr(c)[1:-1] for c in message)
        if _wants_json(_Parser.argv):
            _json_error(f"{self.prog}: {message}", "UsageError", EXIT_USAGE)
        else:
            self.print_usage(sys.stderr)
            sys.stderr.write(f"{self.prog}: error: {message}\n")
        raise SystemExit(EXIT_USAGE)


def _json_error(message: str, kind: str, status: int) -> None:
    print(json.dumps({"error": message, "type": kind, "exit": status}), file=sys.stderr)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command registered."""
    parser = _Parser(
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
    raw = list(sys.argv[1:] if argv is None else argv)
    _Parser.argv = raw
    parser = build_parser()
    try:
        args, extra = parser.parse_known_args(raw)
        if extra:
            # argparse would blame the top-level command; the sub-command's usage helps more
            owner = _subparser(parser, getattr(args, "command", None)) or parser
            owner.error(f"unrecognized arguments: {' '.join(extra)}")
    except SystemExit as exc:
        return int(exc.code) if isinstance(exc.code, int) else EXIT_USAGE
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    json_errors = bool(getattr(args, "json", False))
    try:
        status: int = args.func(args)
    except (InputError, ConfigurationError, RecordNotFound) as exc:
        return _fail(exc, EXIT_USAGE, json_errors)
    except SyncStateError as exc:
        return _fail(exc, EXIT_FAILURE, json_errors)
    except BrokenPipeError:  # before OSError, of which it is one
        # the reader went away (``syncstate ... | head``): stop quietly, as Unix tools do
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    except OSError as exc:  # a file the command was given cannot be read or written
        return _fail(exc, EXIT_USAGE, json_errors)
    except KeyboardInterrupt:
        print("syncstate: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a defect: still one line, never a traceback for a user
        log.debug("unexpected error in syncstate %s", getattr(args, "command", ""), exc_info=True)
        return _fail(
            SyncStateError(f"unexpected {type(exc).__name__}: {exc} (a defect; please report it)"),
            EXIT_FAILURE,
            json_errors,
        )
    return status


def _fail(exc: Exception, status: int, json_errors: bool) -> int:
    message = " ".join(str(exc).split())  # one line, whatever the error holds
    if json_errors:
        _json_error(message, type(exc).__name__, status)
    else:
        print(f"syncstate: error: {message}", file=sys.stderr)
    return status


def _subparser(parser: argparse.ArgumentParser, command: str | None) -> _Parser | None:
    if command is None:
        return None
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            found = action.choices.get(command)
            if isinstance(found, _Parser):
                # a nested command (``repost load``) has its own sub-parsers
                return found
    return None


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
