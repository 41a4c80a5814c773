"""``syncstate demo`` reads well to someone who has never seen syncstate.

The tour's text is its interface: it says what it leaves out of a table,
names each record once per line, prints one missing mapping per line, uses no
words from inside the project, fits a terminal, and tells the user how to keep
the database it made.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest


def _demo(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "syncstate.cli", "demo", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def tour() -> str:
    return _demo()


def test_every_line_fits_a_terminal(tour: str) -> None:
    assert max(len(line) for line in tour.splitlines()) <= 100


def test_a_shortened_list_says_how_many_it_left_out(tour: str) -> None:
    assert "10 failed: employee 'zoe' has no QuickBooks mapping" in tour
    assert tour.count("…and 7 more") == 2  # the failures of step 2 and the table of step 3


def test_no_line_names_the_same_record_twice(tour: str) -> None:
    for line in tour.splitlines():
        ids = re.findall(r"\b[a-z]+-2026-\d\d-\d\d\b", line)
        assert len(ids) == len(set(ids)), line
        assert "acme-builders/time_entry/" not in line, line


def test_missing_mappings_are_listed_one_per_line(tour: str) -> None:
    lines = [line.strip() for line in tour.splitlines()]
    start = next(i for i, line in enumerate(lines) if "5 missing mappings" in line)
    listed = [line for line in lines[start + 1 :] if line.startswith(("client", "bookable"))]
    assert [line.split(":")[0] for line in listed] == [
        "client 'kim'",
        "client 'lee'",
        "client 'ray'",
        "bookable resource 'desk'",
        "bookable resource 'room'",
    ]
    assert "needed by payment p-5; usage log u-5" in listed[0]


def test_no_internal_wording_reaches_the_user(tour: str) -> None:
    for word in ("seed", "the products in", "TODO", "{'"):
        assert word not in tour, word


def test_the_user_is_told_how_to_keep_the_database(tour: str, tmp_path: Path) -> None:
    assert "`syncstate demo --dir DIR` keeps it" in tour.splitlines()[1]
    kept = _demo("--dir", str(tmp_path))
    db = tmp_path / "syncstate.db"
    assert f"syncstate status --db {db} --company acme-builders" in kept
    assert db.exists()


def test_the_output_is_the_same_on_every_run_but_for_timings(tour: str) -> None:
    def stable(text: str) -> tuple[str, list[str]]:
        text = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", text)
        text = re.sub(r"syncstate-demo-\w+", "syncstate-demo-TMP", text)
        text = re.sub(r"\d+\.\d+ ?s\b", "N s", text)
        # which record meets each scripted fault, and in which order, depends on threads
        text = re.sub(r"retry 1 for \S+", "retry 1 for RECORD", text)
        retries = re.findall(r"^  ! .*(?:\n    .*)*", text, re.M)
        return re.sub(r"^  ! .*(?:\n    .*)*\n", "", text, flags=re.M), sorted(retries)

    assert stable(_demo()) == stable(tour)
