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

HEADER = (
    "type,id,client,date,resource,quantity,unit_price,amount,currency,tax_code,description,"
    "method,reference"
)
LINES = [
    "usage_log,u1,ann,2024-03-01,room,2,40.00,,USD,,,,",
    "payment,p1,ann,2024-03-01,,,,80.00,USD,,,card,",
    "usage_log,u2,bob,2024-03-02,laser,1.5,99.125,,USD,,,,",
    "usage_log,u3,bob,2024-03-02,laser,1,1,1500,JPY,,,,",
]
CSV = "\n".join([HEADER, *LINES]) + "\n"
NUMBERS = [
    "1e999999", "-1E+30", "9" * 30, "9" * 16, "99999999", "1." + "1" * 30, "0.001", "NaN",
    "Infinity", "-0", "", "x", "9" * 5000, "1e-999999", "0.0000001", "١٢",
]  # fmt: skip


def mutate(rng: random.Random) -> tuple[str, bytes]:
    """One mutation of CSV: its class and the file's bytes."""
    kind = rng.choice(["flip", "truncate", "non-utf8", "nul", "huge", "fields", "number", "number"])
    raw = CSV.encode()
    at = rng.randrange(len(raw))
    if kind == "flip":
        flipped = bytearray(raw)
        for _ in range(rng.randint(1, 4)):
            flipped[rng.randrange(len(flipped))] = rng.randrange(256)
        return kind, bytes(flipped)
    if kind == "truncate":
        return kind, raw[:at]
    if kind in ("non-utf8", "nul", "huge"):
        insert = {"non-utf8": rng.choice([b"\xff", b"\x80", b"\xe9"]), "nul": b"\x00"}
        return kind, raw[:at] + insert.get(kind, b"a" * 200_000) + raw[at:]
    lines = CSV.splitlines()
    n = rng.randrange(1, len(lines))
    cells = lines[n].split(",")
    if kind == "fields":
        cells = cells[: rng.randrange(len(cells))] if rng.random() < 0.5 else [*cells, "x"]
    else:
        cells[rng.choice([5, 6, 7])] = rng.choice(NUMBERS)
    lines[n] = ",".join(cells)
    return kind, ("\n".join(lines) + "\n").encode()


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
