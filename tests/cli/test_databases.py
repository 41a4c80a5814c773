"""Databases that are not syncstate's, or damaged: refused or reported, never changed.

Every read-only command leaves a foreign file byte-for-byte unchanged (and creates no
file where none was); commands that write never add syncstate's tables to another
application's file; damaged rows are reported as one line naming the problem, and
`syncstate check` names the records.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from syncstate import SQLiteStore, TimeEntry

CO = "acme"


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "syncstate", *args], capture_output=True, text=True, timeout=60
    )


def one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


@pytest.fixture
def foreign(tmp_path: Path) -> Path:
    path = tmp_path / "crm.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE contacts (id INTEGER PRIMARY KEY, name TEXT)")
        conn.execute("INSERT INTO contacts (name) VALUES ('Ann')")
    return path


@pytest.fixture
def ours(tmp_path: Path) -> Path:
    path = tmp_path / "syncstate.db"
    with SQLiteStore(path) as store:
        store.ingest(
            CO,
            [
                TimeEntry(source_id=f"t{i}", employee="ann", date=dt.date(2026, 3, 2), hours="1")
                .to_record(CO)
                for i in range(3)
            ],
            at=dt.datetime(2026, 3, 2, tzinfo=dt.UTC),
            actor="test",
        )  # fmt: skip
    return path


READ_ONLY = [
    ("status",),
    ("results", "--company", CO),
    ("check",),
    ("reset", "--company", CO, "--from", "2026-03-01", "--to", "2026-03-31", "--employee", "ann"),
]


@pytest.mark.parametrize("command", READ_ONLY, ids=lambda c: c[0])
def test_read_only_commands_refuse_a_foreign_file_and_leave_it_unchanged(
    foreign: Path, command: tuple[str, ...]
) -> None:
    before = foreign.read_bytes()
    done = cli(command[0], "--db", str(foreign), *command[1:])
    assert done.returncode == 2
    assert "not a syncstate database" in one_error_line(done)
    assert foreign.read_bytes() == before
    assert sorted(p.name for p in foreign.parent.iterdir()) == ["crm.sqlite"]  # no -wal/-shm


@pytest.mark.parametrize("command", READ_ONLY, ids=lambda c: c[0])
def test_read_only_commands_on_a_missing_file_create_nothing(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    missing = tmp_path / "sub" / "none.db"
    done = cli(command[0], "--db", str(missing), *command[1:], "--json")
    assert done.returncode == 2
    assert "does not exist" in json.loads(done.stderr)["error"]
    assert not (tmp_path / "sub").exists()


def test_a_writing_command_never_adds_its_tables_to_a_foreign_file(foreign: Path) -> None:
    before = foreign.read_bytes()
    done = cli("export", "--db", str(foreign), "--company", CO, "--backend", "memory")
    assert done.returncode == 2
    assert "holds other tables: contacts" in one_error_line(done)
    assert foreign.read_bytes() == before


@pytest.mark.parametrize("content", [b"", b"hello, not a database\n" * 50, bytes(range(256)) * 8])
def test_a_file_that_is_not_sqlite_is_a_clear_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "x.db"
    path.write_bytes(content)
    done = cli("status", "--db", str(path))
    assert done.returncode == 2
    one_error_line(done)
    assert path.read_bytes() == content


def test_a_folder_given_as_the_database_is_a_clear_error(tmp_path: Path) -> None:
    done = cli("status", "--db", str(tmp_path))
    assert done.returncode == 2 and "is a folder" in one_error_line(done)


def test_a_status_of_our_database_reads_without_changing_it(ours: Path) -> None:
    before = ours.read_bytes()
    done = cli("status", "--db", str(ours), "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["companies"][CO]["not_exported"] == 3
    assert ours.read_bytes() == before


def test_tampered_rows_are_reported_not_a_traceback_and_check_names_them(ours: Path) -> None:
    with sqlite3.connect(ours) as conn:
        conn.execute("UPDATE records SET state = 'bogus' WHERE source_id = 't0'")
        conn.execute("UPDATE records SET fields = '{broken' WHERE source_id = 't1'")
        conn.execute(
            "UPDATE records SET state = 'exported', remote_id = '99' WHERE source_id = 't2'"
        )
    done = cli("results", "--db", str(ours), "--company", CO)
    assert done.returncode == 1
    assert "damaged" in one_error_line(done)
    checked = cli("check", "--db", str(ours), "--json")
    assert checked.returncode == 1, checked.stderr
    report = json.loads(checked.stdout)
    assert report["ok"] is False and report["records"] == 3
    text = "\n".join(report["problems"])
    assert f"{CO}/time_entry/t0" in text and "bogus" in text
    assert f"{CO}/time_entry/t1" in text and "JSON" in text
    assert f"{CO}/time_entry/t2" in text and "journal gives not_exported" in text


def test_a_sound_database_checks_clean(ours: Path) -> None:
    done = cli("check", "--db", str(ours))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 records checked: no problem(s)" in done.stdout


def test_a_corrupted_page_is_a_storage_error_with_exit_1(ours: Path) -> None:
    # everything in the main file first (no write-ahead log left to read around the damage)
    with sqlite3.connect(ours) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("PRAGMA journal_mode=DELETE")
    data = bytearray(ours.read_bytes())
    page = 4096
    # scribble over every page but the first (the schema): no table or index page keeps a
    # valid page type, so any read of the records is an error SQLite detects (a partly
    # scribbled page may still parse as an empty one)
    for offset in range(page, len(data), page):
        end = min(offset + page, len(data))
        data[offset:end] = b"\xff" * (end - offset)
    ours.write_bytes(bytes(data))
    done = cli("results", "--db", str(ours), "--company", CO)
    assert done.returncode in (1, 2)
    one_error_line(done)


def test_export_for_a_company_without_records_is_bad_input(ours: Path) -> None:
    done = cli("export", "--db", str(ours), "--company", "nosuch", "--backend", "memory")
    assert done.returncode == 2 and "has no records" in one_error_line(done)
