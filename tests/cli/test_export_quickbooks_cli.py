"""`syncstate export` for real: the demo database to the local QuickBooks-like server.

The token comes from an environment variable, the realm and the mapping from options;
the run must send exactly the records still to export, never print the token, and
refuse to guess: no back end given, or the throwaway memory back end on a database with
records exported elsewhere, is a clear error with exit status 2 and nothing claimed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from syncstate import ExportState, SQLiteStore
from syncstate.testing.qbo_server import QboServer

COMPANY = "acme-builders"
TOKEN = "qbo-secret-token-7f3a9c"
EMPLOYEES = ("ann", "bo", "chen", "dara", "eli", "zoe")


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "syncstate", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("demo")
    done = run_cli("demo", "--dir", str(folder), "--json")
    assert done.returncode == 0, done.stderr
    return folder / "syncstate.db"


@pytest.fixture
def db(demo_db: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "syncstate.db"
    copy.write_bytes(demo_db.read_bytes())
    return copy


@pytest.fixture
def server() -> Iterator[QboServer]:
    with QboServer() as running:
        running.valid_tokens = {TOKEN}
        yield running


def mapping_file(server: QboServer, realm: str, folder: Path) -> Path:
    mapping = {
        "employees": {
            e: server.add(realm, "Employee", {"DisplayName": e.title()}) for e in EMPLOYEES
        },
        "customers": {
            job: server.add(realm, "Customer", {"DisplayName": job}) for job in ("J-100", "J-200")
        },
        "items": {
            code: server.add(realm, "Item", {"Name": code})
            for code in ("electrical", "concrete", "framing", "finishing")
        },
    }
    path = folder / "mapping.json"
    path.write_text(json.dumps(mapping), encoding="utf-8")
    return path


def counts(db: Path) -> dict[ExportState, int]:
    with SQLiteStore(db) as store:
        return {s: n for s, n in store.counts(COMPANY).items() if n}


def test_the_cli_exports_the_demo_database_to_quickbooks_with_a_token_from_the_environment(
    db: Path, server: QboServer, tmp_path: Path
) -> None:
    before = counts(db)
    assert before[ExportState.FAILED] == 5  # zoe had no mapping in the demo
    mapping = mapping_file(server, "9130", tmp_path)
    done = run_cli(
        "export",
        "--db", str(db),
        "--company", COMPANY,
        "--backend", "quickbooks",
        "--backend-option", f"base_url={server.base_url}",
        "--realm", "9130",
        "--mapping", str(mapping),
        "--json",
        env={"QUICKBOOKS_ACCESS_TOKEN": TOKEN},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["summary"]["exported"] == 5 and report["summary"]["failed"] == 0
    assert server.count("9130", "TimeActivity") == 5
    after = counts(db)
    assert ExportState.FAILED not in after
    assert after[ExportState.EXPORTED] == before[ExportState.EXPORTED] + 5
    assert TOKEN not in done.stdout + done.stderr


def test_a_token_the_server_refuses_is_an_error_that_never_shows_the_token(
    db: Path, server: QboServer, tmp_path: Path
) -> None:
    mapping = mapping_file(server, "9130", tmp_path)
    done = run_cli(
        "export", "--db", str(db), "--company", COMPANY, "--backend", "quickbooks",
        "--backend-option", f"base_url={server.base_url}", "--realm", "9130",
        "--mapping", str(mapping),
        env={"QUICKBOOKS_ACCESS_TOKEN": "wrong-token-1234"},
    )  # fmt: skip
    assert done.returncode == 1
    assert "wrong-token-1234" not in done.stdout + done.stderr
    # progress lines (not a terminal), then exactly one error line
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("syncstate: error: ") and "refused the access token" in last
    assert "Traceback" not in done.stderr
    assert counts(db).get(ExportState.IN_FLIGHT) is None  # released, nothing held


def test_export_without_a_back_end_is_a_clear_error(db: Path) -> None:
    before = db.read_bytes()
    done = run_cli("export", "--db", str(db), "--company", COMPANY)
    assert done.returncode == 2
    assert "--backend" in done.stderr and "Traceback" not in done.stderr
    assert db.read_bytes() == before


def test_the_memory_back_end_is_refused_on_records_exported_elsewhere(db: Path) -> None:
    before = counts(db)
    done = run_cli("export", "--db", str(db), "--company", COMPANY, "--backend", "memory")
    assert done.returncode == 2 and "--allow-memory" in done.stderr
    assert counts(db) == before
    allowed = run_cli(
        "export", "--db", str(db), "--company", COMPANY, "--backend", "memory", "--allow-memory"
    )
    assert allowed.returncode == 0, allowed.stderr


@pytest.mark.parametrize(
    "option", ["=qbo-secret-token-7f3a9c", "token_file", "minorversion=qbo-secret-token-7f3a9c"]
)
def test_a_malformed_back_end_option_never_echoes_its_value(db: Path, option: str) -> None:
    done = run_cli(
        "export", "--db", str(db), "--company", COMPANY, "--backend", "quickbooks",
        "--backend-option", option, "--json",
    )  # fmt: skip
    assert done.returncode == 2
    assert TOKEN not in done.stdout + done.stderr
    error = json.loads(done.stderr)
    assert error["exit"] == 2 and error["error"]


def test_an_unknown_back_end_option_names_the_options_the_plug_in_declares(db: Path) -> None:
    done = run_cli(
        "export", "--db", str(db), "--company", COMPANY, "--backend", "quickbooks",
        "--backend-option", "colour=blue",
    )  # fmt: skip
    assert done.returncode == 2
    assert "no option 'colour'" in done.stderr and "token_file" in done.stderr


def test_a_mistyped_option_prints_the_usage_of_the_subcommand(db: Path) -> None:
    done = run_cli(
        "export", "--db", str(db), "--company", COMPANY, "--backend", "memory",
        "--concurency", "3",
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.startswith("usage: syncstate export")
    assert "unrecognized arguments: --concurency 3" in done.stderr
