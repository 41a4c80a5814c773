"""Shared by the budget tests across processes: where the budget store lives (a
``target``: ``{"kind": "sqlite", "path": ...}`` or ``{"kind": "postgres", "dsn": ...,
"schema": ...}``, plain strings so a forked process can open it again)."""

from __future__ import annotations

from pathlib import Path

import pytest

from postgres_server import require_postgres_driver
from syncstate.ports.budget import BudgetStore


def open_budget_store(target: dict[str, str]) -> BudgetStore:
    """A new connection to the budget store at ``target``."""
    if target["kind"] == "sqlite":
        from syncstate.adapters.storage.sqlite.budgets import SQLiteBudgetStore

        return SQLiteBudgetStore(target["path"])
    from syncstate.adapters.storage.postgres.budgets import PostgresBudgetStore

    return PostgresBudgetStore(target["dsn"], schema=target["schema"], max_size=2)


def budget_target(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    """The target of ``request.param`` (``sqlite`` or ``postgres``), migrated once up front.

    For ``postgres`` the requesting module must see the ``pg_dsn`` and ``pg_schema``
    fixtures of :mod:`postgres_server`.
    """
    if request.param == "sqlite":
        target = {"kind": "sqlite", "path": str(tmp_path / "budgets.db")}
    else:
        require_postgres_driver()
        dsn = request.getfixturevalue("pg_dsn")
        schema = request.getfixturevalue("pg_schema")
        target = {"kind": "postgres", "dsn": dsn, "schema": schema}
    open_budget_store(target).close()
    return target
