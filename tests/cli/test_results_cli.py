"""`syncstate results`, `unlink`, `relink`: every record kind unless --kind narrows it."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from syncstate import ExportState, SQLiteStore, TimeEntry, UsageLog
from syncstate.cli import main

CO = "acme"
AT = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "s.db"
    with SQLiteStore(path) as store:
        store.ingest(
            CO,
            [
                TimeEntry(source_id="t1", employee="ann", date=dt.date(2026, 3, 2), hours="2")
                .to_record(CO),
                UsageLog(source_id="u1", client="kim", date=dt.date(2026, 3, 2), resource="desk",
                         quantity="1", unit_price="10", currency="SEK").to_record(CO),
                UsageLog(source_id="t1x", client="kim", date=dt.date(2026, 3, 3), resource="desk",
                         quantity="1", unit_price="10", currency="SEK").to_record(CO),
            ],
            at=AT,
            actor="test",
        )  # fmt: skip
    return path


def results(capsys: pytest.CaptureFixture[str], db: Path, *extra: str) -> dict[str, object]:
    assert main(["results", "--db", str(db), "--company", CO, "--json", *extra]) == 0
    return json.loads(capsys.readouterr().out)  # type: ignore[no-any-return]


def test_results_show_every_kind_unless_kind_narrows_them(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    every = results(capsys, db)["results"]
    assert {(r["kind"], r["source_id"]) for r in every} == {  # type: ignore[union-attr]
        ("time_entry", "t1"), ("usage_log", "u1"), ("usage_log", "t1x"),
    }  # fmt: skip
    narrowed = results(capsys, db, "--kind", "usage_log")["results"]
    assert {r["source_id"] for r in narrowed} == {"u1", "t1x"}  # type: ignore[union-attr]


def test_paging_continues_across_kinds(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first = results(capsys, db, "--limit", "1")
    seen = [r["source_id"] for r in first["results"]]  # type: ignore[union-attr]
    after = first["next_after"]
    while after:
        page = results(capsys, db, "--limit", "1", "--after", str(after))
        seen += [r["source_id"] for r in page["results"]]  # type: ignore[union-attr]
        after = page["next_after"]
    assert sorted(seen) == ["t1", "t1x", "u1"]


def test_unlink_finds_the_kind_of_a_source_id_and_relink_puts_it_back(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["unlink", "--db", str(db), "--company", CO, "u1", "--reason", "fix"]) == 0
    assert capsys.readouterr().out == "u1: not_exported -> unlinked\n"
    with SQLiteStore(db) as store:
        unlinked = [s.key.source_id for s in store.find(CO, states=[ExportState.UNLINKED])]
    assert unlinked == ["u1"]
    assert main(["relink", "--db", str(db), "--company", CO, "u1", "--json"]) == 0
    changed = json.loads(capsys.readouterr().out)["changed"]
    assert changed == [{"kind": "usage_log", "source_id": "u1", "state": "not_exported"}]


def test_an_unknown_source_id_is_a_clear_error(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["unlink", "--db", str(db), "--company", CO, "nope", "--reason", "x"]) == 2
    assert "no record 'nope'" in capsys.readouterr().err
