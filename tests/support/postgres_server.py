"""Fixtures for tests that need a real PostgreSQL server.

Tests read the server from ``SYNCSTATE_TEST_PG_DSN`` (``.ci/postgres.sh start``
starts a throw-away one and prints it). Without it they skip with the reason on
a developer's machine; with ``CI`` set they fail instead, so CI can never pass
with the PostgreSQL tests skipped. Each test gets a schema of its own, dropped
afterwards, so only ``CREATE`` on the database is needed.

Use from a test module::

    from postgres_server import pg_dsn, pg_schema, require_postgres_driver  # noqa: F401
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

ENV = "SYNCSTATE_TEST_PG_DSN"
HOW = f'set {ENV} (e.g. eval "$(.ci/postgres.sh start)"); see docs/workers.md'


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"PostgreSQL tests cannot run in CI: {reason}", pytrace=False)
    pytest.skip(f"PostgreSQL tests skipped: {reason}; {HOW}", allow_module_level=True)


def require_postgres_driver() -> None:
    """Skip (or fail in CI) the calling module when psycopg is not installed."""
    try:
        import psycopg  # noqa: F401
        import psycopg_pool  # noqa: F401
    except ImportError as exc:
        _unavailable(
            f"the postgres extra is not installed ({exc}); pip install syncstate[postgres]"
        )


@pytest.fixture(scope="session")
def pg_dsn() -> str:
    """The DSN of a reachable server (checked once per session)."""
    dsn = os.environ.get(ENV, "").strip()
    if not dsn:
        _unavailable(f"{ENV} is not set")
    import psycopg

    try:
        with psycopg.connect(dsn, connect_timeout=5) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        _unavailable(f"cannot connect to the server in {ENV}: {exc}")
    return dsn


@pytest.fixture
def pg_schema(pg_dsn: str) -> Iterator[str]:
    """A fresh schema name for one test; the schema is dropped afterwards."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:16]}"
    yield name
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
