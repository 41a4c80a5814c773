"""``bundle vendors`` / ``bundle items``: matched, created and proposed names from the
command line, against the local QuickBooks-like server (token from the environment)."""

from __future__ import annotations

import argparse
import contextlib
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from syncstate.adapters.storage.sqlite.bundles import SQLiteBundleStore
from syncstate.adapters.storage.sqlite.state import SQLiteStore
from syncstate.cli import build_parser, main
from syncstate.cli._common import add_db_argument, add_json_argument
from syncstate.cli.backend_args import add_backend_arguments, open_cli_backend
from syncstate.cli.directory import add_actions, run_action
from syncstate.errors import InputError
from syncstate.services.bundling import BundleService
from syncstate.testing.qbo_server import QboServer

TOKEN = "directory-cli-token"
REALM = "7310"


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[QboServer]:
    monkeypatch.setenv("QUICKBOOKS_ACCESS_TOKEN", TOKEN)
    with QboServer() as running:
        running.valid_tokens = {TOKEN}
        yield running


def parser() -> argparse.ArgumentParser:
    """The ``bundle`` command's shape: each action takes --db, --company, --json."""
    top = argparse.ArgumentParser(prog="bundle")
    actions = top.add_subparsers(dest="action", required=True)

    def action(name: str, text: str) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = actions.add_parser(name, help=text)
        add_db_argument(p)
        p.add_argument("--company", required=True)
        add_json_argument(p)
        return p

    add_actions(action, lambda p: add_backend_arguments(p, required=False))
    return top


def backend_args(db: Path, server: QboServer) -> list[str]:
    mapping = db.with_name("mapping.json")
    mapping.write_text("{}", encoding="utf-8")
    return ["--db", str(db), "--company", "acme", "--json", "--backend", "quickbooks",
            "--backend-option", f"base_url={server.base_url}", "--realm", REALM,
            "--mapping", str(mapping)]  # fmt: skip


def run(db: Path, server: QboServer, *argv: str) -> tuple[int, list[dict[str, object]]]:
    args = parser().parse_args([*argv, *backend_args(db, server)])
    store = SQLiteStore(db)
    bundles = SQLiteBundleStore.beside(store)
    service = BundleService(store, bundles, actor="cli")
    backend = open_cli_backend(args, store)
    try:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            code = run_action(service, backend, args)
        return code, json.loads(out.getvalue())
    finally:
        backend.close()  # type: ignore[attr-defined]
        bundles.close()
        store.close()


def test_vendors_and_items_from_the_command_line(tmp_path: Path, server: QboServer) -> None:
    db = tmp_path / "s.db"
    server.add(REALM, "Vendor", {"DisplayName": "Acme Supplies", "Active": True})
    server.add(REALM, "Item", {"Name": "Desk", "Type": "Service"})
    code, rows = run(db, server, "vendors", "--vendor", "acme=acme supplies", "--vendor", "x=X Co")
    assert code == 0
    assert [(r["local"], r["action"]) for r in rows] == [("acme", "matched"), ("x", "created")]
    code, rows = run(db, server, "items", "--item", "d=Rooms:Desk", "--item", "r=Room", "--dry-run")
    assert code == 0
    assert [(r["local"], r["action"]) for r in rows] == [("d", "ambiguous"), ("r", "created")]
    assert rows[0]["candidates"][0]["name"] == "Desk"  # type: ignore[index]
    assert server.count(REALM, "Item") == 1  # a dry run creates nothing
    with pytest.raises(InputError, match="ID=NAME"):
        run(db, server, "vendors", "--vendor", "no-name")


def _wired() -> bool:
    """Whether ``syncstate bundle`` has the ``vendors`` action (cli/bundle.py registers it)."""
    argv = ["bundle", "vendors", "--db", "x.db", "--company", "c", "--vendor", "a=b"]
    try:
        with contextlib.redirect_stderr(io.StringIO()):
            build_parser().parse_args(argv)
    except SystemExit:
        return False
    return True


@pytest.mark.skipif(not _wired(), reason="bundle vendors/items not registered in cli/bundle.py")
def test_bundle_items_through_main(
    tmp_path: Path, server: QboServer, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "s.db"
    SQLiteStore(db).close()
    code = main(["bundle", "items", "--item", "r=Room", *backend_args(db, server)])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert [r["action"] for r in json.loads(out)] == ["created"]
