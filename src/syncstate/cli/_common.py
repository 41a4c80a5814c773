"""Helpers shared by the sub-commands: JSON output, tables, opening stores."""

from __future__ import annotations

import argparse
import datetime as dt
import enum
import json
import os
import sys
from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from syncstate.adapters.storage.sqlite.state import SQLiteStore

__all__ = [
    "add_db_argument",
    "add_json_argument",
    "db_path",
    "emit_json",
    "open_sqlite_store",
    "print_table",
    "to_jsonable",
]


def to_jsonable(value: Any) -> Any:
    """Convert Decimals (to strings), dates (to ISO), enums and tuples for ``json``."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, dict):
        return {str(to_jsonable(k)): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_jsonable(v) for v in value]
    return value


def emit_json(value: Any, stream: TextIO | None = None) -> None:
    """Print ``value`` as one JSON document."""
    json.dump(to_jsonable(value), stream or sys.stdout, indent=2, sort_keys=False)
    (stream or sys.stdout).write("\n")


def print_table(
    headers: Sequence[str], rows: Iterable[Sequence[object]], stream: TextIO | None = None
) -> None:
    """Print rows as a plain aligned text table."""
    out = stream or sys.stdout
    cells = [[str(to_jsonable(c)) if c is not None else "" for c in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    out.write(line.rstrip() + "\n")
    out.write("  ".join("-" * w for w in widths) + "\n")
    for row in cells:
        out.write("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() + "\n")


def add_json_argument(parser: argparse.ArgumentParser) -> None:
    """Add ``--json`` (machine-readable output)."""
    parser.add_argument("--json", action="store_true", help="print JSON for scripts")


def add_db_argument(parser: argparse.ArgumentParser) -> None:
    """Add ``--db PATH`` (the SQLite database; env SYNCSTATE_DB)."""
    parser.add_argument(
        "--db",
        type=Path,
        default=None,
        help="SQLite database file (default: $SYNCSTATE_DB or ./syncstate.db)",
    )


def db_path(args: argparse.Namespace) -> Path:
    """The database path from ``--db``, ``$SYNCSTATE_DB`` or ``./syncstate.db``."""
    path: Path | None = getattr(args, "db", None)
    if path is None:
        path = Path(os.environ.get("SYNCSTATE_DB", "syncstate.db"))
    return path


def open_sqlite_store(
    args: argparse.Namespace, *, must_exist: bool = True, readonly: bool = False
) -> SQLiteStore:
    """Open the SQLite store named by ``--db``.

    ``readonly=True`` (commands that only read) opens an existing syncstate database
    without changing a byte of it and refuses anything else with exit 2. Commands that
    write open an existing syncstate database (upgrading its schema), and never add
    syncstate's tables to a file that holds another application's tables.
    """
    from syncstate.adapters.storage.sqlite.files import foreign_tables
    from syncstate.adapters.storage.sqlite.state import SQLiteStore
    from syncstate.errors import InputError

    path = db_path(args)
    if path.is_dir():
        raise InputError(f"database {path} is a folder, not a file")
    if readonly:
        return SQLiteStore(path, readonly=True)
    if must_exist and not path.exists():
        raise InputError(f"database {path} does not exist (run `syncstate demo --dir DIR` first?)")
    others = foreign_tables(path)
    if others:
        shown = ", ".join(others[:5]) + (", ..." if len(others) > 5 else "")
        raise InputError(
            f"{path} is not a syncstate database (it holds other tables: {shown}); "
            "syncstate does not add its tables to another application's file"
        )
    return SQLiteStore(path)
