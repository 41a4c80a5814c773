"""`syncstate sie check` summarises SIE files and fails on invalid ones."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from syncstate.cli import main


def _check(capsys: pytest.CaptureFixture[str], *files: Path) -> tuple[int, list[dict]]:
    status = main(["sie", "check", "--json", *map(str, files)])
    return status, json.loads(capsys.readouterr().out)["files"]


def test_check_json_shape_for_the_official_example(
    shared_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, (entry,) = _check(capsys, shared_dir / "fixtures/sie/jsisie__transaktioner_ovnbolag.se")
    assert status == 0
    assert set(entry) == {
        "file",
        "valid",
        "sie_type",
        "program",
        "company",
        "org_number",
        "fiscal_years",
        "accounts",
        "vouchers",
        "transactions",
        "unbalanced_vouchers",
        "undeclared_accounts",
        "ksumma",
        "problems",
    }
    assert entry["valid"] is True and entry["sie_type"] == "4E"
    assert entry["program"] == "Avendo 5.20" and entry["org_number"] == "5555555555"
    assert entry["company"] == "Övningsbolaget AB (Ekonomi 60)"
    assert {"index": 0, "start": "2011-01-01", "end": "2011-12-31"} in entry["fiscal_years"]
    assert (entry["accounts"], entry["vouchers"], entry["transactions"]) == (567, 163, 671)
    assert entry["unbalanced_vouchers"] == [] and entry["ksumma"] == "absent"


def test_check_lists_every_problem_and_exits_non_zero(
    shared_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sie = shared_dir / "fixtures/sie"
    status, entries = _check(
        capsys,
        sie / "jsisie__Sie1.se",
        sie / "jsisie__transaktioner_ovnbolag-bad-balance.se",
        sie / "sie4j__BLBLOV_SIE4_UTF_8_with_faulty_transaction.SI",
        sie / "jsisie__BokSald.SE",
    )
    assert status == 1
    sie1, bad, faulty, html = entries
    assert sie1["valid"] and sie1["ksumma"] == "valid" and sie1["sie_type"] == "1"
    assert not bad["valid"]
    assert bad["unbalanced_vouchers"] == [
        {"series": "B", "number": "1", "date": "2011-01-07", "line": 3905, "sum": "-12771.00"}
    ]
    assert any(p["line"] == 3905 and p["severity"] == "error" for p in bad["problems"])
    assert not faulty["valid"] and any(p["line"] == 10 for p in faulty["problems"])
    assert not html["valid"] and html["sie_type"] is None
    assert html["problems"][0]["line"] == 1


def test_check_reports_undeclared_accounts_and_bad_ksumma(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "k.se"
    path.write_bytes(
        b"#FLAGGA 0\n#KSUMMA\n#SIETYP 4\n#KONTO 1930 Bank\n#VER A 1 20240101 x\n{\n"
        b"#TRANS 1930 {} 5\n#TRANS 3010 {} -5\n}\n#KSUMMA 1\n"
    )
    status, (entry,) = _check(capsys, path)
    assert status == 1 and entry["ksumma"] == "invalid"
    assert entry["undeclared_accounts"] == ["3010"]


def test_check_text_output_names_file_and_line(
    shared_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = shared_dir / "fixtures/sie/sie4j__BLBLOV_SIE4_UTF_8_with_faulty_transaction.SI"
    assert main(["sie", "check", str(path)]) == 1
    out = capsys.readouterr().out
    assert "INVALID" in out and f"{path}:10: error:" in out
