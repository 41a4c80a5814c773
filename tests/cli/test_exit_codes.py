"""The exit-status table of docs/cli.md, walked: each situation it names is run and its code
asserted.

The table ("Command by command") is parsed from the page, so the test and the page cannot
drift apart: every cell must have a scenario here (whose situation is quoted from the
cell) or name the test that covers it (:data:`ELSEWHERE`: a live back end, a server that
must be stopped with Ctrl-C, a plan that goes stale between two runs).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest

from syncstate import SQLiteStore, TimeEntry
from syncstate.adapters.storage.sqlite.mirror import SQLiteMirrorStore
from syncstate.cli import main
from syncstate.testing.fuzz import BUNDLE_CSV, REPOST_SAMPLES

ROOT = Path(__file__).resolve().parents[2]
CO = "acme-builders"


def table() -> dict[str, dict[int, str]]:
    """The "command by command" table: row key (the command cell) -> code -> situations."""
    text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    start = text.index("| command | `0` | `1` | `2` |")
    rows: dict[str, dict[int, str]] = {}
    for line in text[start:].splitlines()[2:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        rows[cells[0]] = {code: cells[1 + code] for code in (0, 1, 2)}
    return rows


class Env:
    """A folder with a demo database (copied per scenario) and helpers to run commands."""

    def __init__(self, demo: Path, tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.demo_dir = demo
        self.tmp = tmp
        self.capsys = capsys
        self.db = tmp / "s.db"
        shutil.copyfile(demo / "syncstate.db", self.db)
        self.sie = demo / "nordbygg-2025.se"

    def file(self, name: str, content: str | bytes) -> str:
        path = self.tmp / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        return str(path)

    def run(self, *argv: str) -> int:
        self.capsys.readouterr()
        try:
            status = main(list(argv))
        except SystemExit as exc:
            status = exc.code if isinstance(exc.code, int) else 2
        out, err = self.capsys.readouterr()
        assert "Traceback" not in out + err, err
        return status

    def fresh(self) -> str:
        """A database with five never-exported time records of company ``fresh``."""
        path = self.tmp / "fresh.db"
        with SQLiteStore(path) as store:
            store.ingest(
                "fresh",
                [
                    TimeEntry(source_id=f"t{i}", employee="ann", date=dt.date(2026, 3, 2),
                              hours="1").to_record("fresh")
                    for i in range(5)
                ],
                at=dt.datetime(2026, 3, 2, tzinfo=dt.UTC),
                actor="test",
            )  # fmt: skip
        return str(path)

    def corrupt(self) -> str:
        """The demo database with the root pages of its records table and indexes
        overwritten (a damaged disk: reads fail, the schema still opens)."""
        with closing(sqlite3.connect(self.db)) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            size = conn.execute("PRAGMA page_size").fetchone()[0]
            roots = [
                r[0]
                for r in conn.execute(
                    "SELECT rootpage FROM sqlite_master WHERE tbl_name = 'records' AND rootpage > 0"
                )
            ]
        with open(self.db, "r+b") as f:
            for root in roots:
                f.seek((root - 1) * size)
                f.write(b"\xa5" * size)
        return str(self.db)

    def ledger(self, *, apply: bool) -> str:
        """A repost ledger with acme's receivables loaded (and reposted with ``apply``)."""
        db = self.tmp / "ledger.db"
        path = self.file("ar.json", json.dumps(REPOST_SAMPLES["receivables"]))
        assert self.run("repost", "load", path, "--db", str(db), "--company", "acme") == 0
        if apply:
            assert self.run("repost", "--db", str(db), "--company", "acme", "--apply") == 0
        return str(db)

    def mirror(self) -> str:
        db = self.tmp / "mirror.db"
        assert self.run("mirror", "load", "--db", str(db), "--company", "nb", str(self.sie)) == 0
        return str(db)


Scenario = Callable[[Env], int]


def _busy(env: Env, *argv: str) -> int:
    db = env.mirror()
    store = SQLiteMirrorStore(db)
    holder = f"{socket.gethostname()}:{os.getpid()}:another-run"
    assert store.try_lock("nb", holder=holder, at=dt.datetime.now(dt.UTC),
                          stale_after=dt.timedelta(hours=2))  # fmt: skip
    try:
        return env.run("mirror", *argv, "--db", db, "--company", "nb", str(env.sie))
    finally:
        store.unlock("nb", holder=holder)
        store.close()


def _bundles(env: Env) -> str:
    db = str(env.tmp / "b.db")
    csv = env.file("tx.csv", BUNDLE_CSV)
    assert env.run("bundle", "import", "--db", db, "--company", "cw", csv) == 0
    return db


#: (row, code) -> [(a situation quoted from the cell, the scenario)]
SCENARIOS: dict[tuple[str, int], list[tuple[str, Scenario]]] = {
    ("`demo`", 1): [
        ("PostgreSQL cannot be reached",
         lambda e: e.run("demo", "--store", "postgres", "--dsn", "postgresql://u@127.0.0.1:9/x",
                         "--dir", str(e.tmp / "d"))),
    ],
    ("`demo`", 2): [("a bad option", lambda e: e.run("demo", "--backend", "nosuch"))],
    ("`status`", 0): [("the counts are printed", lambda e: e.run("status", "--db", str(e.db)))],
    ("`status`", 1): [("cannot be read", lambda e: e.run("status", "--db", e.corrupt()))],
    ("`status`", 2): [
        ("a missing database", lambda e: e.run("status", "--db", str(e.tmp / "no.db"))),
    ],
    ("`check`", 0): [("the database is sound", lambda e: e.run("check", "--db", str(e.db)))],
    ("`check`", 1): [("undecodable rows", lambda e: _tampered_check(e))],
    ("`check`", 2): [
        ("cannot be checked as a syncstate database",
         lambda e: e.run("check", "--db", e.file("x.db", b"not a database" * 100))),
    ],
    ("`export`", 0): [
        ("every selected record was exported",
         lambda e: e.run("export", "--db", e.fresh(), "--company", "fresh", "--backend", "memory",
                         "--allow-memory")),
    ],
    ("`export`", 2): [
        ("no `--backend`", lambda e: e.run("export", "--db", str(e.db), "--company", CO)),
        ("a company with no records",
         lambda e: e.run("export", "--db", str(e.db), "--company", "nosuch", "--backend",
                         "memory")),
        ("`--backend memory` on a company exported elsewhere",
         lambda e: e.run("export", "--db", str(e.db), "--company", CO, "--backend", "memory")),
        ("bad dates",
         lambda e: e.run("export", "--db", str(e.db), "--company", CO, "--backend", "memory",
                         "--from", "2026-02-30")),
    ],
    ("`reset`", 0): [
        ("the plan is printed",
         lambda e: e.run("reset", "--db", str(e.db), "--company", CO, "--from", "2026-03-16",
                         "--to", "2026-03-20", "--employee", "eli")),
    ],
    ("`reset`", 2): [
        ("no employee",
         lambda e: e.run("reset", "--db", str(e.db), "--company", CO, "--from", "2026-03-16",
                         "--to", "2026-03-20")),
        ("an inverted range",
         lambda e: e.run("reset", "--db", str(e.db), "--company", CO, "--from", "2026-03-20",
                         "--to", "2026-03-16", "--employee", "eli")),
        ("nothing exported in the selection",
         lambda e: e.run("reset", "--db", str(e.db), "--company", CO, "--from", "2020-01-01",
                         "--to", "2020-01-31", "--employee", "eli")),
    ],
    ("`results`", 0): [
        ("the page is printed", lambda e: e.run("results", "--db", str(e.db), "--company", CO)),
        ("an unknown company gives an empty page",
         lambda e: e.run("results", "--db", str(e.db), "--company", "nosuch")),
    ],
    ("`results`", 1): [
        ("the store failed", lambda e: e.run("results", "--db", e.corrupt(), "--company", CO)),
    ],
    ("`results`", 2): [
        ("a bad `--filter`",
         lambda e: e.run("results", "--db", str(e.db), "--company", CO, "--filter", "bogus")),
        ("a missing database",
         lambda e: e.run("results", "--db", str(e.tmp / "no.db"), "--company", CO)),
    ],
    ("`unlink`, `relink`", 0): [
        ("every record changed",
         lambda e: e.run("unlink", "--db", str(e.db), "--company", CO, "--reason", "r",
                         "ann-2026-03-02", "ann-2026-03-03")),
        ("every record changed",
         lambda e: e.run("relink", "--db", str(e.db), "--company", CO, "zoe-2026-03-03")),
    ],
    ("`unlink`, `relink`", 1): [
        ("a record in a state the action does not apply to",
         lambda e: e.run("unlink", "--db", str(e.db), "--company", CO, "--reason", "r",
                         "zoe-2026-03-03")),
        ("a record in a state the action does not apply to",
         lambda e: e.run("relink", "--db", str(e.db), "--company", CO, "zoe-2026-03-03",
                         "ann-2026-03-02")),
    ],
    ("`unlink`, `relink`", 2): [
        ("an unknown record",
         lambda e: e.run("unlink", "--db", str(e.db), "--company", CO, "--reason", "r", "nosuch")),
        ("an unknown record",
         lambda e: e.run("relink", "--db", str(e.db), "--company", CO, "nosuch")),
        ("no `--reason` for `unlink`",
         lambda e: e.run("unlink", "--db", str(e.db), "--company", CO, "zoe-2026-03-03")),
        ("a missing database",
         lambda e: e.run("relink", "--db", str(e.tmp / "no.db"), "--company", CO, "x")),
    ],
    ("`bundle export`", 2): [
        ("an unknown bundle",
         lambda e: e.run("bundle", "export", "--db", _bundles(e), "--company", "cw", "--backend",
                         "memory", "--allow-memory", "NOSUCH")),
    ],
    ("`bundle` (other actions)", 0): [
        ("done", lambda e: e.run("bundle", "open", "--db", _bundles(e), "--company", "cw")),
    ],
    ("`bundle` (other actions)", 2): [
        ("a bad CSV file",
         lambda e: e.run("bundle", "import", "--db", str(e.tmp / "b.db"), "--company", "cw",
                         e.file("bad.csv", b"type,id\nusage_log,\xff\n"))),
        ("an unknown bundle",
         lambda e: e.run("bundle", "show", "--db", _bundles(e), "--company", "cw", "NOSUCH")),
        ("a bad option", lambda e: e.run("bundle", "make", "--bogus")),
    ],
    ("`sie check`", 0): [("every file is valid", lambda e: e.run("sie", "check", str(e.sie)))],
    ("`sie check`", 1): [
        ("a file is invalid",
         lambda e: e.run("sie", "check", str(e.sie), e.file("bad.se", "#FLAGGA 0\n#VER A\n"))),
    ],
    ("`sie check`", 2): [
        ("no file given", lambda e: e.run("sie", "check")),
        ("a file that does not exist", lambda e: e.run("sie", "check", str(e.tmp / "no.se"))),
        ("is a folder", lambda e: e.run("sie", "check", str(e.tmp))),
    ],
    ("`mirror load`, `status`, `drift`", 0): [
        ("done", lambda e: e.run("mirror", "status", "--db", e.mirror(), "--company", "nb")),
        ("done",
         lambda e: e.run("mirror", "drift", "--db", e.mirror(), "--company", "nb", str(e.sie))),
    ],
    ("`mirror load`, `status`, `drift`", 1): [
        ("another run holds the company", lambda e: _busy(e, "load")),
    ],
    ("`mirror load`, `status`, `drift`", 2): [
        ("a file that is not SIE",
         lambda e: e.run("mirror", "load", "--db", str(e.tmp / "m.db"), "--company", "nb",
                         e.file("x.se", b"\xff\xfe garbage"))),
        ("a missing or foreign database",
         lambda e: e.run("mirror", "status", "--db", str(e.tmp / "no.db"), "--company", "nb")),
    ],
    ("`mirror clear`, `reload`", 0): [
        ("cleared (and reloaded)",
         lambda e: e.run("mirror", "reload", "--db", e.mirror(), "--company", "nb", "--confirm",
                         "nb", str(e.sie))),
    ],
    ("`mirror clear`, `reload`", 1): [
        ("the reload failed and the old data was kept",
         lambda e: e.run("mirror", "reload", "--db", e.mirror(), "--company", "nb", "--confirm",
                         "nb", e.file("bad.se", b"#FLAGGA 0\n#VER A 1 2025XX01\n"))),
        ("the company is busy", lambda e: _busy(e, "reload", "--confirm", "nb")),
    ],
    ("`mirror clear`, `reload`", 2): [
        ("a `--confirm` that does not match",
         lambda e: e.run("mirror", "clear", "--db", e.mirror(), "--company", "nb", "--year",
                         "2025", "--confirm", "other")),
    ],
    ("`repost`, `repost load`", 0): [
        ("the table or plan is printed",
         lambda e: e.run("repost", "receivables",
                         e.file("r.json", json.dumps(REPOST_SAMPLES["receivables"])))),
        ("`--apply` wrote it",
         lambda e: e.run("repost", "--db", e.ledger(apply=False), "--company", "acme",
                         "--apply")),
    ],
    ("`repost`, `repost load`", 2): [
        ("a bad input file", lambda e: e.run("repost", "wip", e.file("w.json", b"{"))),
        ("a database without a repost ledger",
         lambda e: e.run("repost", "--db", str(e.db), "--company", CO)),
        ("an unknown company",
         lambda e: e.run("repost", "--db", e.ledger(apply=True), "--company", "nosuch")),
    ],
    ("`diagnose`", 0): [
        ("the ledger is consistent",
         lambda e: e.run("diagnose", "--db", e.ledger(apply=True), "--company", "acme")),
    ],
    ("`diagnose`", 1): [
        ("findings are listed",
         lambda e: e.run("diagnose", "--db", e.ledger(apply=False), "--company", "acme")),
    ],
    ("`diagnose`", 2): [
        ("a missing database",
         lambda e: e.run("diagnose", "--db", str(e.tmp / "no.db"), "--company", "acme")),
        ("no repost ledger", lambda e: e.run("diagnose", "--db", str(e.db), "--company", CO)),
        ("an unknown company",
         lambda e: e.run("diagnose", "--db", e.ledger(apply=True), "--company", "nosuch")),
    ],
    ("`serve`", 2): [
        ("`--backend memory` without `--allow-memory`",
         lambda e: e.run("serve", "--db", str(e.db), "--backend", "memory")),
    ],
}  # fmt: skip

#: cells whose situations need a live back end, a stopped server or a race: the test that
#: covers each (it must exist)
ELSEWHERE: dict[tuple[str, int], str] = {
    ("`demo`", 0): "tests/cli/test_cli.py",  # the demo fixture: runs the tour, exit 0
    ("`export`", 1): "tests/cli/test_export_quickbooks_cli.py",  # a refused token: exit 1
    ("`reset`", 1): "tests/cli/test_cli.py",
    ("`bundle export`", 0): "tests/cli/test_bundling_cli.py",
    ("`bundle export`", 1): "tests/cli/test_bundling_cli.py",
    ("`bundle` (other actions)", 1): "tests/cli/test_bundling_cli.py",
    ("`repost`, `repost load`", 1): "tests/cli/test_repost_bad_input.py",
    ("`serve`", 0): "tests/cli/test_serve_cli.py",
    ("`serve`", 1): "tests/cli/test_serve_cli.py",
}


def _tampered_check(env: Env) -> int:
    with closing(sqlite3.connect(env.db)) as conn:
        conn.execute("UPDATE records SET state = 'bogus' WHERE source_id = 'ann-2026-03-02'")
        conn.commit()
    return env.run("check", "--db", str(env.db))


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("demo")
    done = subprocess.run(
        [sys.executable, "-m", "syncstate", "demo", "--dir", str(folder), "--json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr  # the `demo` row's 0: the tour ran
    return folder


def test_every_cell_of_the_table_is_walked_here_or_names_its_test() -> None:
    rows = table()
    assert len(rows) >= 15, "the table was not found in docs/cli.md"
    cells = {(row, code) for row, codes in rows.items() for code in codes}
    covered = set(SCENARIOS) | set(ELSEWHERE)
    assert cells - covered == set(), "cells of docs/cli.md without a scenario"
    assert covered - cells == set(), "scenarios of rows or codes docs/cli.md lacks"
    for (row, code), scenarios in SCENARIOS.items():
        for situation, _ in scenarios:
            assert situation in rows[row][code], (row, code, situation)
    for where in ELSEWHERE.values():
        assert (ROOT / where).is_file(), where


CASES = [
    pytest.param(row, code, situation, scenario, id=f"{row.strip('`')}-{code}-{situation}")
    for (row, code), scenarios in SCENARIOS.items()
    for situation, scenario in scenarios
]


@pytest.mark.parametrize(("row", "code", "situation", "scenario"), CASES)
def test_the_stated_situation_exits_with_the_stated_code(
    row: str,
    code: int,
    situation: str,
    scenario: Scenario,
    demo: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert scenario(Env(demo, tmp_path, capsys)) == code
