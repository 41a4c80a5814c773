"""Every mirror run leaves a trace: ``mirror status`` and ``MirrorService.attempts`` show
the last runs per company and fiscal year with their outcome and reason, a killed run
as ``interrupted``, and reading them never writes."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_mirror_crash import big_sie

from syncstate.adapters.backends.sie.source import SieSource
from syncstate.adapters.storage.memory.mirror import MemoryMirrorStore
from syncstate.adapters.storage.sqlite.mirror import SQLiteMirrorStore
from syncstate.domain.mirror_attempts import ATTEMPTS_KEPT
from syncstate.errors import CompanyBusy, InputError
from syncstate.services.mirror import MirrorService

CO = "acme"


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "syncstate", "mirror", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def year_file(tmp_path: Path) -> Path:
    return big_sie(tmp_path / "year.se", 3)


def test_a_load_a_failed_reload_and_a_refused_run_are_each_recorded(
    tmp_path: Path, year_file: Path
) -> None:
    store = SQLiteMirrorStore(tmp_path / "m.db")
    service = MirrorService(store)
    report = service.load(CO, SieSource([year_file]))
    [year] = report.years
    bad = tmp_path / "bad.se"
    bad.write_bytes(b"#FLAGGA 0\n#VER A 1 2025XX01\n")
    run = service.clear(CO, [year], confirm=CO, reload_from=SieSource([bad]))
    assert not run.ok
    other = MirrorService(store, holder="someone-else")
    with other.locked(CO), pytest.raises(CompanyBusy):
        service.load(CO, SieSource([year_file]))
    rows = service.attempts(CO)
    assert [(a.operation, a.outcome) for a in rows] == [
        ("load", "refused"),
        ("reload", "failed"),
        ("load", "ok"),
    ]
    refused, failed, ok = rows
    assert "busy" in refused.reason and "someone-else" in refused.reason
    assert "bad.se" in failed.reason and failed.year == year and failed.ended_at is not None
    assert ok.year is None and ok.reason == ""  # a load of every year the files hold
    store.close()


def test_a_run_stopped_by_an_exception_is_interrupted_and_the_lock_released(
    year_file: Path,
) -> None:
    store = MemoryMirrorStore()
    service = MirrorService(store)

    class Stop(Exception):
        pass

    class Exploding(SieSource):
        def snapshot(self, company, years=None):  # type: ignore[no-untyped-def]
            raise Stop

    with pytest.raises(Stop):
        service.load(CO, Exploding([year_file]))
    [row] = service.attempts(CO)
    assert (row.outcome, row.reason) == ("interrupted", "stopped by Stop")
    assert store.lock_holder(CO) is None


def test_a_running_attempt_shows_as_running_only_while_its_lock_is_held() -> None:
    store = MemoryMirrorStore()
    service = MirrorService(store, holder="h")
    with service.locked(CO):
        store.record_attempt(CO, None, operation="reload", holder="h", at=service.clock.now())
        assert [a.outcome for a in service.attempts(CO)] == ["running"]
    # the lock is gone and the run never wrote its end: it was killed
    [row] = service.attempts(CO)
    assert row.outcome == "interrupted" and "run it again" in row.reason
    assert store.attempts(CO)[0].outcome == "running"  # reading changed nothing


def test_the_service_keeps_the_newest_attempts_per_year(year_file: Path) -> None:
    service = MirrorService(MemoryMirrorStore())
    for _ in range(ATTEMPTS_KEPT + 3):
        service.load(CO, SieSource([year_file]))
    assert len(service.attempts(CO, limit=100)) == ATTEMPTS_KEPT


def test_mirror_status_shows_the_attempts_and_writes_nothing(
    tmp_path: Path, year_file: Path
) -> None:
    db = tmp_path / "m.db"
    assert cli("load", "--db", str(db), "--company", CO, str(year_file)).returncode == 0
    bad = tmp_path / "broken.se"
    bad.write_bytes(b"\xff\xfe not sie")
    failed = cli("reload", "--db", str(db), "--company", CO, "--confirm", CO, "--json", str(bad))
    assert failed.returncode == 1, failed.stderr
    assert json.loads(failed.stdout)["ok"] is False
    before = digest(db)
    shown = cli("status", "--db", str(db), "--company", CO, "--json")
    assert shown.returncode == 0, shown.stderr
    attempts = json.loads(shown.stdout)["attempts"]
    assert [(a["operation"], a["outcome"]) for a in attempts] == [
        ("reload", "failed"),
        ("load", "ok"),
    ]
    assert "broken.se" in attempts[0]["reason"] and attempts[0]["year"].startswith("2025-01-01")
    text = cli("status", "--db", str(db), "--company", CO)
    assert text.returncode == 0 and "failed" in text.stdout and "broken.se" in text.stdout
    assert digest(db) == before


def test_mirror_status_refuses_a_missing_or_foreign_file_and_creates_nothing(
    tmp_path: Path,
) -> None:
    missing = tmp_path / "no" / "such.db"
    result = cli("status", "--db", str(missing), "--company", CO, "--json")
    assert result.returncode == 2 and json.loads(result.stdout or result.stderr)["exit"] == 2
    assert not missing.parent.exists()
    foreign = tmp_path / "other.db"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER, total TEXT)")
        conn.execute("INSERT INTO invoices VALUES (1, '10.00')")
    conn.close()
    before = digest(foreign)
    for command in ("status", "load"):
        extra = [] if command == "status" else [str(tmp_path / "x.se")]
        result = cli(command, "--db", str(foreign), "--company", CO, *extra)
        assert result.returncode == 2, result.stderr
        assert "Traceback" not in result.stderr
    assert digest(foreign) == before


def test_a_mirror_at_schema_step_1_is_read_and_upgraded(tmp_path: Path, year_file: Path) -> None:
    db = tmp_path / "old.db"
    SQLiteMirrorStore(db).close()
    with sqlite3.connect(db) as conn:  # as syncstate before the record of runs left it
        conn.execute("DROP TABLE mirror_attempts")
        conn.execute("UPDATE schema_migrations SET version = 1 WHERE component = 'mirror'")
    conn.close()
    before = digest(db)
    readonly = SQLiteMirrorStore(db, readonly=True)
    assert readonly.attempts(CO) == [] and readonly.loaded_years(CO) == []
    readonly.close()
    assert digest(db) == before
    store = SQLiteMirrorStore(db)
    MirrorService(store).load(CO, SieSource([year_file]))
    assert [a.outcome for a in MirrorService(store).attempts(CO)] == ["ok"]
    store.close()
    with pytest.raises(InputError):
        SQLiteMirrorStore(tmp_path / "absent.db", readonly=True)


@pytest.mark.slow
def test_a_killed_reload_shows_as_interrupted_and_the_retry_as_ok(tmp_path: Path) -> None:
    sie = big_sie(tmp_path / "year.se", 30_000)
    db = tmp_path / "mirror.db"
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "syncstate",
            "mirror",
            "load",
            "--db",
            str(db),
            "--company",
            CO,
            str(sie),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and child.poll() is None:
        try:
            with sqlite3.connect(db) as conn:
                if conn.execute("SELECT COUNT(*) FROM mirror_attempts").fetchone()[0]:
                    break
            conn.close()
        except sqlite3.OperationalError:
            pass
        time.sleep(0.02)
    assert child.poll() is None, "the load finished before it could be killed"
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    shown = json.loads(cli("status", "--db", str(db), "--company", CO, "--json").stdout)
    assert [(a["outcome"], a["reason"][:8]) for a in shown["attempts"]] == [
        ("interrupted", "the run ")
    ]
    retry = cli("load", "--db", str(db), "--company", CO, "--json", str(sie))
    assert retry.returncode == 0, retry.stderr
    shown = json.loads(cli("status", "--db", str(db), "--company", CO, "--json").stdout)
    assert [a["outcome"] for a in shown["attempts"]] == ["ok", "interrupted"]
