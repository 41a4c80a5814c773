"""The back-end arguments every command that talks to a back end shares.

``--backend NAME`` is required (no default: a throwaway back end would mark real
records exported); ``--backend-option KEY=VALUE`` (repeatable) is parsed by the
plug-in's declared options; ``--realm``, ``--mapping``, ``--token-env``,
``--token-file`` and ``--token-command`` are shorthands for the options of that name.
``--backend memory`` is refused on a company with records exported elsewhere
unless ``--allow-memory`` is given.
"""

from __future__ import annotations

import argparse
from typing import Any

from syncstate.domain.state import ExportState
from syncstate.errors import InputError
from syncstate.plugin_options import parse_option_text
from syncstate.ports import AccountingBackend, StateStore

__all__ = ["add_backend_arguments", "backend_pairs", "open_cli_backend", "refuse_throwaway"]

#: shorthand flag (argparse dest) -> the back-end option it sets
_SHORTHANDS = ("realm", "mapping", "token_env", "token_file", "token_command")


def _option(text: str) -> tuple[str, str]:
    try:
        return parse_option_text(text)
    except InputError as exc:  # never echo the text: it may be a token
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_backend_arguments(parser: argparse.ArgumentParser, *, required: bool = True) -> None:
    """Add ``--backend``, ``--backend-option``, the shorthands and ``--allow-memory``."""
    parser.add_argument(
        "--backend",
        required=required,
        help="back-end plug-in name (e.g. quickbooks, beancount; memory only for trials)",
    )
    parser.add_argument(
        "--backend-option",
        action="append",
        type=_option,
        default=[],
        metavar="KEY=VALUE",
        help="an option of the back-end plug-in, typed by the plug-in (repeatable)",
    )
    parser.add_argument("--realm", metavar="ID", help="QuickBooks realm id of --company")
    parser.add_argument("--mapping", metavar="FILE", help="JSON mapping file of the back end")
    parser.add_argument(
        "--token-env", metavar="VAR", help="environment variable holding the access token"
    )
    parser.add_argument("--token-file", metavar="FILE", help="file holding the access token")
    parser.add_argument(
        "--token-command", metavar="CMD", help="command printing a fresh access token"
    )
    parser.add_argument(
        "--allow-memory",
        action="store_true",
        help="allow --backend memory on a company with records exported elsewhere",
    )


def backend_pairs(args: argparse.Namespace) -> list[tuple[str, str]]:
    """``--backend-option`` pairs plus the shorthand flags, as text."""
    pairs: list[tuple[str, str]] = list(args.backend_option)
    for flag in _SHORTHANDS:
        value = getattr(args, flag, None)
        if value is None:
            continue
        if flag == "realm":
            value = f"{args.company}:{value}"
        pairs.append((flag, value))
    return pairs


def refuse_throwaway(store: StateStore, company: str, backend: str, allowed: bool) -> None:
    """Refuse the in-memory back end on a company with records exported elsewhere."""
    if backend != "memory" or allowed:
        return
    counts = store.counts(company)
    elsewhere = sum(
        n
        for state, n in counts.items()
        if state in (ExportState.EXPORTED, ExportState.OUTDATED, ExportState.IN_FLIGHT)
    )
    if elsewhere:
        raise InputError(
            f"company {company!r} has {elsewhere} record(s) exported (or in flight) to a real "
            "back end; --backend memory would mark more records exported into a back end that "
            "forgets them: name the real back end, or pass --allow-memory if this is meant"
        )


def open_cli_backend(args: argparse.Namespace, store: StateStore) -> AccountingBackend:
    """The back end the arguments name, after every check (nothing is claimed yet)."""
    from syncstate.plugins import open_backend_from_options

    if not args.backend:
        raise InputError("--backend is required (e.g. --backend quickbooks)")
    refuse_throwaway(store, args.company, args.backend, args.allow_memory)
    return open_backend_from_options(args.backend, backend_pairs(args))


def close_backend(backend: Any) -> None:
    """Close the back end's connections, if it has any."""
    close = getattr(backend, "close", None)
    if callable(close):
        close()
