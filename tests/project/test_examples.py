"""Every script in examples/ runs as a user would run it: no arguments, no network, seconds."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from public_imports import import_problems

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

#: example -> a line its output must contain (the task it shows was done)
KEY_LINES = {
    "first_export.py": "second export: 0 exported",
    "export_week_to_quickbooks.py": "QuickBooks holds 10 TimeActivity documents",
    "reset_and_reexport.py": "the back end holds 25 live documents",
    "bundle_and_export_client.py": "exporting bo again: {'unchanged': 3}",
    "repost_and_diagnose.py": "after repairing those too: 0 findings",
    "clear_and_reload_sie.py": "ok=True, 2 vouchers live",
}

SCRIPTS = sorted(p.name for p in EXAMPLES.glob("*.py"))


def test_every_example_has_a_key_line_to_check() -> None:
    assert SCRIPTS, "no examples found"
    assert set(SCRIPTS) <= set(KEY_LINES), set(SCRIPTS) - set(KEY_LINES)


@pytest.mark.parametrize("name", SCRIPTS)
def test_example_runs_and_writes_only_to_a_temporary_folder(name: str, tmp_path: Path) -> None:
    work, scratch = tmp_path / "cwd", tmp_path / "tmp"
    work.mkdir()
    scratch.mkdir()
    env = {**os.environ, "TMPDIR": str(scratch), "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / name)],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert KEY_LINES[name] in done.stdout, done.stdout
    assert "Traceback" not in done.stderr
    assert list(work.iterdir()) == [] and list(scratch.iterdir()) == []


def test_examples_import_public_names() -> None:
    import nbformat

    problems: list[str] = []
    for name in SCRIPTS:
        problems += import_problems((EXAMPLES / name).read_text(encoding="utf-8"), name)
    notebook = nbformat.read(EXAMPLES / "notebook.ipynb", as_version=4)
    for number, cell in enumerate(notebook.cells):
        if cell.cell_type == "code":
            problems += import_problems(cell.source, f"notebook.ipynb cell {number}")
    assert problems == []
