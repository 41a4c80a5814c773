"""`repost load --json`, and progress on stderr for the long commands (plain lines off a TTY).

The commands run in process with stdout and stderr captured, so stderr is not
a terminal: progress must come as plain lines, and never with ``--json``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from syncstate.cli import main

LEDGER = {
    "period_start": "2024-03-01",
    "documents": [
        {"id": "INV-1", "kind": "invoice", "client": "ACME", "date": "2024-01-10", "amount": "100"},
        {"id": "INV-2", "kind": "invoice", "client": "BETA", "date": "2024-02-05", "amount": "50"},
        {
            "id": "CR-1",
            "kind": "cash_receipt",
            "client": "ACME",
            "date": "2024-02-10",
            "amount": "60.00",
            "allocations": [{"to": "INV-1", "amount": "60.00", "date": "2024-02-10"}],
        },
    ],
}
WIP = {
    "period_start": "2024-03-01",
    "invoices": [],
    "entries": [
        {"id": "W1", "type": "time", "client": "ACME", "date": "2024-02-01", "amount": "30"},
        {"id": "W2", "type": "", "client": "ACME", "date": "2024-02-01"},
    ],
}


def _write(tmp_path: Path, name: str, data: object) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return str(path)


def test_repost_load_json_says_what_was_loaded_where(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "ledger.db")
    ledger = _write(tmp_path, "ledger.json", LEDGER)
    assert main(["repost", "load", ledger, "--db", db, "--company", "acme", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out == {
        "company": "acme",
        "calculator": "receivables",
        "loaded": 3,
        "file": ledger,
        "db": db,
    }
    wip = _write(tmp_path, "wip.json", WIP)
    assert main(["repost", "load", wip, "--db", db, "--company", "acme", "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["calculator"] == "wip" and captured.err == ""


def test_repost_load_without_json_prints_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "ledger.db")
    ledger = _write(tmp_path, "ledger.json", LEDGER)
    assert main(["repost", "load", ledger, "--db", db, "--company", "acme"]) == 0
    assert capsys.readouterr().out == "loaded 3 receivable documents for acme\n"


def test_repost_load_json_of_a_bad_file_is_one_line_error_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = _write(tmp_path, "bad.json", {"neither": []})
    db = str(tmp_path / "ledger.db")
    assert main(["repost", "load", bad, "--db", db, "--company", "acme", "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "Traceback" not in captured.err and "bad.json" in captured.err


def test_repost_apply_shows_plain_progress_lines_off_a_terminal_and_none_with_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "ledger.db")
    main(["repost", "load", _write(tmp_path, "l.json", LEDGER), "--db", db, "--company", "acme"])
    capsys.readouterr()
    assert main(["repost", "--db", db, "--company", "acme", "--apply"]) == 0
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert lines[0] == "repost of acme: 2 to do"  # two clients
    assert any("writing" in line and "balance row" in line for line in lines)
    assert "\r" not in captured.err and "\x1b" not in captured.err  # no bar drawing off a TTY
    assert "applied:" in captured.out

    assert main(["repost", "--db", db, "--company", "acme", "--apply", "--json"]) == 0
    captured = capsys.readouterr()
    assert captured.err == "" and json.loads(captured.out)["written"] == 0


def test_mirror_load_and_clear_show_progress_lines_without_json(
    shared_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sie = str(shared_dir / "fixtures/sie/jsisie__transaktioner_ovnbolag.se")
    db = str(tmp_path / "mirror.db")
    assert main(["mirror", "load", "--db", db, "--company", "acme", sie]) == 0
    err = capsys.readouterr().err
    assert "read 1 fiscal year(s)" in err and "163 to do" in err and "\r" not in err
    clear = ["mirror", "clear", "--db", db, "--company", "acme", "--year", "2011"]
    assert main([*clear, "--confirm", "acme"]) == 0
    err = capsys.readouterr().err
    assert "clearing acme: 1 to do" in err and "cleared 1" in err
    assert main(["mirror", "load", "--db", db, "--company", "acme", "--json", sie]) == 0
    assert capsys.readouterr().err == ""


def test_bundle_export_shows_progress_lines_without_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db, data = str(tmp_path / "s.db"), tmp_path / "tx.csv"
    data.write_text(
        "type,id,client,date,resource,quantity,unit_price,amount,currency,method\n"
        "usage_log,u1,ann,2024-03-01,room,2,40.00,,USD,\n"
        "usage_log,u2,bob,2024-03-02,room,1,99.00,,USD,\n",
        encoding="utf-8",
    )

    def bundle(*args: str) -> int:
        return main(["bundle", args[0], "--db", db, "--company", "acme", *args[1:]])

    assert bundle("import", str(data)) == 0
    for kind, local, remote in [("customer", "ann", "C1"), ("customer", "bob", "C2")]:
        assert bundle("map", kind, local, remote) == 0
    assert bundle("map", "item", "room", "I1") == 0
    assert bundle("make") == 0
    capsys.readouterr()
    assert bundle("export", "--backend", "memory") == 0
    captured = capsys.readouterr()
    assert ": 2 to do" in captured.err and "exported 2" in captured.err
    assert "\r" not in captured.err and "bundle" in captured.out
