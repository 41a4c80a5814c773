"""``syncstate bundle vendors`` and ``syncstate bundle items``: match or create them remotely.

The vendor and item equivalents of ``syncstate bundle customers``
(:mod:`syncstate.services.directory_sync`)::

    vendors --vendor ID=NAME ...   match or create a vendor per supplier, map it
    items [--item ID=NAME ...]     match or create an item per bookable resource (default:
                                   every resource of the usage logs); NAME may be
                                   Parent:Child (a sub-item; missing parents become categories)

Both take ``--dry-run`` (match only; nothing created or mapped), ``--json`` and the
back-end options. Each name's row says ``kept``, ``matched``, ``created``,
``ambiguous`` / ``taken`` (nothing mapped: the candidates are in the reason; map one
with ``bundle map``) or ``failed`` (the answer was lost: run again). Exit status 1
when a name failed, else 0.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import Any

from syncstate.cli._common import emit_json, print_table
from syncstate.errors import InputError
from syncstate.services.bundling import BundleService
from syncstate.services.directory_sync import DirectorySync, sync_items, sync_vendors

__all__ = ["ACTIONS", "add_actions", "run_action"]

#: the ``bundle`` actions this module adds
ACTIONS = ("vendors", "items")


def add_actions(
    action: Callable[[str, str], argparse.ArgumentParser],
    add_backend: Callable[[argparse.ArgumentParser], None],
) -> None:
    """Add ``vendors`` and ``items`` through ``bundle``'s own ``action(name, help)``."""
    p = action("vendors", "create or match remote vendors for suppliers")
    p.add_argument(
        "--vendor", action="append", dest="names", metavar="ID=NAME", required=True,
        help="a supplier and its vendor display name (repeat)",
    )  # fmt: skip
    p.add_argument("--dry-run", action="store_true", help="match only; create and map nothing")
    add_backend(p)
    p = action("items", "create or match remote items for the bookable resources")
    p.add_argument(
        "--item", action="append", dest="names", metavar="ID=NAME",
        help="a resource and its item name, Parent:Child for a sub-item (repeat; "
        "default: every resource of the usage logs, named as the resource)",
    )  # fmt: skip
    p.add_argument("--type", dest="item_type", default="Service", help="default: Service")
    p.add_argument("--income-account", metavar="ID", help="the back end's income account id")
    p.add_argument("--expense-account", metavar="ID", help="the back end's expense account id")
    p.add_argument("--dry-run", action="store_true", help="match only; create and map nothing")
    add_backend(p)


def _pairs(values: Sequence[str] | None, option: str) -> dict[str, str] | None:
    if values is None:
        return None
    out: dict[str, str] = {}
    for value in values:
        local, sep, name = value.partition("=")
        if not sep or not local.strip() or not name.strip():
            raise InputError(f"{option} {value!r}: expected ID=NAME")
        out[local.strip()] = name.strip()
    return out


def _reason(result: DirectorySync) -> str:
    return result.reason if result.action != "matched" else ""


def run_action(service: BundleService, backend: Any, args: argparse.Namespace) -> int:
    """Run ``vendors`` or ``items`` for ``args.company``; print one row per name."""
    co = args.company
    if args.action == "vendors":
        wanted = _pairs(args.names, "--vendor") or {}
        results = sync_vendors(service, backend, co, wanted, dry_run=args.dry_run)
    else:
        results = sync_items(
            service, backend, co, _pairs(args.names, "--item"), dry_run=args.dry_run,
            item_type=args.item_type, income_account=args.income_account,
            expense_account=args.expense_account,
        )  # fmt: skip
    if args.json:
        emit_json([
            {"local": r.local, "name": r.name, "action": r.action, "remote_id": r.remote_id,
             "reason": _reason(r),
             "candidates": [{"entity": c.entity, "remote_id": c.remote_id, "name": c.name,
                             "active": c.active, "likeness": c.likeness} for c in r.candidates]}
            for r in results
        ])  # fmt: skip
    else:
        label = "supplier" if args.action == "vendors" else "resource"
        print_table(
            [label, "name", "action", "remote id", "reason"],
            [[r.local, r.name, r.action, r.remote_id, _reason(r)] for r in results],
        )
    return 1 if any(r.action == "failed" for r in results) else 0
