"""A mirror reload killed with SIGKILL: the retry succeeds at once and no staging remains.

The lock of a killed reload must not outlive its process, and the rows it staged must be
cleaned by the next run, not left behind for ever.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

COMPANY = "acme"


def big_sie(path: Path, vouchers: int) -> Path:
    """An SIE 4E file with ``vouchers`` balanced vouchers (written for this test)."""
    lines = [
        "#FLAGGA 0", '#PROGRAM "syncstate-test" 1.0', "#FORMAT PC8", "#GEN 20260301",
        "#SIETYP 4", '#FNAMN "Crash Test AB"', "#ORGNR 556000-0000",
        "#RAR 0 20250101 20251231", '#KONTO 1930 "Bank"', '#KONTO 3001 "Sales"',
        "#IB 0 1930 1000.00", "#UB 0 1930 " + f"{1000 + vouchers}.00",
        "#RES 0 3001 " + f"-{vouchers}.00",
    ]  # fmt: skip
    for n in range(1, vouchers + 1):
        day = f"2025{(n % 12) + 1:02d}{(n % 28) + 1:02d}"
        lines += [
            f'#VER A {n} {day} "Sale {n}"',
            "{",
            "   #TRANS 1930 {} 1.00",
            "   #TRANS 3001 {} -1.00",
            "}",
        ]
    path.write_text("\r\n".join(lines) + "\r\n", encoding="cp437")
    return path


def cli(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "syncstate", "mirror", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as conn:
        try:
            return list(conn.execute(sql))
        except sqlite3.OperationalError:
            return []


def test_a_killed_reload_leaves_no_lock_and_no_staging_behind(tmp_path: Path) -> None:
    sie = big_sie(tmp_path / "year.se", 40_000)
    db = tmp_path / "mirror.db"
    child = cli("load", "--db", str(db), "--company", COMPANY, str(sie))
    deadline = time.monotonic() + 60
    # wait until it holds the lock and has staged rows, then kill it
    while time.monotonic() < deadline:
        staged = rows(db, "SELECT COUNT(*) FROM mirror_transactions")
        if rows(db, "SELECT holder FROM mirror_locks") and staged and staged[0][0]:
            break
        if child.poll() is not None:
            break
        time.sleep(0.02)
    assert child.poll() is None, "the load finished before it could be killed"
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert rows(db, "SELECT holder FROM mirror_locks"), "the killed run left its lock"
    assert rows(db, "SELECT COUNT(*) FROM mirror_generations WHERE status != 'live'")[0][0] >= 1
    # the immediate retry succeeds (no "company is busy" for hours)
    retry = cli("load", "--db", str(db), "--company", COMPANY, str(sie), "--json")
    _out, err = retry.communicate(timeout=120)
    assert retry.returncode == 0, err
    assert rows(db, "SELECT COUNT(*) FROM mirror_generations WHERE status != 'live'") == [(0,)]
    live = rows(db, "SELECT id FROM mirror_generations WHERE status = 'live'")
    assert len(live) == 1
    leftover = rows(
        db, f"SELECT COUNT(*) FROM mirror_transactions WHERE generation != {live[0][0]}"
    )
    assert leftover == [(0,)], "staging rows of the killed run remain"
    assert rows(db, "SELECT COUNT(*) FROM mirror_vouchers") == [(40_000,)]
    assert rows(db, "SELECT holder FROM mirror_locks") == []
