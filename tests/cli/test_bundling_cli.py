"""``syncstate bundle``: import, map, bundle, list, export, un-bundle, from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from syncstate.cli import main

HEADER = "type,id,client,date,resource,quantity,unit_price,amount,currency,tax_code,description"
CSV = (
    HEADER
    + """,method,reference
usage_log,u1,ann,2024-03-01,room,2,40.00,,USD,,,,
payment,p1,ann,2024-03-01,,,,80.00,USD,,,card,
usage_log,u2,bob,2024-03-02,laser,1,99.00,,USD,,,,
usage_log,u0,bob,2023-01-05,laser,1,99.00,,USD,,,,
"""
)


def run(capsys: pytest.CaptureFixture[str], db: Path, *args: str) -> tuple[int, str, str]:
    code = main(["bundle", args[0], "--db", str(db), "--company", "acme", *args[1:]])
    out, err = capsys.readouterr()
    return code, out, err


def test_bundle_commands_from_import_to_unbundle(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db, data = tmp_path / "s.db", tmp_path / "tx.csv"
    data.write_text(CSV, encoding="utf-8")
    assert run(capsys, db, "import", str(data), "--json")[1].count('"added": 4') == 1
    code, out, _ = run(capsys, db, "historical", "--cutoff", "2023-12-31", "--json")
    assert code == 0 and json.loads(out)["per_client"] == {"bob": 1}
    code, out, _ = run(capsys, db, "make", "--json")
    assert json.loads(out)["counts"] == {"invoice": 1, "sales_receipt": 1, "payment": 0}
    # bob's laser has no item mapping, nobody has a customer: every gap at once, exit 2
    code, _, err = run(capsys, db, "export", "--backend", "memory")
    assert code == 2 and "'ann'" in err and "'bob'" in err and "'laser'" in err
    for kind, local, remote in [
        ("customer", "ann", "C1"), ("customer", "bob", "C2"), ("item", "room", "I1"),
        ("item", "laser", "I2"),
    ]:  # fmt: skip
        assert run(capsys, db, "map", kind, local, remote)[0] == 0
    code, out, _ = run(capsys, db, "export", "--backend", "memory", "--json")
    assert code == 0 and json.loads(out)["summary"] == {"exported": 2}
    code, out, _ = run(capsys, db, "list", "--reconciled", "--json")
    listed = json.loads(out)
    assert [b["client"] for b in listed] == ["ann", "bob"]
    assert all(b["remote_id"] for b in listed)
    code, out, _ = run(capsys, db, "trace", "usage_log", "u1", "--json")
    assert json.loads(out)["bundle"]["bundle_id"] == listed[0]["bundle_id"]
    code, out, err = run(capsys, db, "unbundle", listed[1]["bundle_id"])
    assert code == 0 and "NOT removed" in err
    code, out, _ = run(capsys, db, "open", "--json")
    assert json.loads(out) == [{"client": "bob", "usage_logs": 1, "payments": 0}]


def test_a_bad_csv_line_is_named_and_nothing_is_imported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db, data = tmp_path / "s.db", tmp_path / "tx.csv"
    data.write_text(CSV.replace("80.00,USD", "80.0.0,USD"), encoding="utf-8")
    code, _, err = run(capsys, db, "import", str(data))
    assert code == 2 and "tx.csv:3" in err and "Traceback" not in err
    code, _, err = run(capsys, db, "show", "INV-nope")
    assert code == 2 and "no bundle 'INV-nope'" in err
