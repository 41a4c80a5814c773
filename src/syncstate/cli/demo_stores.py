"""Where ``syncstate demo`` keeps its state: an SQLite file, or a schema of PostgreSQL.

``--store sqlite`` (the default) opens the state, bundle and mirror stores in
``<dir>/syncstate.db``. ``--store postgres --dsn DSN`` (or ``$SYNCSTATE_DSN``)
opens all of them, with the repost ledger, in **one schema** over one connection
pool (:func:`~syncstate.adapters.storage.postgres.stores.open_postgres`). The schema
is the demo's own (``syncstate_demo``, or ``--schema``): every run drops it and
makes it again, so a rerun starts from scratch, and nothing outside it is touched.
A schema the demo did not make (it carries no demo marker) is never dropped.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs

from syncstate.errors import ConfigurationError, InputError, StorageError
from syncstate.ports import BundleStore, MirrorStore, StateStore

__all__ = ["DEMO_SCHEMA", "DSN_ENV", "DemoStores", "open_demo_stores", "postgres_dsn"]

#: the schema the demo uses on PostgreSQL unless ``--schema`` names another
DEMO_SCHEMA = "syncstate_demo"
#: the environment variable read when ``--dsn`` is not given
DSN_ENV = "SYNCSTATE_DSN"
#: the comment that marks a schema as the demo's own (only such a schema is dropped)
_MARKER = "made by syncstate demo; dropped and made again by every run"
_SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


@attrs.frozen(kw_only=True)
class DemoStores:
    """The stores of one demo run, and how the demo talks about them."""

    state: StateStore
    bundles: BundleStore
    mirror: MirrorStore
    #: the first line(s) of the tour: where the state lives
    where: str
    #: the last line(s): where to look afterwards
    ending: str
    #: what the JSON summary says about the store
    summary: dict[str, Any]


def postgres_dsn(args: argparse.Namespace) -> str:
    """The DSN of ``--dsn`` or ``$SYNCSTATE_DSN``; exit 2 (no guessing) without one."""
    dsn: str | None = args.dsn or os.environ.get(DSN_ENV)
    if not dsn:
        raise InputError(
            f"--store postgres needs --dsn DSN (or ${DSN_ENV}); the demo never guesses a database"
        )
    return dsn


def _schema_name(args: argparse.Namespace) -> str:
    schema: str = args.schema or DEMO_SCHEMA
    if not _SCHEMA_NAME.fullmatch(schema):
        raise InputError(
            f"--schema {schema!r} is not a plain schema name (lower-case letters, digits and _, "
            "at most 63, not starting with a digit)"
        )
    return schema


@contextlib.contextmanager
def open_demo_stores(
    args: argparse.Namespace, folder: Path, *, kept: bool, company: str
) -> Iterator[DemoStores]:
    """The stores ``args`` name, fresh for this run; closed when the block ends."""
    if args.store == "postgres":
        with _postgres(args) as stores:
            yield stores
        return
    if args.dsn or args.schema:
        raise InputError("--dsn and --schema are options of --store postgres")
    with _sqlite(folder, kept=kept, company=company) as stores:
        yield stores


@contextlib.contextmanager
def _sqlite(folder: Path, *, kept: bool, company: str) -> Iterator[DemoStores]:
    from syncstate.adapters.storage.sqlite.bundles import SQLiteBundleStore
    from syncstate.adapters.storage.sqlite.mirror import SQLiteMirrorStore
    from syncstate.adapters.storage.sqlite.state import SQLiteStore

    db = folder / "syncstate.db"
    if db.exists():
        db.unlink()
    if kept:
        where = f"syncstate demo: SQLite database {db} (kept after the demo)"
        ending = (
            f"Done. The database stays in {db.parent}; look around with\n"
            f"  syncstate status --db {db} --company {company}\n"
            f"  syncstate results --db {db} --company {company} --filter unlinked"
        )
    else:
        where = (
            f"syncstate demo: SQLite database {db}\n"
            "(in a temporary folder, removed at the end; `syncstate demo --dir DIR` keeps it)"
        )
        ending = (
            "Done. The temporary folder is removed now; run `syncstate demo --dir DIR` to keep "
            "the database and look around with `syncstate status` and `syncstate results`."
        )
    state = SQLiteStore(db)
    bundles = SQLiteBundleStore.beside(state)
    mirror = SQLiteMirrorStore(db)
    try:
        yield DemoStores(
            state=state,
            bundles=bundles,
            mirror=mirror,
            where=where,
            ending=ending,
            summary={"store": "sqlite", "database": str(db)},
        )
    finally:
        mirror.close()
        bundles.close()
        state.close()


def _connect(dsn: str) -> Any:
    """A plain connection for the schema set-up; one clear line when it cannot be made."""
    try:
        import psycopg

        from syncstate.adapters.storage.postgres.connections import mask_dsn
    except ImportError as exc:
        raise ConfigurationError(
            f"--store postgres needs the postgres extra (install it with: "
            f"pip install 'syncstate[postgres]'): {exc}"
        ) from None
    try:
        shown = mask_dsn(dsn)
        if shown == "<unparsable DSN>":
            raise psycopg.ProgrammingError(shown)
        return psycopg.connect(dsn, connect_timeout=5, autocommit=True)
    except psycopg.ProgrammingError:
        raise InputError("--dsn is not a PostgreSQL connection string or URL") from None
    except psycopg.Error as exc:
        reason = next((ln.strip() for ln in str(exc).splitlines() if ln.strip()), "")
        raise StorageError(f"cannot reach PostgreSQL at {shown}: {reason}") from None


def _fresh_schema(conn: Any, schema: str) -> None:
    """Drop the demo's schema of an earlier run (only if it carries the marker); make it."""
    row = conn.execute(
        "SELECT obj_description(oid, 'pg_namespace') FROM pg_namespace WHERE nspname = %s",
        (schema,),
    ).fetchone()
    if row is not None and row[0] != _MARKER:
        raise InputError(
            f"schema {schema!r} exists and was not made by syncstate demo; the demo drops only "
            "its own schema: name a new one with --schema"
        )
    if row is not None:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
    conn.execute(f'CREATE SCHEMA "{schema}"')
    conn.execute(f"COMMENT ON SCHEMA \"{schema}\" IS '{_MARKER}'")


@contextlib.contextmanager
def _postgres(args: argparse.Namespace) -> Iterator[DemoStores]:
    dsn, schema = postgres_dsn(args), _schema_name(args)
    with _connect(dsn) as conn:
        from syncstate.adapters.storage.postgres.connections import mask_dsn
        from syncstate.adapters.storage.postgres.stores import open_postgres

        try:
            _fresh_schema(conn, schema)
        except InputError:
            raise
        except Exception as exc:  # psycopg's errors: no rights to make a schema, ...
            reason = " ".join(str(exc).split())
            raise StorageError(f"cannot make schema {schema!r}: {reason}") from None
    shown = mask_dsn(dsn)
    stores = open_postgres(dsn, schema=schema, max_size=6, connect_timeout=5.0, attempts=2)
    try:
        yield DemoStores(
            state=stores.state,
            bundles=stores.bundles,
            mirror=stores.mirror,
            where=(
                f"syncstate demo: PostgreSQL schema {schema}\n  at {shown}\n"
                "(the demo's own schema: dropped and made again on every run; "
                "no other schema is touched)"
            ),
            ending=(
                f"Done. The tables stay in schema {schema}; look at them with psql, "
                f'and drop them with DROP SCHEMA "{schema}" CASCADE (the next demo run '
                "drops and makes it again)."
            ),
            summary={"store": "postgres", "schema": schema},
        )
    finally:
        stores.close()
