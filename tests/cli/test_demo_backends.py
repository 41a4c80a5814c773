"""``syncstate demo`` on every back end (Intacct, Xero, SIE files) and on PostgreSQL.

Each run is the whole tour against the local server of its back end (or a folder
of SIE files), as a user starts it: a subprocess, its exit status, its text or
its JSON. A step a back end cannot do is skipped with a line naming what it lacks.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

PG_DSN = os.environ.get("SYNCSTATE_TEST_PG_DSN")
needs_pg = pytest.mark.skipif(not PG_DSN, reason="SYNCSTATE_TEST_PG_DSN is not set")


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != "SYNCSTATE_DSN"}
    return subprocess.run(
        [sys.executable, "-m", "syncstate.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**environment, **(env or {})},
    )


def _demo_json(*args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    done = _cli("demo", *args, "--json", env=env)
    assert done.returncode == 0, done.stderr
    summary: dict[str, Any] = json.loads(done.stdout)
    return summary


@pytest.fixture(scope="module", params=["intacct", "xero"])
def tour(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """(back end, the tour's text, the folder it ran in)."""
    folder = tmp_path_factory.mktemp(request.param)
    done = _cli("demo", "--backend", request.param, "--dir", str(folder))
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    return request.param, done.stdout, folder


def test_each_back_end_exports_every_record_once_and_says_how_many(tour: Any) -> None:
    backend, text, _ = tour
    lines = text.splitlines()
    assert "  exported 50, updated 0, failed 10, retries" in text  # zoe: never mapped
    assert any(line.startswith("  exported 40, updated 0, failed 5") for line in lines)
    holder = {"intacct": "Sage Intacct holds", "xero": "Xero holds"}
    assert f"{holder[backend]} 85 " in text  # 75 exported + the 10 a reset leaves behind
    assert "…and 7 more" in text
    prose = [line for line in lines if not line.lstrip().startswith("syncstate ")]
    assert max(len(line) for line in prose) <= 100  # a command to copy is never wrapped
    for word in ("Traceback", "{'", "TODO", "seed"):
        assert word not in text


def test_a_step_the_back_end_cannot_do_is_skipped_with_the_reason(tour: Any) -> None:
    backend, text, _ = tour
    bundling = next(line for line in text.split("\n\n") if line.startswith("9. Bundling"))
    assert "skipped:" in bundling
    reason = {
        "intacct": "the Sage Intacct back end creates no sales receipts",
        "xero": "the Xero back end creates no sales receipts",
    }
    assert reason[backend] in " ".join(bundling.split())
    assert "updated 1; documents before 50, after 50" in text
    assert "10. Inbound mirror" in text  # the store's part runs on every back end


def test_the_sie_demo_leaves_valid_sie_files_and_says_where(tmp_path: Path) -> None:
    done = _cli("demo", "--backend", "sie", "--dir", str(tmp_path))
    assert done.returncode == 0, done.stderr
    folder = tmp_path / "sie" / "acme-builders"
    files = sorted(folder.glob("*.si"))
    assert files
    assert f"syncstate sie check {folder}/*.si" in done.stdout
    assert f"sie check: {len(files)} files, all valid" in done.stdout
    text = done.stdout
    assert "The SIE files hold 85 vouchers in force" in text
    prose = [line for line in text.splitlines() if not line.lstrip().startswith("syncstate ")]
    assert max(len(line) for line in prose) <= 100
    # no update: the corrected record is reversed and exported again, and bundling is skipped
    steps = {p.split(".")[0]: " ".join(p.split()) for p in text.split("\n\n") if p[:1].isdigit()}
    assert "lacks the 'update' capability" in steps["4"]
    assert "reversed 1, exported 1 again" in steps["4"]
    assert "skipped: the SIE back end creates no customers" in steps["9"]
    assert "lacks the 'update' capability" in steps["9"]
    checked = _cli("sie", "check", *map(str, files), "--json")
    assert checked.returncode == 0, checked.stdout
    assert all(f["valid"] for f in json.loads(checked.stdout)["files"])


@pytest.mark.parametrize("backend", ["intacct", "xero", "sie"])
def test_json_output_parses_and_counts_the_export(backend: str, tmp_path: Path) -> None:
    summary = _demo_json("--backend", backend, "--dir", str(tmp_path))
    assert summary["backend"] == backend and summary["store"] == "sqlite"
    assert summary["states"]["exported"] == 75 and summary["states"]["unlinked"] == 10
    assert summary["first_export"]["exported"] == 50
    assert summary["documents"] == 85
    assert "skipped" in summary["bundling"]
    assert summary["mirror"]["reload_ok"] is True
    if backend == "sie":
        assert summary["sie"]["valid"] is True and summary["sie"]["files"] >= 1


def test_postgres_without_a_dsn_is_refused_with_one_line() -> None:
    done = _cli("demo", "--store", "postgres")
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1 and "--dsn" in done.stderr
    as_json = _cli("demo", "--store", "postgres", "--json")
    assert as_json.returncode == 2
    assert json.loads(as_json.stderr)["exit"] == 2


def test_an_unreachable_postgres_is_one_line_and_exit_1() -> None:
    done = _cli("demo", "--store", "postgres", "--dsn", "postgresql://demo:pw-9@127.0.0.1:1/x")
    assert done.returncode == 1
    assert done.stdout == "" and "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1
    assert "cannot reach PostgreSQL" in done.stderr and "pw-9" not in done.stderr


def test_postgres_without_the_extra_names_the_extra_to_install() -> None:
    code = (
        "import sys; sys.modules['psycopg'] = None; sys.modules['psycopg_pool'] = None\n"
        "from syncstate.cli import main\n"
        "sys.exit(main(['demo', '--store', 'postgres', '--dsn', 'postgresql://x@127.0.0.1:1/y']))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 2
    assert "pip install 'syncstate[postgres]'" in done.stderr
    assert done.stderr.count("\n") == 1


def test_the_postgres_options_need_the_postgres_store() -> None:
    done = _cli("demo", "--schema", "demo_x")
    assert done.returncode == 2 and "--store postgres" in done.stderr


@pytest.fixture
def pg_schemas() -> Iterator[tuple[str, str]]:
    """(a fresh demo schema, another application's schema with a table and a row)."""
    psycopg = pytest.importorskip("psycopg")
    suffix = uuid.uuid4().hex[:10]
    demo, other = f"syncstate_demo_t{suffix}", f"other_app_{suffix}"
    with psycopg.connect(str(PG_DSN), autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {other}")
        conn.execute(f"CREATE TABLE {other}.invoices (id int PRIMARY KEY, total numeric)")
        conn.execute(f"INSERT INTO {other}.invoices VALUES (1, 120.00)")
    try:
        yield demo, other
    finally:
        with psycopg.connect(str(PG_DSN), autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {demo} CASCADE")
            conn.execute(f"DROP SCHEMA IF EXISTS {other} CASCADE")


def _tables(schema: str) -> list[str]:
    import psycopg

    with psycopg.connect(str(PG_DSN)) as conn:
        rows = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s "
            "ORDER BY table_name",
            (schema,),
        ).fetchall()
    return [r[0] for r in rows]


@needs_pg
def test_the_demo_runs_on_postgres_in_its_own_schema_and_reruns(
    pg_schemas: tuple[str, str],
) -> None:
    import psycopg

    demo, other = pg_schemas
    first = _demo_json("--store", "postgres", "--dsn", str(PG_DSN), "--schema", demo)
    assert first["store"] == "postgres" and first["schema"] == demo
    assert first["states"]["exported"] == 75 and first["quickbooks_documents"] == 85
    assert first["bundling"]["exported"] == {"exported": 5}
    assert first["mirror"]["reload_ok"] is True
    made = _tables(demo)
    assert {"records", "journal"} <= set(made)

    # a rerun (DSN from the environment this time) drops and makes only its own schema
    again = _demo_json(
        "--store", "postgres", "--backend", "sie", "--schema", demo,
        env={"SYNCSTATE_DSN": str(PG_DSN)},
    )  # fmt: skip
    assert again["states"]["exported"] == 75 and again["backend"] == "sie"
    assert _tables(demo) == made
    with psycopg.connect(str(PG_DSN)) as conn:
        rows = conn.execute(f"SELECT id, total FROM {other}.invoices").fetchall()
    assert [(i, str(t)) for i, t in rows] == [(1, "120.00")]
    assert _tables(other) == ["invoices"]


@needs_pg
def test_the_demo_never_drops_a_schema_it_did_not_make(pg_schemas: tuple[str, str]) -> None:
    _, other = pg_schemas
    done = _cli("demo", "--store", "postgres", "--dsn", str(PG_DSN), "--schema", other)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "was not made by syncstate demo" in done.stderr
    assert _tables(other) == ["invoices"]
