"""``syncstate export`` on a real SQLite file."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from syncstate.adapters.storage.sqlite.state import SQLiteStore
from syncstate.cli import main
from syncstate.domain.records import TimeEntry
from syncstate.domain.state import ExportState


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "state.db"
    with SQLiteStore(path) as store:
        store.ingest(
            "acme",
            [
                TimeEntry(
                    source_id=f"t{i}",
                    employee="ann" if i % 2 else "bob",
                    date=dt.date(2024, 3, 1 + i),
                    hours="2",
                ).to_record("acme")
                for i in range(10)
            ],
            at=dt.datetime.now(dt.UTC),
            actor="test",
        )
    return path


def test_export_prints_a_summary_and_marks_records_exported(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["export", "--db", str(db), "--company", "acme", "--backend", "memory"]) == 0
    out, err = capsys.readouterr()
    assert "selected" in out and "10" in out
    assert "export acme to memory: 10/10" in err  # plain progress lines: not a terminal
    with SQLiteStore(db) as store:
        assert store.counts("acme")[ExportState.EXPORTED] == 10


def test_export_narrows_by_dates_and_employee_and_prints_json(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["export", "--db", str(db), "--company", "acme", "--backend", "memory", "--json"]
    argv.append("--no-batch")
    argv += ["--from", "2024-03-01", "--to", "2024-03-05", "--employee", "ann"]
    assert main(argv) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["summary"]["exported"] == 2
    assert sorted(r["source_id"] for r in data["records"]) == ["t1", "t3"]


def test_half_a_date_range_is_a_usage_error(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["export", "--db", str(db), "--company", "acme", "--backend", "memory"]
    assert main([*argv, "--from", "2024-03-01"]) == 2
    assert "give both --from and --to" in capsys.readouterr().err


def test_an_unknown_back_end_is_a_usage_error(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", "--db", str(db), "--company", "acme", "--backend", "nope"]) == 2
    assert "no plug-in 'nope'" in capsys.readouterr().err
