"""`syncstate bundle import FILE.csv`: bad input is one line naming file and line, never a crash.

A seeded mutation loop over a valid usage-log / payment file: byte flips, truncation,
non-UTF-8 bytes, NUL bytes, an oversized field, out-of-range and exponent numbers,
short and long lines. A refused import leaves the database row-identical.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path

import pytest
from repost_fuzz_support import table_rows

import syncstate.cli as cli
from syncstate.testing.fuzz import BUNDLE_CSV, mutate_csv

CSV = BUNDLE_CSV


def mutate(rng: random.Random) -> tuple[str, bytes]:
    """One mutation of CSV: its class and the file's bytes."""
    return mutate_csv(rng, CSV)


def test_mutated_csv_files_never_crash_and_a_refused_import_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(cli, "COMMANDS", ("bundle",))
    db, good = tmp_path / "s.db", tmp_path / "good.csv"
    good.write_text(CSV.replace("u1,", "seed1,").replace("p1,", "seed2,"), encoding="utf-8")

    def bundle_import(path: Path, *flags: str) -> tuple[int, str, str]:
        status = cli.main(["bundle", "import", "--db", str(db), "--company", "acme", str(path),
                           *flags])  # fmt: skip
        captured = capsys.readouterr()
        return status, captured.out, captured.err

    assert bundle_import(good)[0] == 0
    rng = random.Random("bundle-import")
    outcomes: Counter[int] = Counter()
    for n in range(250):
        kind, raw = mutate(rng)
        path = tmp_path / f"m{n}.csv"
        path.write_bytes(raw)
        as_json = rng.random() < 0.5
        before = table_rows(db)
        status, out, err = bundle_import(path, *(["--json"] if as_json else []))
        assert "Traceback" not in out + err
        assert status in (0, 2), (kind, err)
        outcomes[status] += 1
        if status == 0:
            continue
        assert out == "" and err.endswith("\n") and err.count("\n") == 1, (kind, err)
        message = json.loads(err)["error"] if as_json else err
        assert f"m{n}.csv" in message, (kind, message)
        assert table_rows(db) == before, f"{kind}: a refused import changed the database"
    assert set(outcomes) == {0, 2}, outcomes


@pytest.mark.parametrize(
    ("raw", "where", "message"),
    [
        (CSV.encode() + b"payment,p\xe9,bob,2024-03-02,,,,1.00,USD,,,,\n", ":6:", "not UTF-8"),
        (CSV.replace("room,2,", "room,9999999999999999,").encode(), ":2:", "out of range"),
        (CSV.replace("room,2,40.00", "room,99999999,99999999").encode(), ":2:", "× unit price"),
        (CSV.replace("80.00", "1e999999").encode(), ":3:", "exponent notation"),
    ],
)
def test_the_reported_crashes_are_one_line_naming_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], raw: bytes, where: str, message: str
) -> None:
    path = tmp_path / "tx.csv"
    path.write_bytes(raw)
    status = cli.main(["bundle", "import", "--db", str(tmp_path / "s.db"), "--company", "a",
                       str(path)])  # fmt: skip
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1
    assert f"tx.csv{where}" in err and message in err
