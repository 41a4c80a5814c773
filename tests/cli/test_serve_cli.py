"""``syncstate serve``: the panel on 127.0.0.1 for one user, behind the printed token."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("uvicorn", reason="syncstate serve needs: pip install 'syncstate[web]'")

import httpx

from syncstate.adapters.storage.sqlite.state import SQLiteStore
from syncstate.cli import main
from web_panel import seed


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "serve.db"
    store = SQLiteStore(path)
    seed(store, "acme", "A")
    store.close()
    return path


def _wait_until_listening(url: str, *, seconds: float = 30.0) -> None:
    """The panel announces its address as it starts: wait for the socket (a busy machine)."""
    port = int(url.split("127.0.0.1:", 1)[1].split("/", 1)[0])
    deadline = time.monotonic() + seconds
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


@pytest.fixture
def served(db: Path) -> Iterator[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "syncstate", "serve", "--db", str(db), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("syncstate panel: http://127.0.0.1:"), process.stderr.read()
        url = line.split(": ", 1)[1].strip()
        _wait_until_listening(url)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_serve_listens_on_loopback_and_lets_in_only_the_token_holder(served: str) -> None:
    origin = served.split("/?")[0]
    assert httpx.get(origin + "/c/acme/results", timeout=10).status_code == 403
    assert httpx.get(origin + "/?token=wrong", timeout=10).status_code == 403
    with httpx.Client(base_url=origin, timeout=10, follow_redirects=True) as browser:
        home = browser.get(served)
        assert home.status_code == 200 and 'href="/c/acme/"' in home.text
        results = browser.get("/c/acme/results?filter=failed")
        assert "Customer A-5 is not mapped" in results.text and "Unlink records" in results.text
        assert browser.get("/c/acme/bundles").status_code == 200  # beside the records


def test_serve_is_a_listed_command_and_a_missing_database_is_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", "--db", str(tmp_path / "none.db"), "--port", "0"]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main([]) == 2  # no command: the help, listing every command
    assert "serve" in capsys.readouterr().out


def test_serve_refuses_the_forgetful_memory_back_end_without_allow_memory(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", "--db", str(db), "--port", "0", "--backend", "memory", "--json"]) == 2
    assert "--allow-memory" in capsys.readouterr().err
