"""examples/notebook.ipynb runs top to bottom in a fresh kernel and shows its results as tables."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

nbclient = pytest.importorskip("nbclient", reason="install the test extra: nbclient")
nbformat = pytest.importorskip("nbformat", reason="install the test extra: nbformat")

NOTEBOOK = Path(__file__).resolve().parents[1] / "examples" / "notebook.ipynb"
KERNEL = "syncstate-test-python"


@pytest.fixture
def kernel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A kernel spec running *this* interpreter, whatever kernels the machine has."""
    spec = tmp_path / "jupyter" / "kernels" / KERNEL
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": "syncstate tests", "language": "python"})
    )
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    return KERNEL


def _html(cell: dict[str, object]) -> str:
    outputs = cell.get("outputs", [])
    assert isinstance(outputs, list)
    return "".join(str(o.get("data", {}).get("text/html", "")) for o in outputs)


def test_notebook_runs_and_shows_every_result_as_a_table(kernel: str, tmp_path: Path) -> None:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        notebook,
        kernel_name=kernel,
        timeout=60,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()  # raises CellExecutionError, with the cell and traceback, on any error

    code = [c for c in notebook.cells if c.cell_type == "code"]
    errors = [o for c in code for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert errors == []
    tables = [_html(c) for c in code]
    shown = "\n".join(tables)
    assert sum("<table" in t for t in tables) >= 6, "export report, results x2, plan, repost x2"
    assert "closed period" in shown  # the failed record, with its message
    assert "NOT removed" in shown  # the reset plan carries its warning
    assert "AR-OUTSTANDING" in shown and "drill-down reposts" in shown
    assert not list(tmp_path.glob("tmp*")), "the notebook left temporary files behind"


def test_notebook_is_committed_without_outputs() -> None:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(notebook)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code)
