"""The command line as a user runs it: the demo, status, reset, results, errors."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from syncstate.cli import main


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "syncstate.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, object]]:
    folder = tmp_path_factory.mktemp("demo")
    done = run_cli("demo", "--dir", str(folder), "--json")
    assert done.returncode == 0, done.stderr
    return folder / "syncstate.db", json.loads(done.stdout)


def test_demo_exports_everything_once_and_leaves_only_the_warned_leftovers(
    demo: tuple[Path, dict[str, object]],
) -> None:
    _db, summary = demo
    states = summary["states"]
    assert isinstance(states, dict)
    assert states["exported"] == 75 and states["in_flight"] == 0
    assert states["unlinked"] == 10 and states["failed"] == 5
    # one document per exported record, plus the 10 a reset does not remove
    assert summary["quickbooks_documents"] == 75 + 10
    first = summary["first_export"]
    assert isinstance(first, dict) and first["retries"] >= 3


def test_demo_bundles_exports_overwrites_and_unbundles_the_coworking_company(
    demo: tuple[Path, dict[str, object]],
) -> None:
    bundling = demo[1]["bundling"]
    assert isinstance(bundling, dict)
    assert bundling["historical"] == 2
    assert bundling["bundles"] == {"invoice": 2, "sales_receipt": 2, "payment": 1}
    assert bundling["exported"] == {"exported": 5}
    assert bundling["overwrite"] == "updated" and bundling["reopened"] == 2


def test_demo_mirror_finds_the_silent_changes_and_reloads_without_a_gap(
    demo: tuple[Path, dict[str, object]],
) -> None:
    mirror = demo[1]["mirror"]
    assert isinstance(mirror, dict)
    assert mirror["loaded_vouchers"] == 4
    assert mirror["drift"]["vouchers_deleted"] == [["A", "2"]]
    assert mirror["drift"]["vouchers_changed"] == [["A", "4"]]
    assert mirror["drift_empty_after_apply"] is True
    assert mirror["reload_ok"] is True and mirror["reloaded_vouchers"] == 3


def test_demo_prints_the_tour_with_the_reset_warning(tmp_path: Path) -> None:
    done = run_cli("demo", "--dir", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert "NOT removed" in done.stdout
    assert "retry" in done.stdout
    assert "Summary" in done.stdout


def test_status_reports_counts_as_json(demo: tuple[Path, dict[str, object]]) -> None:
    db, _ = demo
    done = run_cli("status", "--db", str(db), "--json")
    assert done.returncode == 0, done.stderr
    counts = json.loads(done.stdout)["companies"]["acme-builders"]
    assert counts["exported"] == 75


def test_reset_without_acknowledge_changes_nothing_then_applies(
    demo: tuple[Path, dict[str, object]], tmp_path: Path
) -> None:
    db = str(tmp_path / "copy.db")
    shutil.copyfile(demo[0], db)
    base = [
        "reset",
        "--db",
        db,
        "--company",
        "acme-builders",
        "--from",
        "2026-03-16",
        "--to",
        "2026-03-20",
        "--employee",
        "eli",
        "--json",
    ]
    planned = json.loads(run_cli(*base).stdout)
    assert planned["applied"] is False and planned["plan"]["total"] == 5
    assert "NOT removed" in planned["plan"]["warning"]
    applied = json.loads(run_cli(*base, "--acknowledge").stdout)
    assert applied["applied"] is True and applied["result"]["reset"] == 5
    again = run_cli(*base)
    assert again.returncode == 2
    assert "no exported records" in again.stderr and "Traceback" not in again.stderr


def test_results_lists_unlinked_records_with_their_reason(
    demo: tuple[Path, dict[str, object]],
) -> None:
    db, _ = demo
    done = run_cli(
        "results", "--db", str(db), "--company", "acme-builders", "--filter", "unlinked", "--json"
    )
    rows = json.loads(done.stdout)["results"]
    assert len(rows) == 10
    assert all(r["unlink_reason"].startswith("zoe is a subcontractor") for r in rows)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["status", "--db", "/nonexistent/x.db"], "does not exist"),
        (
            [
                "reset",
                "--db",
                "{db}",
                "--company",
                "c",
                "--from",
                "2026-03-05",
                "--to",
                "2026-03-01",
                "--employee",
                "x",
            ],
            "inverted",
        ),
        (
            [
                "reset",
                "--db",
                "{db}",
                "--company",
                "c",
                "--from",
                "March",
                "--to",
                "2026-03-01",
                "--employee",
                "x",
            ],
            "not an ISO date",
        ),
    ],
)
def test_user_mistakes_print_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    db = tmp_path / "s.db"
    from syncstate.adapters.storage.sqlite.state import SQLiteStore

    SQLiteStore(db).close()
    status = main([a.replace("{db}", str(db)) for a in args])
    err = capsys.readouterr().err
    assert status == 2
    assert message in err and err.count("\n") == 1


def test_demo_on_beancount_leaves_a_ledger_beancount_loads_without_errors(tmp_path: Path) -> None:
    from beancount import loader

    done = run_cli("demo", "--backend", "beancount", "--dir", str(tmp_path), "--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["beancount_errors"] == 0
    entries, errors, _ = loader.load_file(summary["ledger"])
    assert errors == []
    # every record is exported (accounts derived from ids); the ledger holds one
    # transaction each, plus chen's 5 week-1 transactions a reset does not remove
    assert summary["exported"] == 90
    transactions = [e for e in entries if type(e).__name__ == "Transaction"]
    assert len(transactions) == 90 + 5
